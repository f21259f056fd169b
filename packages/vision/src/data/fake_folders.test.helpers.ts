import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { isDatasetError } from './dataset_error.js';
import type { DatasetError } from './dataset_error.js';

/**
 * Test helpers: generated dataset folders in the OS temp dir, filled with tiny but valid PNG/JPEG
 * files (made with sharp) and, where a test wants one, a corrupt JPEG. The loaders under test never
 * decode, so the bytes only matter to show that a corrupt file is listed like any other.
 * (Named `*.test.helpers.ts`: not a test file for vitest, and left out of the published package.)
 */

let images: { png: Buffer; jpeg: Buffer } | undefined;

export async function tinyImages(): Promise<{ png: Buffer; jpeg: Buffer }> {
  if (!images) {
    const raw = { raw: { width: 2, height: 2, channels: 3 as const } };
    const pixels = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
    images = {
      png: await sharp(pixels, raw).png().toBuffer(),
      jpeg: await sharp(pixels, raw).jpeg().toBuffer(),
    };
  }
  return images;
}

/** Bytes that claim to be a JPEG (SOI marker) and are not: listing must not care. */
export const CORRUPT_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x42, 0x41, 0x44]);

const made: string[] = [];

/** A fresh temp folder, removed by `removeTempFolders`. */
export async function tempFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'moevl-data-'));
  made.push(dir);
  return dir;
}

export async function removeTempFolders(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/**
 * Writes files under `root`: keys are relative paths, values are contents; a key ending in `/` makes
 * an empty folder. `'jpeg'` and `'png'` write a tiny valid image of that format.
 */
export async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<string> {
  const { png, jpeg } = await tinyImages();
  const entries = Object.entries(files);
  const dirs = new Set(
    entries.map(([rel]) => (rel.endsWith('/') ? join(root, rel) : dirname(join(root, rel)))),
  );
  await Promise.all([...dirs].map((d) => mkdir(d, { recursive: true })));
  const writes = entries.filter(([rel]) => !rel.endsWith('/'));
  for (let at = 0; at < writes.length; at += 256) {
    // In batches: tens of thousands of parallel writes run out of file descriptors.
    await Promise.all(
      writes
        .slice(at, at + 256)
        .map(([rel, content]) =>
          writeFile(join(root, rel), content === 'jpeg' ? jpeg : content === 'png' ? png : content),
        ),
    );
  }
  return root;
}

/** A temp folder with these files. */
export async function fakeDataset(files: Record<string, string | Buffer>): Promise<string> {
  return writeTree(await tempFolder(), files);
}

/** `{ 'a/x.JPEG': 'jpeg', ... }` for `count` images in each of `folders`. */
export function imagesIn(folders: readonly string[], count = 1, ext = 'JPEG'): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of folders) for (let i = 0; i < count; i++) files[`${f}/img_${i}.${ext}`] = 'jpeg';
  return files;
}

/** ImageNet validation file name of image `i` (1-based). */
export function valName(i: number, ext = '.JPEG'): string {
  return `ILSVRC2012_val_${String(i).padStart(8, '0')}${ext}`;
}

/** The DatasetError a promise rejects with (fails the test if it resolves or throws anything else). */
export async function datasetErrorOf(promise: Promise<unknown>): Promise<DatasetError> {
  try {
    await promise;
  } catch (error) {
    if (isDatasetError(error)) return error;
    throw new Error(`expected a DatasetError, got: ${String(error)}`, { cause: error });
  }
  throw new Error('expected a DatasetError, but the promise resolved');
}

/** Makes a FIFO with mkfifo(1); false where the platform cannot (Windows, no mkfifo). */
export function makeFifo(path: string): boolean {
  try {
    execFileSync('mkfifo', [path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const NOBODY = 65534;

/**
 * Why permission tests cannot run here, or undefined when `asUnprivileged` works. As root, file
 * permissions do not apply (CAP_DAC_OVERRIDE), so the tests switch the effective user to `nobody`, which
 * needs POSIX ids and CAP_SETUID.
 */
export function unprivilegedUnavailable(): string | undefined {
  if (typeof process.geteuid !== 'function' || typeof process.seteuid !== 'function') {
    return 'this platform has no POSIX user ids (chmod does not make a file unreadable here)';
  }
  if (process.geteuid() !== 0) return undefined;
  try {
    process.setegid!(NOBODY);
    process.seteuid(NOBODY);
    process.seteuid(0);
    process.setegid!(0);
    return undefined;
  } catch (err) {
    return `running as root without the right to switch to user nobody (${(err as Error).message})`;
  }
}

/**
 * Runs `fn` as a user that file permissions apply to: unchanged for a non-root user; for root, with the
 * effective user and group switched to nobody (65534) and no supplementary groups until `fn` settles.
 * glibc applies the switch to every thread, so libuv's pool (where fs calls run) sees it too. Folders the
 * test makes must be world-readable (`sharedTempFolder`) for nobody to get in.
 */
export async function asUnprivileged<T>(fn: () => Promise<T>): Promise<T> {
  if (process.geteuid?.() !== 0) return fn();
  const groups = process.getgroups!();
  process.setgroups!([]);
  process.setegid!(NOBODY);
  process.seteuid!(NOBODY);
  try {
    return await fn();
  } finally {
    process.seteuid!(0);
    process.setegid!(0);
    process.setgroups!(groups);
  }
}

/** A fresh temp folder that other users may enter (mkdtemp makes it 0700), removed afterwards. */
export async function sharedTempFolder(): Promise<string> {
  const dir = await tempFolder();
  await chmod(dir, 0o755);
  return dir;
}
