import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatasetError, isDatasetError } from '../dataset_error.js';
import { makeFifo, removeTempFolders, tempFolder } from '../fake_folders.test.helpers.js';
import { openImageCaptionSource } from './open_source.js';
import { SMALL, writeFiles, writeTar } from './pairs.test.helpers.js';
import type { ImageCaptionSourceSpec } from './types.js';

/**
 * Bad input gets a `DatasetError` with a code and one sentence naming the file and what to do — at open
 * when it can be seen without decoding, at the first batch when every sample turns out unusable.
 */

afterAll(removeTempFolders);

let dir: string;

beforeAll(async () => {
  dir = await tempFolder();
  await writeFiles(dir, {
    'empty.csv': '',
    'blank.csv': '\n\r\n\n',
    'header-only.tsv': 'filepath\ttitle\n',
    'commas.csv': 'filepath,title\na.png,x\n',
    'columns.tsv': 'path\tcaption\tscore\na.png\tx\t1\n',
    'urls.tsv': 'filepath\ttitle\nhttps://example.com/a.jpg\tx\n',
    'open-quote.csv': 'filepath\ttitle\na.png\t"never closed\nb.png\ty\n',
    'all-missing.tsv': 'filepath\ttitle\nnope1.png\tx\nnope2.png\ty\n',
    'bad.jsonl': 'not json\n',
    'keys.jsonl': '{"path": "a.png", "alt": "x"}\n',
    'noext.dat': 'x',
  });
  await mkdir(join(dir, 'folder.csv'));
  await writeTar(join(dir, 'one-000.tar'), [['a.txt', 'x']]);
});

async function openError(
  spec: Partial<ImageCaptionSourceSpec> & { path: string | string[] },
): Promise<DatasetError> {
  try {
    const src = await openImageCaptionSource({ preprocess: SMALL, seed: 0, ...spec });
    try {
      await src.next(2);
    } finally {
      await src.close();
    }
  } catch (err) {
    if (isDatasetError(err)) return err;
    throw err;
  }
  throw new Error('expected a DatasetError');
}

describe('DatasetError for bad data files and options', () => {
  it('a missing column names it and lists the columns present', async () => {
    const e = await openError({ path: join(dir, 'columns.tsv') });
    expect(e.code).toBe('bad-dataset-file');
    expect(e.message).toBe(
      `${join(dir, 'columns.tsv')} has no column "filepath" (its columns: "path", "caption", "score"); pass imageKey with one of them.`,
    );
    const c = await openError({ path: join(dir, 'columns.tsv'), imageKey: 'path' });
    expect(c.message).toMatch(/has no column "title" .*; pass captionKey with one of them\.$/);
  });

  it('a comma-separated file read with the default tab says which separator to pass', async () => {
    const e = await openError({ path: join(dir, 'commas.csv') });
    expect(e.message).toMatch(
      /no column "filepath" \(its columns: "filepath,title"\); .*comma-separated, pass separator ","\.$/,
    );
  });

  it('an empty, blank or header-only file, a folder, a missing file, a FIFO', async () => {
    expect((await openError({ path: join(dir, 'empty.csv') })).message).toBe(
      `The data file ${join(dir, 'empty.csv')} is empty; it needs a header row and one row per image.`,
    );
    expect((await openError({ path: join(dir, 'blank.csv') })).message).toMatch(/holds only blank lines/);
    expect((await openError({ path: join(dir, 'header-only.tsv') })).message).toMatch(
      /has a header but no rows; add one row per image\.$/,
    );
    const folder = await openError({ path: join(dir, 'folder.csv') });
    expect(folder.message).toMatch(/folder\.csv is a directory, not a regular file/);
    const missing = await openError({ path: join(dir, 'nope.csv') });
    expect(missing.code).toBe('missing-files');
    expect(missing.message).toBe(
      `The data file ${join(dir, 'nope.csv')} cannot be opened (file not found); check the path.`,
    );
    const fifo = join(dir, 'fifo.csv');
    if (makeFifo(fifo))
      expect((await openError({ path: fifo })).message).toMatch(
        /is a FIFO, not a regular file, so it was not read/,
      );
  });

  it('URLs instead of paths, and a quote never closed', async () => {
    expect((await openError({ path: join(dir, 'urls.tsv') })).message).toMatch(
      /the images are URLs \(row 1: https:\/\/example\.com\/a\.jpg\); download them first/,
    );
    expect((await openError({ path: join(dir, 'open-quote.csv') })).message).toMatch(
      /open-quote\.csv: the quoted field opened in row 2 \(byte 15\) is never closed; fix its quoting\.$/,
    );
  });

  it('JSONL whose first row is not JSON, or lacks the keys, names the keys it has', async () => {
    expect((await openError({ path: join(dir, 'bad.jsonl') })).message).toMatch(
      /bad\.jsonl: row 1 is not JSON/,
    );
    const keys = await openError({ path: join(dir, 'keys.jsonl') });
    expect(keys.message).toMatch(
      /row 1 has no image key "image", "file", "filepath" \(its keys: "path", "alt"\); pass imageKey/,
    );
  });

  it('a shard pattern matching no file, or with shards missing', async () => {
    const none = await openError({ path: join(dir, 'shards-{000..009}.tar') });
    expect(none.code).toBe('missing-files');
    expect(none.message).toMatch(
      /matches no file \(10 names tried, e\.g\. .*shards-000\.tar\); check the folder and the range\.$/,
    );
    const some = await openError({ path: join(dir, 'one-{000..002}.tar') });
    expect(some.message).toMatch(
      /2 shards of the 3 named by .* are missing or not regular files: .*one-001\.tar, .*one-002\.tar/,
    );
  });

  it('an epoch in which no sample is usable is an error, not an endless loop or an empty run', async () => {
    const e = await openError({ path: join(dir, 'all-missing.tsv'), loop: true });
    expect(e.code).toBe('no-images');
    expect(e.message).toMatch(
      /None of the 2 samples of csv .*all-missing\.tsv could be used: 2 missing-image \(e\.g\. all-missing\.tsv:\d: .*nope\d\.png: file not found\); check that the image paths exist/,
    );
    const shard = await openError({ path: join(dir, 'one-000.tar') });
    expect(shard.message).toMatch(/1 no-image/);
  });

  it('options: type, separator, channels, crop scale, seed, numbers', async () => {
    const tsv = join(dir, 'all-missing.tsv');
    expect((await openError({ path: join(dir, 'noext.dat') })).message).toMatch(
      /Cannot tell the format of .*noext\.dat from its name; pass type csv, jsonl, webdataset or folder\./,
    );
    expect((await openError({ path: tsv, type: 'parquet' as 'csv' })).message).toMatch(
      /Unknown dataset type "parquet"/,
    );
    expect((await openError({ path: tsv, separator: '::' })).message).toMatch(
      /separator must be one ASCII character/,
    );
    expect((await openError({ path: tsv, preprocess: { channels: 2 as 3 } })).message).toMatch(
      /channels must be 3 \(RGB\) or 1/,
    );
    expect((await openError({ path: tsv, seed: 0.5 })).message).toMatch(/seed must be a whole number/);
    expect((await openError({ path: tsv, readAhead: -1 })).message).toMatch(
      /readAhead must be a whole number ≥ 0/,
    );
    await expect(
      openImageCaptionSource({
        path: tsv,
        preprocess: SMALL,
        seed: 0,
        augment: { randomResizedCrop: { scale: [0.9, 1.2] } },
      }),
    ).rejects.toThrow(/scale must be \[min, max\] with 0 < min ≤ max ≤ 1/);
    await writeFile(join(dir, 'x.jsonl'), '');
    expect((await openError({ path: join(dir, 'x.jsonl') })).message).toMatch(
      /is empty; it needs one JSON object per line/,
    );
  });
});
