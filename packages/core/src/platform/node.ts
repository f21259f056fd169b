import { createRequire } from 'node:module';
import { availableParallelism, totalmem } from 'node:os';
import type { CorePlatform } from './platform.js';

const require = createRequire(import.meta.url);

/** Core on Node.js (the `default` target of `#platform`). */
export const platform: CorePlatform = {
  name: 'node',
  env: (name) => process.env[name],
  cores: () => availableParallelism(),
  totalMemory: () => totalmem(),
  requirePackage: (pkg) => require(pkg),
  async importOptional(pkg) {
    // Package names live in variables so bundlers and tsc do not try to resolve optional packages.
    try {
      require.resolve(pkg);
    } catch (err) {
      throw Object.assign(new Error(`${pkg} is not installed`), { code: 'MODULE_NOT_FOUND', cause: err });
    }
    return import(/* @vite-ignore */ pkg);
  },
  writeError: (text) => void process.stderr.write(text),
};
