import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeDataset, imagesIn, makeFifo, removeTempFolders } from '../data/fake_folders.test.helpers.js';
import { loadImageFolderDataset } from '../data/image_folder.js';
import { resolvePreprocessConfig } from '../preprocess/config.js';
import { imageDatasetSource } from './image_dataset_source.js';

/**
 * The image-folder source reads safely (issue 12): a file swapped for a FIFO after the listing, or one
 * over `maxImageBytes`, is a per-item error naming the reason, and a stop signal ends a batch at once.
 */

afterAll(removeTempFolders);

const preprocess = resolvePreprocessConfig({});

describe('imageDatasetSource reads only what is safe to read', () => {
  it('a file replaced by a FIFO after listing is an error of that item, not a hang', async () => {
    const root = await fakeDataset(imagesIn(['cat', 'dog'], 2, 'png'));
    const ds = await loadImageFolderDataset(root);
    const swapped = join(root, 'cat', 'img_1.png');
    await rm(swapped);
    if (!makeFifo(swapped)) {
      console.warn('FIFO case skipped: mkfifo is not available on this platform.');
      return;
    }
    const batch = await imageDatasetSource(ds).loadBatch([0, 1, 2, 3], preprocess);
    try {
      expect(batch.loaded).toEqual([0, 2, 3]);
      expect(batch.errors).toEqual([
        {
          index: 1,
          message: `cannot preprocess image ${swapped}: not a regular file (a FIFO), so it was not read`,
        },
      ]);
    } finally {
      batch.pixels?.dispose();
    }
  });

  it('files over maxImageBytes are errors of their items, with the size and the limit', async () => {
    const ds = await loadImageFolderDataset(await fakeDataset(imagesIn(['cat'], 2, 'png')));
    const batch = await imageDatasetSource(ds, { maxImageBytes: 10 }).loadBatch([0, 1], preprocess);
    expect(batch.pixels).toBeNull();
    expect(batch.errors.map((e) => e.index)).toEqual([0, 1]);
    expect(batch.errors[0].message).toMatch(/: \d+ bytes \(.*\), over the per-image limit of 10 bytes/);
    expect(() => imageDatasetSource(ds, { maxImageBytes: -1 })).toThrow(RangeError);
  });

  it('a stop signal ends the batch being read with a ZeroShotEvalError "aborted"', async () => {
    const ds = await loadImageFolderDataset(await fakeDataset(imagesIn(['cat'], 40, 'png')));
    const controller = new AbortController();
    const source = imageDatasetSource(ds, { concurrency: 1, signal: controller.signal });
    const loading = source.loadBatch(
      ds.items.map((_, i) => i),
      preprocess,
    );
    controller.abort();
    await expect(loading).rejects.toMatchObject({
      name: 'ZeroShotEvalError',
      code: 'aborted',
      message: expect.stringMatching(/^evaluation stopped while reading images of /),
    });
  });
});
