// Entry of the local IC's worker thread. The worker's code is TypeScript and
// a worker does not get its parent's module loader hooks: not under vitest,
// and not under `tsx` either (tsx's inherited --import flags do not make .ts
// loadable in a worker). So this plain-JS entry registers tsx's ESM loader
// for the thread, then loads the worker. Measured: works under `tsx`,
// `node --import tsx` and vitest's forks.
const { register } = await import('tsx/esm/api');
register();
await import('./worker.ts');
