import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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
 * symlink at `path` is replaced by a regular file rather than written through.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
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
