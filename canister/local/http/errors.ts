// A request the HTTP interface refuses before any canister sees it: the IC
// answers these with a plain-text body and a 4xx status. The agent recognises
// some by their text (`Invalid request expiry: ` makes it resync its clock).

export class HttpRejection extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 405 | 413 | 415 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'HttpRejection';
  }
}
