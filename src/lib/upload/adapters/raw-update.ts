// An update call whose Candid argument is already encoded (put_chunk's, see
// put-chunk-arg.ts), through the actor's own agent. agent-js's Actor always
// runs IDL.encode on the values; HttpAgent.call takes raw bytes but leaves
// the answer to the caller. This does what the actor does after its
// IDL.encode (@dfinity/agent 3.x, actor.js `_createActorMethod`): verify the
// v3 certificate, read the request's status from it, fall back to polling on
// 202, and throw the same agent errors (RejectError with a certified or
// uncertified reject code, UnknownError), so the engine classifies failures
// exactly as for any other call.
import {
  Actor,
  Certificate,
  CertifiedRejectErrorCode,
  ExternalError,
  HttpAgent,
  isV2ResponseBody,
  isV3ResponseBody,
  lookupResultToBuffer,
  MissingRootKeyErrorCode,
  pollForResponse,
  RejectError,
  UncertifiedRejectUpdateErrorCode,
  UnexpectedErrorCode,
  UnknownError,
  type ActorSubclass,
} from '@dfinity/agent';
import { IDL } from '@dfinity/candid';

const utf8 = new TextEncoder();
const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

/** Calls update `methodName` of the actor's canister with `arg` (encoded Candid) and decodes its single return value. */
export async function callWithEncodedArg<T>(actor: ActorSubclass<unknown>, methodName: string, arg: Uint8Array): Promise<T> {
  const agent = Actor.agentOf(actor);
  if (!(agent instanceof HttpAgent)) throw new Error('an update with an encoded argument needs the actor to have an HttpAgent');
  const func = Actor.interfaceOf(actor)._fields.find(([name]) => name === methodName)?.[1];
  if (!func) throw new Error(`the actor's interface has no method ${methodName}`);
  const canisterId = Actor.canisterIdOf(actor);
  const { requestId, response } = await agent.call(canisterId, { methodName, arg, effectiveCanisterId: canisterId });
  const callContext = { canisterId, methodName, httpDetails: response };
  let reply: Uint8Array | undefined;
  if (isV3ResponseBody(response.body)) {
    if (agent.rootKey == null) throw ExternalError.fromCode(new MissingRootKeyErrorCode());
    const certificate = await Certificate.create({ certificate: response.body.certificate, rootKey: agent.rootKey, canisterId, agent });
    const path = [utf8.encode('request_status'), requestId];
    const status = text(lookupResultToBuffer(certificate.lookup_path([...path, 'status'])));
    if (status === 'replied') {
      reply = lookupResultToBuffer(certificate.lookup_path([...path, 'reply']));
    } else if (status === 'rejected') {
      const rejectCode = new Uint8Array(lookupResultToBuffer(certificate.lookup_path([...path, 'reject_code']))!)[0];
      const rejectMessage = text(lookupResultToBuffer(certificate.lookup_path([...path, 'reject_message'])));
      const errorCode = lookupResultToBuffer(certificate.lookup_path([...path, 'error_code']));
      const code = new CertifiedRejectErrorCode(requestId, rejectCode, rejectMessage, errorCode ? text(errorCode) : undefined);
      code.callContext = callContext;
      throw RejectError.fromCode(code);
    }
  } else if (isV2ResponseBody(response.body)) {
    const { reject_code, reject_message, error_code } = response.body;
    const code = new UncertifiedRejectUpdateErrorCode(requestId, reject_code, reject_message, error_code);
    code.callContext = callContext;
    throw RejectError.fromCode(code);
  }
  if (response.status === 202) reply = (await pollForResponse(agent, canisterId, requestId)).reply;
  if (reply === undefined) {
    const code = new UnexpectedErrorCode(`Call was returned undefined. We cannot determine if the call was successful or not. Return types: [${func.retTypes.map((t) => t.display()).join(',')}].`);
    code.callContext = callContext;
    throw UnknownError.fromCode(code);
  }
  return IDL.decode(func.retTypes, reply)[0] as T;
}
