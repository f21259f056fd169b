import { transformers } from './transformers_module.js';

/** The transformers.js settings a CLIP load changes for its own duration. */
export interface TransformersEnvOverrides {
  allowRemoteModels?: boolean;
  allowLocalModels?: boolean;
  localModelPath?: string;
  useFSCache?: boolean;
  cacheDir?: string | null;
}

const KEYS = ['allowRemoteModels', 'allowLocalModels', 'localModelPath', 'useFSCache', 'cacheDir'] as const;

let queue: Promise<unknown> = Promise.resolve();

/**
 * Run `fn` with transformers.js's global `env` changed, then put every field back, even on failure.
 *
 * Why: transformers.js reads `env` (not per-call options) to decide whether it may touch the network and
 * where local models live, and `env` is one object for the whole process. A local-folder load must not be
 * able to download, but it must not leave the process offline for the caller either. The settings only
 * matter while files are being fetched — created sessions never read `env` again — so changing them around
 * the load is enough. Loads that go through here are serialised, so two concurrent loads (one local, one
 * from the hub) cannot see each other's settings; code that calls transformers.js directly at the same
 * moment can still see them, which is why the window is kept to the load itself.
 */
export function withTransformersEnv<T>(
  overrides: TransformersEnvOverrides,
  fn: () => Promise<T>,
): Promise<T> {
  const run = async (): Promise<T> => {
    const { env } = await transformers();
    const saved = Object.fromEntries(KEYS.map((k) => [k, env[k]])) as TransformersEnvOverrides;
    for (const k of KEYS) {
      if (overrides[k] !== undefined) (env as unknown as Record<string, unknown>)[k] = overrides[k];
    }
    try {
      return await fn();
    } finally {
      Object.assign(env, saved);
    }
  };
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}
