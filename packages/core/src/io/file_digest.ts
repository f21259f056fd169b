import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic_write.js';

/**
 * Content hashes of model files, so caches and resumable runs are keyed by what a file holds rather than
 * by its path (a model retrained into the same path must never reuse the old model's cached classifier or
 * partial predictions). Files are streamed, never read whole; the digest is remembered by (path, size,
 * mtime, inode) in a small index, so a large file is hashed once until it changes.
 */

const INDEX_FORMAT = 'moevl-file-digests/1';

interface IndexEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

/** sha256 (hex) of a file's bytes, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await new Promise<void>((done, fail) => {
    const stream = createReadStream(path);
    stream.on('data', (chunk) => hash.update(chunk));
    stream.on('error', fail);
    stream.on('end', () => done());
  });
  return hash.digest('hex');
}

async function readIndex(file: string): Promise<Record<string, IndexEntry>> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { format?: string; files?: unknown };
    if (parsed.format === INDEX_FORMAT && typeof parsed.files === 'object' && parsed.files !== null) {
      return parsed.files as Record<string, IndexEntry>;
    }
  } catch {
    // Missing or damaged: start over (it is only a cache).
  }
  return {};
}

/**
 * sha256 of each file, from `cacheDir/file-digests.json` when the file's size, mtime and inode are unchanged,
 * else hashed and remembered. `cacheDir` null: always hash. Index write failures are ignored.
 */
export async function fileDigests(
  paths: readonly string[],
  options: { cacheDir?: string | null } = {},
): Promise<Record<string, string>> {
  const indexFile = options.cacheDir ? join(options.cacheDir, 'file-digests.json') : null;
  const index = indexFile ? await readIndex(indexFile) : {};
  let changed = false;
  const out: Record<string, string> = {};
  for (const p of paths) {
    const path = resolve(p);
    const info = await stat(path);
    const known = index[path];
    if (known && known.size === info.size && known.mtimeMs === info.mtimeMs && known.ino === info.ino) {
      out[p] = known.sha256;
      continue;
    }
    const sha256 = await sha256File(path);
    index[path] = { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino, sha256 };
    out[p] = sha256;
    changed = true;
  }
  if (indexFile && changed) {
    try {
      await mkdir(dirname(indexFile), { recursive: true });
      await writeFileAtomic(indexFile, JSON.stringify({ format: INDEX_FORMAT, files: index }) + '\n');
    } catch {
      // A read-only cache only costs re-hashing next time.
    }
  }
  return out;
}
