// Entry of the local IC's query thread: registers tsx's ESM loader for the
// thread (workers do not inherit the parent's loader hooks; see
// worker-entry.mjs), then loads the query worker.
const { register } = await import('tsx/esm/api');
register();
await import('./query-worker.ts');
