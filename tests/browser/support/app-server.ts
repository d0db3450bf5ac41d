// Runs the browser suites' app stack in its own process: the local IC
// executes canister messages synchronously, and in the test process that
// would stall Playwright's event loop for the length of an upload. Prints
// `{"origin","canisterId"}` on one line when listening; SIGTERM stops it.
import { startAppStack } from './app-stack';

const stack = await startAppStack();
process.stdout.write(`${JSON.stringify({ origin: stack.origin, canisterId: stack.canisterId })}\n`);
const stop = async () => {
  await stack.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
