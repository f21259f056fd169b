import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatasetError } from '../dataset_error.js';
import { removeTempFolders, tempFolder } from '../fake_folders.test.helpers.js';
import { openImageCaptionSource } from './open_source.js';
import {
  CORRUPT_JPEG,
  expectSameBatch,
  makeImage,
  SMALL,
  writeFiles,
  writeTar,
} from './pairs.test.helpers.js';
import type {
  ImageCaptionBatch,
  ImageCaptionSourceSpec,
  ImageCaptionSourceState,
  SkippedSamples,
} from './types.js';

/**
 * Exact resume: a source restored from the state taken after batch k (while later batches were being
 * decoded ahead) hands out the batches the uninterrupted source handed out after k, bit for bit, with
 * shuffling, the random resized crop, skipped samples and epoch boundaries in play — for CSV rows and for
 * WebDataset shards mid-shard with a shuffle buffer.
 */

afterAll(removeTempFolders);

let dir: string;
const AUGMENT = { randomResizedCrop: { scale: [0.9, 1] as [number, number] } };

beforeAll(async () => {
  dir = await tempFolder();
  const files: Record<string, string | Buffer> = { 'img/broken.jpg': CORRUPT_JPEG };
  for (let i = 0; i < 8; i++)
    files[`img/${i}.${i % 2 ? 'jpg' : 'png'}`] = await makeImage(i, i % 2 ? 'jpeg' : 'png');
  const rows = ['filepath\ttitle'];
  for (let r = 0; r < 22; r++) rows.push(`img/${r % 8}.${(r % 8) % 2 ? 'jpg' : 'png'}\tcaption ${r}`);
  rows.splice(5, 0, 'img/missing.png\tgone');
  rows.splice(12, 0, 'img/broken.jpg\tbroken');
  files['pairs.tsv'] = rows.join('\n');
  await writeFiles(dir, files);
  for (let s = 0; s < 3; s++) {
    const entries: Array<[string, string | Buffer]> = [];
    for (let i = 0; i < 7; i++) {
      const key = `s${s}-${String(i).padStart(4, '0')}`;
      const broken = s === 1 && i === 3;
      entries.push([`${key}.jpg`, broken ? CORRUPT_JPEG : await makeImage(s * 7 + i, 'jpeg')]);
      if (!(s === 2 && i === 5)) entries.push([`${key}.txt`, `shard ${s} sample ${i}`]);
    }
    await writeTar(join(dir, `wds-${s}.tar`), entries);
  }
});

/** The batches and the state after each, from one uninterrupted source. */
async function record(spec: ImageCaptionSourceSpec, batchSize: number, n: number) {
  const src = await openImageCaptionSource(spec);
  const batches: ImageCaptionBatch[] = [];
  const states: ImageCaptionSourceState[] = [];
  for (let i = 0; i < n; i++) {
    batches.push((await src.next(batchSize))!);
    states.push(JSON.parse(JSON.stringify(src.getState())) as ImageCaptionSourceState);
  }
  const skipped = src.skipped;
  await src.close();
  return { batches, states, skipped };
}

async function expectResumes(spec: ImageCaptionSourceSpec, batchSize: number, n: number, ks: number[]) {
  const run = await record(spec, batchSize, n);
  for (const k of ks) {
    const src = await openImageCaptionSource(spec);
    src.setState(run.states[k - 1]);
    expect(src.getState()).toEqual(run.states[k - 1]);
    for (let i = k; i < n; i++) expectSameBatch(run.batches[i], await src.next(batchSize));
    // (details hold libvips' message, whose wording varies from call to call)
    const brief = (s: SkippedSamples) => ({ ...s, examples: s.examples.map((e) => [e.id, e.reason]) });
    expect(brief(src.skipped)).toEqual(brief(run.skipped));
    await src.close();
  }
  return run;
}

describe('exact resume', () => {
  it('csv, shuffled and augmented, across epoch boundaries and skipped rows', async () => {
    const spec: ImageCaptionSourceSpec = {
      path: join(dir, 'pairs.tsv'),
      preprocess: SMALL,
      augment: AUGMENT,
      seed: 7,
      loop: true,
      readAhead: 2,
    };
    // 24 rows, 22 usable: batches of 4 cross each epoch's end mid-batch
    const run = await expectResumes(spec, 4, 14, [1, 5, 6, 11]);
    expect(run.states[13].epoch).toBe(2);
    // each epoch passes the missing and the corrupt image once: twice so far, a third time if epoch 2 did
    expect(Object.keys(run.skipped.byReason).sort()).toEqual(['corrupt-image', 'missing-image']);
    expect(run.skipped.byReason['missing-image']).toBeGreaterThanOrEqual(2);
    // shuffled: the first epoch is not in file order, and the second is another order
    const ids = run.batches.flatMap((b) => b.ids);
    expect(ids.slice(0, 22)).not.toEqual([...ids.slice(0, 22)].sort());
    expect(ids.slice(22, 44)).not.toEqual(ids.slice(0, 22));
    expect([...ids.slice(22, 44)].sort()).toEqual([...ids.slice(0, 22)].sort());
  });

  it('webdataset mid-shard, with the shuffle buffer restored from its keys', async () => {
    const spec: ImageCaptionSourceSpec = {
      path: join(dir, 'wds-{0..2}.tar'),
      preprocess: SMALL,
      augment: AUGMENT,
      seed: 3,
      loop: true,
      shuffleBuffer: 5,
      readAhead: 3,
    };
    // 21 samples, 19 usable per epoch
    const run = await expectResumes(spec, 3, 16, [1, 2, 4, 6, 9]);
    const mid = run.states.filter((s) => (s.sample as number) > 0 && (s.buffer as unknown[]).length > 0);
    expect(mid.length).toBeGreaterThan(4);
    expect(Object.keys(run.skipped.byReason).sort()).toEqual(['corrupt-image', 'no-caption']);
    expect(run.skipped.byReason['no-caption']).toBeGreaterThanOrEqual(2);
  });

  it('the random resized crop is part of the resumed stream, and differs across epochs', async () => {
    const spec: ImageCaptionSourceSpec = {
      path: join(dir, 'pairs.tsv'),
      preprocess: SMALL,
      augment: AUGMENT,
      seed: 1,
      loop: true,
    };
    const src = await openImageCaptionSource({ ...spec, shuffle: false });
    const e0 = (await src.next(22))!;
    const e1 = (await src.next(22))!;
    await src.close();
    expect(e1.ids).toEqual(e0.ids);
    expect(e1.pixels).not.toEqual(e0.pixels);
  });

  it('a new batch size restarts from the last batch handed out', async () => {
    const spec: ImageCaptionSourceSpec = {
      path: join(dir, 'pairs.tsv'),
      preprocess: SMALL,
      seed: 2,
      loop: true,
    };
    const a = await openImageCaptionSource(spec);
    await a.next(4);
    await a.next(4);
    const state = a.getState();
    const five = await a.next(5);
    const b = await openImageCaptionSource(spec);
    b.setState(state);
    expectSameBatch(five, await b.next(5));
    await Promise.all([a.close(), b.close()]);
  });

  it('a state of another dataset or format is refused with a DatasetError', async () => {
    const csv = await openImageCaptionSource({ path: join(dir, 'pairs.tsv'), preprocess: SMALL, seed: 0 });
    const wds = await openImageCaptionSource({
      path: join(dir, 'wds-{0..1}.tar'),
      preprocess: SMALL,
      seed: 0,
    });
    const other = await openImageCaptionSource({
      path: join(dir, 'wds-{0..2}.tar'),
      preprocess: SMALL,
      seed: 0,
    });
    const err = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error('expected an error');
    };
    const e1 = err(() => csv.setState(wds.getState()));
    expect(isDatasetError(e1) && e1.code).toBe('bad-option');
    expect((e1 as Error).message).toMatch(/webdataset state and this is csv data/);
    const e2 = err(() => other.setState(wds.getState()));
    expect((e2 as Error).message).toMatch(/does not fit this dataset: it is for webdataset:2/);
    expect((err(() => csv.setState({ version: 2 })) as Error).message).toMatch(
      /not a saved data-loader state/,
    );
    await Promise.all([csv.close(), wds.close(), other.close()]);
  });
});
