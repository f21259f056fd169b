import { existsSync } from 'node:fs';
import { chmod, copyFile, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  asUnprivileged,
  makeFifo,
  removeTempFolders,
  sharedTempFolder,
  tempFolder,
  unprivilegedUnavailable,
} from '../data/fake_folders.test.helpers.js';
import { resolvePreprocessConfig } from './config.js';
import { prepareBatch } from './batch.js';
import { decodeImage } from './decode.js';
import { ImagePreprocessError } from './errors.js';
import { DEFAULT_MAX_IMAGE_BYTES, readImageFile } from './read_image.js';

/**
 * Reads that cannot hang or exhaust memory (issue 12): only regular files, up to a size limit, checked
 * on the opened descriptor, asynchronously and abortably. Special files are made at test time.
 */

afterAll(removeTempFolders);

const jpegPath = fileURLToPath(new URL('../../test/fixtures/preprocess/photo_500x375.jpg', import.meta.url));
const dir = await tempFolder();
const noPermissions = unprivilegedUnavailable();
if (noPermissions) console.warn(`permission case skipped: ${noPermissions}.`);

/** The rejection of `p`, failing the test if it takes longer than `ms` (a read that hangs). */
async function rejectionWithin(p: Promise<unknown>, ms = 5000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms: the read hangs`)), ms);
  });
  try {
    return await Promise.race([p, late]).then(
      () => {
        throw new Error('expected a rejection');
      },
      (err: unknown) => {
        if (err instanceof Error && err.message.startsWith('still pending')) throw err;
        return err;
      },
    );
  } finally {
    clearTimeout(timer);
  }
}

describe('readImageFile / decodeImage read only regular files', () => {
  it('a FIFO is refused at once, never waited on', async () => {
    const fifo = join(dir, 'x.jpg');
    if (!makeFifo(fifo)) {
      console.warn('FIFO case skipped: mkfifo is not available on this platform.');
      return;
    }
    const err = await rejectionWithin(decodeImage(fifo));
    expect(err).toBeInstanceOf(ImagePreprocessError);
    expect((err as Error).message).toBe(
      `cannot preprocess image ${fifo}: not a regular file (a FIFO), so it was not read`,
    );
  });

  it.skipIf(!existsSync('/dev/zero'))('/dev/zero is refused, not read forever', async () => {
    const err = await rejectionWithin(readImageFile('/dev/zero'));
    expect((err as Error).message).toMatch(/\/dev\/zero: not a regular file \(a character device\)/);
  });

  it('a file over the limit is refused before it is read; the limit is configurable', async () => {
    const huge = join(dir, 'huge.png');
    await writeFile(huge, '');
    await truncate(huge, DEFAULT_MAX_IMAGE_BYTES + 1); // sparse: no disk space, no read
    const err = await rejectionWithin(decodeImage(huge));
    expect((err as Error).message).toBe(
      `cannot preprocess image ${huge}: 268,435,457 bytes (256.0 MiB), over the per-image limit of ` +
        '268,435,456 bytes (256.0 MiB); raise maxImageBytes to read it',
    );
    const bytes = (await readFile(jpegPath)).length;
    await expect(decodeImage(jpegPath, { maxBytes: bytes - 1 })).rejects.toThrow(
      /over the per-image limit of/,
    );
    await expect(decodeImage(await readFile(jpegPath), { maxBytes: 1000 })).rejects.toThrow(
      /<buffer of \d+ bytes>: [\d,]+ bytes .* over the per-image limit of 1,000 bytes/,
    );
    expect((await decodeImage(jpegPath, { maxBytes: bytes })).width).toBe(500);
    await expect(readImageFile(jpegPath, { maxBytes: 0 })).rejects.toThrow(RangeError);
  });

  it('a link to a regular file is read', async () => {
    const link = join(dir, 'link.jpg');
    await symlink(jpegPath, link);
    expect((await readImageFile(link)).length).toBe((await readFile(jpegPath)).length);
  });

  it.skipIf(noPermissions !== undefined)('an unreadable file: permission denied', async () => {
    const shared = await sharedTempFolder();
    const locked = join(shared, 'locked.jpg');
    await copyFile(jpegPath, locked);
    await chmod(locked, 0o000);
    const err = await asUnprivileged(() => rejectionWithin(decodeImage(locked)));
    expect((err as Error).message).toBe(`cannot preprocess image ${locked}: permission denied`);
  });
});

describe('an abort stops reads; an aborted batch rejects instead of reporting failures', () => {
  it('an aborted signal rejects with its reason before anything is read', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(readImageFile(jpegPath, { signal: controller.signal })).rejects.toThrow('stop');
  });

  it('prepareBatch stops mid-batch and rejects with the signal reason', async () => {
    const controller = new AbortController();
    const config = resolvePreprocessConfig({});
    const running = prepareBatch(Array(64).fill(jpegPath), config, {
      concurrency: 2,
      signal: controller.signal,
    });
    controller.abort(new Error('stopped by the test'));
    await expect(rejectionWithin(running)).resolves.toMatchObject({ message: 'stopped by the test' });
  });
});
