import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { readEvalResult, shardCoverage } from '@moevl/vision';
import type { ZeroShotEvalResult } from '@moevl/vision';
import { InputError, UsageError } from '../errors.js';

/**
 * The inputs of `zero-shot merge`: files, globs and folders, expanded here rather than by a shell (a
 * Kubernetes container's args and some sbatch setups have none, and a quoted glob also finds the files
 * that appear while `--wait` polls). Results are read once per file version (path, size, mtime), so polling
 * a folder of large shard files costs only a directory listing.
 */

export interface CollectedShards {
  /** The files read, as named in messages (the argument's folder joined with the file name). */
  names: string[];
  parts: ZeroShotEvalResult[];
  /** Files skipped in a folder argument (not results, or not shard results), for the log. */
  skipped: string[];
  /** Arguments that matched nothing yet (a missing file, a glob or folder without a shard). */
  unmatched: string[];
}

const GLOB_CHARS = /[*?[]/;

/** A basename glob (`*`, `?`, `[abc]`, `[!abc]`) as a regular expression. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        source += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith('!');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** One argument: a file, a glob (wildcards in the file name only) or a folder (its `*.json` files). */
type Input =
  | { kind: 'file'; arg: string; path: string }
  | { kind: 'glob' | 'folder'; arg: string; dir: string; match: RegExp; dotfiles: boolean };

async function classify(arg: string): Promise<Input> {
  if (GLOB_CHARS.test(arg)) {
    const dir = dirname(arg);
    if (GLOB_CHARS.test(dir)) {
      throw new UsageError(
        `merge: only the file name of "${arg}" may hold wildcards, not its folders; e.g. 'runs/a/results-*.json'.`,
      );
    }
    const name = basename(arg);
    return { kind: 'glob', arg, dir, match: globToRegExp(name), dotfiles: name.startsWith('.') };
  }
  const info = await stat(arg).catch(() => undefined);
  if (info?.isDirectory()) return { kind: 'folder', arg, dir: arg, match: /\.json$/, dotfiles: false };
  return { kind: 'file', arg, path: arg };
}

async function listMatching(dir: string, match: RegExp, dotfiles: boolean): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new InputError(`merge: cannot list ${dir} (${(err as Error).message}).`);
  }
  // Atomic writes leave `.results-0.json.<pid>.<hex>.tmp` beside the file: hidden names are never shards.
  return names
    .filter((n) => (dotfiles || !n.startsWith('.')) && match.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** Reads shard results, remembering each file version so polling does not re-read unchanged files. */
export class ShardCollector {
  private readonly seen = new Map<string, { key: string; result: ZeroShotEvalResult | Error }>();
  private readonly inputs: Promise<Input[]>;

  constructor(
    args: readonly string[],
    private readonly options: { exclude?: string; missingFilesWait?: boolean } = {},
  ) {
    this.inputs = Promise.all(args.map(classify));
  }

  private async read(path: string): Promise<ZeroShotEvalResult | Error | undefined> {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) return undefined;
    const key = `${info.size}:${info.mtimeMs}:${info.ino}`;
    const known = this.seen.get(path);
    if (known?.key === key) return known.result;
    const result = await readEvalResult(path).catch((err: Error) => err);
    this.seen.set(path, { key, result });
    return result;
  }

  /** Every input as it is now. Bad files named explicitly or by a glob fail; in folders they are skipped. */
  async collect(): Promise<CollectedShards> {
    const out: CollectedShards = { names: [], parts: [], skipped: [], unmatched: [] };
    const exclude = this.options.exclude === undefined ? undefined : resolve(this.options.exclude);
    const taken = new Set<string>();
    for (const input of await this.inputs) {
      const paths =
        input.kind === 'file' ? [input.path] : await listMatching(input.dir, input.match, input.dotfiles);
      let found = 0;
      for (const path of paths) {
        const abs = resolve(path);
        if (abs === exclude || taken.has(abs)) continue;
        const result = await this.read(path);
        if (result === undefined) {
          if (input.kind === 'file' && !this.options.missingFilesWait) {
            await readEvalResult(path); // throws the library's "no such file" message
          }
          continue;
        }
        if (input.kind === 'folder' && (result instanceof Error || result.shard === undefined)) {
          out.skipped.push(
            `${path} (${result instanceof Error ? 'not a result file' : 'a result, but not of a shard'})`,
          );
          continue;
        }
        if (result instanceof Error) throw result;
        taken.add(abs);
        out.names.push(path);
        out.parts.push(result);
        found++;
      }
      if (found === 0) out.unmatched.push(input.kind === 'folder' ? `the folder ${input.arg}` : input.arg);
    }
    return out;
  }
}

/**
 * Whether the collection holds a whole run: every index of the first shard's count (duplicates and
 * shards of other runs are the merge's to report). Unsharded results count as complete, for the same reason.
 */
export function isComplete(shards: CollectedShards): boolean {
  if (shards.parts.length === 0) return false;
  if (shards.parts.some((p) => p.shard === undefined)) return true;
  return shardCoverage(shards.parts.map((p) => p.shard)).missing.length === 0;
}
