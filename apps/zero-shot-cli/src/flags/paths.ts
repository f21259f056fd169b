import { createHash } from 'node:crypto';
import { access, constants, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { InputError } from '../errors.js';

/**
 * Paths the commands write to. Writability is checked before any model is loaded, so a typo in `--out`
 * fails in a second instead of after an hour of evaluation.
 */

/** Fails unless `path` can be written: not a folder, its folder exists and is writable. */
export async function checkWritableFile(flag: string, path: string): Promise<string> {
  const abs = resolve(path);
  const info = await stat(abs).catch(() => undefined);
  if (info?.isDirectory()) {
    throw new InputError(
      `${flag}: ${abs} is a folder; pass a file path such as ${join(abs, 'results.json')}.`,
    );
  }
  const target = info ? abs : dirname(abs);
  const parent = info ? undefined : await stat(target).catch(() => undefined);
  if (!info && !parent?.isDirectory()) {
    throw new InputError(
      `${flag}: cannot write ${abs} because the folder ${target} does not exist; create it first.`,
    );
  }
  try {
    await access(target, constants.W_OK);
  } catch {
    throw new InputError(`${flag}: cannot write ${abs} (permission denied); choose a writable location.`);
  }
  return abs;
}

/**
 * Fails unless `path` is, or can be created as, a writable folder: not a file, and its nearest existing
 * ancestor a writable folder. `what` names it in messages (`--work-dir`, `the work dir … (from --out)`).
 */
export async function checkWritableFolder(what: string, path: string): Promise<string> {
  const abs = resolve(path);
  let probe = abs;
  for (;;) {
    const info = await stat(probe).catch(() => undefined);
    if (info !== undefined) {
      if (!info.isDirectory()) {
        const why =
          probe === abs
            ? `${abs} is a file, not a folder`
            : `${probe} is a file, so ${abs} cannot be created`;
        throw new InputError(`${what}: ${why}; pass a folder path.`);
      }
      try {
        await access(probe, constants.W_OK);
      } catch {
        throw new InputError(
          `${what}: cannot write in ${probe} (permission denied); choose a writable folder.`,
        );
      }
      return abs;
    }
    const parent = dirname(probe);
    if (parent === probe) return abs;
    probe = parent;
  }
}

/** Where built zero-shot classifiers are cached: `$XDG_CACHE_HOME/moevl/classifiers` or `~/.cache/...`. */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'moevl', 'classifiers');
}

/**
 * The folder a resumable evaluation keeps its partial results in: `--work-dir`, else next to `--out`
 * (`results.json` → `results.work`), else a folder in the cache named by a hash of everything that
 * determines the result, so re-running the same command line finds it again. `undefined` when none can
 * be derived (no `--out` and the cache is off).
 */
export function resolveWorkDir(opts: {
  workDir?: string;
  out?: string;
  cacheDir: string | null;
  key: unknown;
}): string | undefined {
  if (opts.workDir !== undefined) return resolve(opts.workDir);
  if (opts.out !== undefined) {
    const abs = resolve(opts.out);
    return abs.slice(0, abs.length - extname(abs).length) + '.work';
  }
  if (opts.cacheDir === null) return undefined;
  const hash = createHash('sha256').update(JSON.stringify(opts.key)).digest('hex').slice(0, 16);
  return join(opts.cacheDir, 'runs', hash);
}
