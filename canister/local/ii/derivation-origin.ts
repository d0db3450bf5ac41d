// II's alternative origins: a frontend may ask for the principals of another
// origin (`derivationOrigin`) only if that origin lists it in
// `/.well-known/ii-alternative-origins`. Same rule here, so an app that
// works with the development provider works with II.

export class DerivationOriginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerivationOriginError';
  }
}

export const ALTERNATIVE_ORIGINS_PATH = '/.well-known/ii-alternative-origins';
/** II accepts at most this many alternative origins. */
export const MAX_ALTERNATIVE_ORIGINS = 10;

/** The origin whose principals `origin` gets: itself, or an accepted `derivationOrigin`. */
export async function resolveDerivationOrigin(
  origin: string,
  derivationOrigin: string | undefined,
  fetchFn: typeof fetch = fetch,
): Promise<string> {
  if (derivationOrigin === undefined || derivationOrigin === origin) return origin;
  const fail = (why: string): never => {
    throw new DerivationOriginError(`"${derivationOrigin}" is not a valid derivation origin for "${origin}": ${why}`);
  };
  let listed: unknown;
  try {
    const r = await fetchFn(new URL(ALTERNATIVE_ORIGINS_PATH, derivationOrigin), { redirect: 'error', signal: AbortSignal.timeout(5000) });
    if (!r.ok) fail(`${ALTERNATIVE_ORIGINS_PATH} answered ${r.status}`);
    listed = await r.json();
  } catch (error) {
    if (error instanceof DerivationOriginError) throw error;
    fail(`could not read ${ALTERNATIVE_ORIGINS_PATH} (${error instanceof Error ? error.message : String(error)})`);
  }
  const origins = (listed as { alternativeOrigins?: unknown } | null)?.alternativeOrigins;
  if (!Array.isArray(origins) || !origins.every((o) => typeof o === 'string')) fail('resource has no alternativeOrigins list');
  if ((origins as string[]).length > MAX_ALTERNATIVE_ORIGINS) fail(`more than ${MAX_ALTERNATIVE_ORIGINS} alternative origins`);
  if (!(origins as string[]).includes(origin)) fail(`"${origin}" is not listed`);
  return derivationOrigin;
}
