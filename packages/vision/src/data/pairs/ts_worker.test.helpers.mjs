// Test helper (not published, not a test): runs a TypeScript worker module in a worker thread, as vitest
// cannot. `new Worker(new URL('./ts_worker.test.helpers.mjs', import.meta.url), { workerData: { entry,
// data } })` registers a loader that transpiles `.ts` files with the project's TypeScript (and resolves
// `./x.js` imports to `./x.ts`), then imports `entry` with `workerData` set to `data`.
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';

register(new URL('./ts_loader.test.helpers.mjs', import.meta.url));
const { entry, data } = workerData;
// the entry reads workerData: hand it the data it expects
Object.assign(workerData, { entry: undefined, data: undefined }, data);
await import(entry);
