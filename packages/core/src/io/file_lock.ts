import { readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';

/**
 * Advisory lock files for work dirs and cache entries being written: `path` holds the pid, host and start
 * time of the holder. A second process finds it and either waits (`waitMs`) or fails with `FileLockedError`
 * naming the holder. A lock whose holder is gone is taken over: on the same host when its pid no longer
 * runs, on another host (shared file systems) when the file is older than `staleMs`. Locks are released
 * on `release()` and, as a last resort, when the process exits.
 */

export interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

export class FileLockedError extends Error {
  override readonly name = 'FileLockedError';
  constructor(
    readonly path: string,
    readonly holder: LockHolder,
    message: string,
  ) {
    super(message);
  }
}

export interface FileLock {
  readonly path: string;
  /** True when an earlier holder's stale lock was taken over. */
  readonly tookOverStale: LockHolder | null;
  release(): Promise<void>;
}

export interface AcquireLockOptions {
  /** How long to wait for a live holder, polling; 0 (default) fails at once. */
  waitMs?: number;
  /** Poll interval while waiting. Default 200 ms. */
  pollMs?: number;
  /** A lock from another host older than this is stale. Default 24 h. */
  staleMs?: number;
  /** What is locked, for the error message (default: the lock file). */
  label?: string;
}

const held = new Set<string>();
let exitHook = false;

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<LockHolder | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host, since: String(parsed.since ?? '?') };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
  }
  // Unreadable or half-written: treat as held by nobody we can name.
  return { pid: -1, host: '?', since: '?' };
}

async function isStale(path: string, holder: LockHolder, staleMs: number): Promise<boolean> {
  if (holder.host === hostname()) return holder.pid < 0 || !pidRuns(holder.pid);
  const info = await stat(path).catch(() => null);
  return info === null || Date.now() - info.mtimeMs > staleMs;
}

/** Takes the lock file `path` for this process (see the module comment). */
export async function acquireLock(path: string, options: AcquireLockOptions = {}): Promise<FileLock> {
  const me: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const deadline = Date.now() + (options.waitMs ?? 0);
  const staleMs = options.staleMs ?? 24 * 3600_000;
  let tookOverStale: LockHolder | null = null;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(JSON.stringify(me) + '\n');
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readHolder(path);
    if (holder === null) continue; // released in between
    if (await isStale(path, holder, staleMs)) {
      tookOverStale = holder;
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      const what = options.label ?? path;
      throw new FileLockedError(
        path,
        holder,
        `${what} is in use by process ${holder.pid} on ${holder.host} (since ${holder.since}); wait for it ` +
          `to finish, or remove ${path} if that process is gone.`,
      );
    }
    await new Promise((done) => setTimeout(done, options.pollMs ?? 200));
  }
  held.add(path);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const p of held) {
        try {
          if ((JSON.parse(readFileSync(p, 'utf8')) as LockHolder).pid === process.pid) unlinkSync(p);
        } catch {
          // already gone
        }
      }
    });
  }
  return {
    path,
    tookOverStale,
    async release() {
      if (!held.delete(path)) return;
      const holder = await readHolder(path);
      if (holder?.pid === me.pid && holder.host === me.host) await rm(path, { force: true });
    },
  };
}
