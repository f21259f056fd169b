import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Temp files being written by this process, removed if it exits mid-write. */
const inFlight = new Set<string>();
let exitHook = false;

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes `.<name>.<pid>.<hex>.tmp` files next to `path` left by processes that no longer run (a write
 * interrupted by a kill): a checkpoint's temp file can be tens of MB, and nothing else would delete it.
 */
async function removeStaleTemps(dir: string, name: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const prefix = `.${name}.`;
  for (const n of names) {
    if (!n.startsWith(prefix) || !n.endsWith('.tmp')) continue;
    const m = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(n.slice(prefix.length));
    if (m && Number(m[1]) !== process.pid && !pidRuns(Number(m[1]))) {
      await rm(join(dir, n), { force: true }).catch(() => undefined);
    }
  }
}

/**
 * Writes `data` to `path` so that readers (and a crash at any moment) see either the old file whole or the
 * new file whole, never a truncated mix: checkpoints and partial results are written while long runs may be
 * killed, and a half-written checkpoint would be worse than none.
 *
 * How: the bytes go to a temp file in the *same directory* (a rename is only atomic within one file
 * system), named with the pid and random bytes so concurrent writers never share one; the temp is fsynced
 * (otherwise the rename may reach disk before the data) and then renamed over the target. The directory is
 * fsynced afterwards so the rename itself survives a power loss (best effort: not every platform can fsync
 * a directory). On any failure the temp file is removed and the error names the target path.
 *
 * The new file gets default permissions (0o666 minus the umask), not those of the file it replaces, and a
 * symlink at `path` is replaced by a regular file rather than written through. Temp files of writes that
 * were interrupted (the process was killed) are removed by the next write to the same path, and a process
 * that exits mid-write removes its own.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await removeStaleTemps(dir, basename(path));
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const t of inFlight) {
        try {
          unlinkSync(t);
        } catch {
          // already renamed or removed
        }
      }
    });
  }
  inFlight.add(temp);
  let handle: FileHandle | undefined;
  try {
    // 'wx' fails rather than clobbering if the temp name somehow exists already.
    handle = await open(temp, 'wx');
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    const reason = err instanceof Error ? err.message : String(err);
    const wrapped = new Error(`could not write ${path}: ${reason}`, { cause: err });
    // Keep the errno code so callers can still branch on e.g. ENOENT.
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string') Object.assign(wrapped, { code });
    throw wrapped;
  } finally {
    inFlight.delete(temp);
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows cannot open or fsync directories; the data itself is already synced, so this is not fatal.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
