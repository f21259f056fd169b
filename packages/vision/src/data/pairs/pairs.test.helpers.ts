import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import tar from 'tar-stream';
import { expect } from 'vitest';
import { CORRUPT_JPEG } from '../fake_folders.test.helpers.js';
import type { ImageCaptionBatch, ImageCaptionSource, ImageCaptionSourceSpec } from './types.js';

/**
 * Test data made at test time: small distinct photos-ish images (PNG and JPEG) made with sharp, a corrupt
 * JPEG, and WebDataset shards written with tar-stream's packer. (A `*.test.helpers.ts` file: not a test
 * for vitest, and not published.)
 */

export { CORRUPT_JPEG };

/** A `w×h` RGB image whose pixels depend on `seed` (gradients plus a disc), so crops differ visibly. */
export async function makeImage(
  seed: number,
  format: 'png' | 'jpeg',
  w = 48,
  h = 40,
  channels: 1 | 3 = 3,
): Promise<Buffer> {
  const px = Buffer.alloc(w * h * channels);
  const cx = (seed * 13) % w;
  const cy = (seed * 7) % h;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const disc = (x - cx) ** 2 + (y - cy) ** 2 < 64;
      for (let c = 0; c < channels; c++) {
        const v = disc ? (seed * 50 + c * 80) % 256 : (x * (c + 1) * 5 + y * 3 + seed * 37) % 256;
        px[(y * w + x) * channels + c] = v;
      }
    }
  }
  const img = sharp(px, { raw: { width: w, height: h, channels } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 90 }).toBuffer();
}

/** Writes `files` (relative path → content) under `root`. */
export async function writeFiles(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, content);
  }
}

/**
 * A tar file of `entries` in order, written with tar-stream. `truncate` cuts the file to that many bytes
 * (negative: that many bytes before the end).
 */
export async function writeTar(
  path: string,
  entries: ReadonlyArray<[string, string | Buffer]>,
  truncate?: number,
): Promise<void> {
  const pack = tar.pack();
  for (const [name, body] of entries)
    pack.entry({ name }, typeof body === 'string' ? Buffer.from(body) : body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  const all = Buffer.concat(chunks);
  await mkdir(dirname(path), { recursive: true });
  await pipeline(async function* () {
    yield truncate === undefined ? all : all.subarray(0, truncate < 0 ? all.length + truncate : truncate);
  }, createWriteStream(path));
}

/** Small images for fast tests: 32 px, CLIP mean/std. */
export const SMALL: ImageCaptionSourceSpec['preprocess'] = { size: 32, cropSize: 32 };

/** Every batch of a source until it ends (or `limit` batches). */
export async function drain(
  source: ImageCaptionSource,
  batchSize: number,
  limit = 1000,
): Promise<ImageCaptionBatch[]> {
  const out: ImageCaptionBatch[] = [];
  for (let i = 0; i < limit; i++) {
    const b = await source.next(batchSize);
    if (b === null) break;
    out.push(b);
  }
  return out;
}

/** Two batches are the same: same ids, captions, and pixels bit for bit. */
export function expectSameBatch(a: ImageCaptionBatch | null, b: ImageCaptionBatch | null): void {
  expect(a === null).toBe(b === null);
  if (a === null || b === null) return;
  expect(b.ids).toEqual(a.ids);
  expect(b.captions).toEqual(a.captions);
  expect(b.shape).toEqual(a.shape);
  expect(
    Buffer.from(b.pixels.buffer, b.pixels.byteOffset, b.pixels.byteLength).equals(
      Buffer.from(a.pixels.buffer, a.pixels.byteOffset, a.pixels.byteLength),
    ),
  ).toBe(true);
}
