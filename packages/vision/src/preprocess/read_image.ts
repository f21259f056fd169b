import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { describeFsError, ImagePreprocessError, type ImageSource } from './errors.js';

/**
 * Reading an image file safely before it is decoded. Only a regular file is read, and only up to a size
 * limit, because a data folder can hold anything: a FIFO blocks a read until a writer comes (forever),
 * `/dev/zero` never ends, and one 20 GB file exhausts memory before any decoder sees it. The checks run on
 * the opened descriptor (`fstat`), not on an earlier listing, so a file swapped for a FIFO after the folder
 * was scanned is refused too.
 *
 * Reads are asynchronous (libuv's thread pool), never on the calling thread: a synchronous read that
 * blocks (a FIFO, a stalled network mount) also blocks the event loop, and with it the SIGINT/SIGTERM
 * handlers, so the process could not even be stopped. That costs three round trips through the pool per
 * image (open, fstat, read) where `readFileSync` was one call on the main thread; `prepareBatch` hides
 * them by reading each worker's next image while the current one decodes.
 */

/** 256 MiB: far above any photo of the usual evaluation sets, far below what exhausts a machine. */
export const DEFAULT_MAX_IMAGE_BYTES = 256 * 2 ** 20;

export interface ReadImageOptions {
  /** Files (and buffers) larger than this are refused before anything is read (default 256 MiB). */
  maxBytes?: number;
  /** Stops the read: it rejects with the signal's reason between two chunks, before any decode. */
  signal?: AbortSignal;
}

/** The limit to use: `maxBytes`, or the default; anything but a positive number is a RangeError. */
export function resolveMaxImageBytes(maxBytes: number | undefined): number {
  const limit = maxBytes ?? DEFAULT_MAX_IMAGE_BYTES;
  if (!(limit >= 1)) {
    throw new RangeError(`maxImageBytes must be a number of bytes ≥ 1, got ${String(maxBytes)}`);
  }
  return limit;
}

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before fstat can refuse it.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
/** Read in chunks so that an abort is noticed within one chunk. */
const CHUNK_BYTES = 16 * 2 ** 20;

function notRegular(info: Stats): string {
  if (info.isDirectory()) return 'is a directory';
  const kind = info.isFIFO()
    ? 'a FIFO'
    : info.isSocket()
      ? 'a socket'
      : info.isCharacterDevice()
        ? 'a character device'
        : info.isBlockDevice()
          ? 'a block device'
          : 'a special file';
  return `not a regular file (${kind}), so it was not read`;
}

function tooLarge(bytes: number, limit: number): string {
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(n < 2 ** 20 ? 3 : 1)} MiB`;
  return (
    `${bytes.toLocaleString('en-US')} bytes (${mib(bytes)}), over the per-image limit of ` +
    `${limit.toLocaleString('en-US')} bytes (${mib(limit)}); raise maxImageBytes to read it`
  );
}

function checkImageBytes(source: ImageSource, bytes: number, maxBytes: number): void {
  if (bytes > maxBytes) throw new ImagePreprocessError(source, tooLarge(bytes, maxBytes));
}

/** The encoded bytes of a source: a path read by `readImageFile`, or a buffer within `maxBytes`. */
export async function readImageSource(
  source: ImageSource,
  options: ReadImageOptions = {},
): Promise<Uint8Array> {
  if (typeof source === 'string') return readImageFile(source, options);
  options.signal?.throwIfAborted();
  checkImageBytes(source, source.length, resolveMaxImageBytes(options.maxBytes));
  return source;
}

/**
 * The bytes of one image file: a regular file (symbolic links to one are fine) no larger than
 * `maxBytes`. Throws `ImagePreprocessError` naming the path for a missing, unreadable, special or too
 * large file, and the signal's reason when aborted.
 */
export async function readImageFile(path: string, options: ReadImageOptions = {}): Promise<Uint8Array> {
  const maxBytes = resolveMaxImageBytes(options.maxBytes);
  const { signal } = options;
  signal?.throwIfAborted();
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    throw new ImagePreprocessError(path, describeFsError(err), { cause: err });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new ImagePreprocessError(path, notRegular(info));
    checkImageBytes(path, info.size, maxBytes);
    const bytes = Buffer.allocUnsafe(info.size);
    let filled = 0;
    while (filled < bytes.length) {
      signal?.throwIfAborted();
      const want = Math.min(CHUNK_BYTES, bytes.length - filled);
      const { bytesRead } = await handle.read(bytes, filled, want, filled);
      if (bytesRead === 0) break; // the file shrank since fstat: decode what is there
      filled += bytesRead;
    }
    signal?.throwIfAborted();
    return filled === bytes.length ? bytes : bytes.subarray(0, filled);
  } catch (err) {
    if (err instanceof ImagePreprocessError || signal?.aborted) throw err;
    throw new ImagePreprocessError(path, describeFsError(err), { cause: err });
  } finally {
    // Not awaited: the bytes are ready, and the close is one more trip through the pool.
    handle.close().catch(() => undefined);
  }
}
