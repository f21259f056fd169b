import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ImagePreprocessError } from './errors.js';
import { preprocessImage, preprocessImageData } from './preprocess_image.js';

const jpegPath = fileURLToPath(new URL('../../test/fixtures/preprocess/photo_500x375.jpg', import.meta.url));
const jpeg = readFileSync(jpegPath);
const dir = mkdtempSync(join(tmpdir(), 'moevl-preprocess-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** A JPEG whose entropy-coded data was overwritten: libjpeg reports corrupt data, PIL refuses it too. */
function corruptJpeg(): Buffer {
  const b = Buffer.from(jpeg);
  for (let i = 3000; i < 3100; i++) b[i] = (i * 131) & 0xff;
  return b;
}

async function failure(p: Promise<unknown>): Promise<ImagePreprocessError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImagePreprocessError);
  return err as ImagePreprocessError;
}

describe('unreadable inputs fail with an error naming the source', () => {
  it('missing file', async () => {
    const p = join(dir, 'does-not-exist.jpg');
    const err = await failure(preprocessImage(p));
    expect(err.message).toBe(`cannot preprocess image ${p}: file not found`);
    expect(err.source).toBe(p);
  });

  it('a directory', async () => {
    const d = join(dir, 'folder.jpg');
    mkdirSync(d);
    expect((await failure(preprocessImage(d))).message).toContain(`${d}: is a directory`);
  });

  it('truncated JPEG (PIL: "image file is truncated")', async () => {
    const p = file('truncated.jpg', jpeg.subarray(0, 20_000));
    const err = await failure(preprocessImage(p));
    expect(err.message).toMatch(
      new RegExp(`^cannot preprocess image ${p}: corrupt or unreadable image data`),
    );
    expect(err.message).toMatch(/premature end/i);
  });

  it('corrupt JPEG data (PIL: "broken data stream")', async () => {
    const p = file('corrupt.jpg', corruptJpeg());
    expect((await failure(preprocessImage(p))).message).toContain(`${p}: corrupt or unreadable image data`);
  });

  it('a text file with an image extension', async () => {
    const p = file('notes.jpg', 'these are not pixels\n');
    expect((await failure(preprocessImage(p))).message).toContain(`${p}: not a supported image format`);
  });

  it('empty buffer and empty file', async () => {
    const err = await failure(preprocessImage(Buffer.alloc(0)));
    expect(err.message).toBe('cannot preprocess image <buffer of 0 bytes>: empty input (0 bytes)');
    const p = file('empty.png', '');
    expect((await failure(preprocessImage(p))).message).toContain(`${p}: empty input`);
  });

  it('a buffer source is described by its size', async () => {
    const err = await failure(preprocessImage(Buffer.from('GIF89a nonsense')));
    expect(err.message).toMatch(/^cannot preprocess image <buffer of 15 bytes>: /);
  });

  it('invalid options fail before any file is read', async () => {
    await expect(preprocessImageData('/nowhere.jpg', { size: 0 })).rejects.toThrow(
      /size must be a positive integer/,
    );
    await expect(preprocessImageData(jpegPath, { std: [1, 0, 1] })).rejects.toThrow(/std/);
    await expect(preprocessImageData(jpegPath, { resample: 'cubic' as never })).rejects.toThrow(/resample/);
  });
});
