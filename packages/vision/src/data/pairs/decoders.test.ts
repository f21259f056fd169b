import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePreprocessConfig } from '../../preprocess/config.js';
import { removeTempFolders, tempFolder } from '../fake_folders.test.helpers.js';
import { type DecodeItem, type DecoderSettings, InThreadDecoder, WorkerPoolDecoder } from './decoders.js';
import { CORRUPT_JPEG, makeImage, writeFiles } from './pairs.test.helpers.js';
import { imageSkipReason } from './skips.js';

/**
 * The worker-thread decoder gives what the calling-thread decoder gives: the same rows bit for bit
 * (random resized crops included, seeded per sample), the same failures. The workers run the TypeScript
 * sources through a test loader (`ts_worker.test.helpers.mjs`); the published package runs the compiled
 * `decode_worker.js`.
 */

afterAll(removeTempFolders);

const settings: DecoderSettings = {
  config: resolvePreprocessConfig({ size: 32, cropSize: 32 }),
  channels: 3,
  crop: { scale: [0.9, 1] },
  seed: 4,
  concurrency: 2,
  maxImageBytes: 2 ** 20,
};

describe('WorkerPoolDecoder', () => {
  it('decodes as the calling thread does, failures included, and stops on close', async () => {
    const dir = await tempFolder();
    await writeFiles(dir, { 'a.png': await makeImage(1, 'png'), 'b.jpg': await makeImage(2, 'jpeg') });
    const items: DecodeItem[] = [
      { id: 'a', epoch: 0, image: join(dir, 'a.png') },
      { id: 'b', epoch: 0, image: join(dir, 'b.jpg') },
      { id: 'gone', epoch: 0, image: join(dir, 'gone.png') },
      { id: 'bytes', epoch: 1, image: await makeImage(3, 'png') },
      { id: 'bad', epoch: 1, image: CORRUPT_JPEG },
      { id: 'a-again', epoch: 1, image: join(dir, 'a.png') },
    ];
    const script = new URL('./ts_worker.test.helpers.mjs', import.meta.url);
    const entry = new URL('./decode_worker.ts', import.meta.url).href;
    const pool = new WorkerPoolDecoder(script, 2, { entry, data: settings } as unknown as DecoderSettings);
    const local = new InThreadDecoder(settings);
    const [want, got, got2] = await Promise.all([
      local.decode(items),
      pool.decode(items),
      pool.decode(items.slice(3)),
    ]);
    expect(got.indices).toEqual([0, 1, 3, 5]);
    expect(got.indices).toEqual(want.indices);
    expect(Buffer.from(got.data.buffer).equals(Buffer.from(want.data.buffer))).toBe(true);
    expect(got.errors.map((e) => [e.index, imageSkipReason(e.message)])).toEqual([
      [2, 'missing-image'],
      [4, 'corrupt-image'],
    ]);
    expect(want.errors.map((e) => e.index)).toEqual([2, 4]);
    expect(got2.indices).toEqual([0, 2]);
    const per = 3 * 32 * 32;
    expect(got2.data.subarray(0, per)).toEqual(want.data.subarray(2 * per, 3 * per));
    expect(pool.kind).toBe('2 worker threads');
    const late = pool.decode(items).catch((e: unknown) => e);
    await pool.close();
    expect(String(await late)).toMatch(/closed/);
    await expect(pool.decode(items)).rejects.toThrow(/closed/);
  });
});
