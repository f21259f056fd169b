import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePreprocessConfig } from '../../preprocess/config.js';
import { decodeImage } from '../../preprocess/decode.js';
import { pilImageToTensorData } from '../../preprocess/pipeline.js';
import { removeTempFolders, tempFolder } from '../fake_folders.test.helpers.js';
import { openImageCaptionSource } from './open_source.js';
import { CORRUPT_JPEG, drain, makeImage, SMALL, writeFiles } from './pairs.test.helpers.js';

/**
 * CSV/TSV pairs end to end on generated files: open_clip's defaults (tab, `filepath`, `title`), other
 * columns and separators, quoted fields, paths relative to the CSV, a corrupt and a missing image
 * counted as skips, and pixels equal to the evaluation pipeline's.
 */

afterAll(removeTempFolders);

let dir: string;

beforeAll(async () => {
  dir = await tempFolder();
  await writeFiles(dir, {
    'img/a.png': await makeImage(1, 'png'),
    'img/b.jpg': await makeImage(2, 'jpeg'),
    'img/c.png': await makeImage(3, 'png', 30, 50),
    'img/d.jpg': await makeImage(4, 'jpeg'),
    'img/gray.png': await makeImage(5, 'png', 40, 40, 1),
    'img/broken.jpg': CORRUPT_JPEG,
    // open_clip's format: tab-separated, filepath + title, paths relative to the file
    'train.tsv': [
      'filepath\ttitle\tother',
      'img/a.png\ta red thing\tx',
      'img/b.jpg\tsomething "quoted" mid-field\tx',
      'img/broken.jpg\ta corrupt one\tx',
      '',
      'img/c.png\ta tall image\tx',
      'img/missing.png\tnot there\tx',
      'img/d.jpg\tthe last one\tx',
    ].join('\n'),
    // comma-separated, other column names, quoting with separators, escaped quotes and a newline
    'sub/pairs.csv':
      'caption,path\r\n' +
      '"hello, world",../img/a.png\r\n' +
      '"she said ""hi""\nthen left",../img/b.jpg\r\n' +
      ',../img/c.png\r\n' +
      'short row\r\n' +
      'gray one,../img/gray.png\r\n',
  });
});

describe('openImageCaptionSource: csv', () => {
  it("reads open_clip's TSV, skipping a corrupt and a missing image with their reasons", async () => {
    const src = await openImageCaptionSource({ path: join(dir, 'train.tsv'), preprocess: SMALL, seed: 0 });
    expect(src.format).toBe('csv');
    expect(src.description).toContain('6 rows');
    const batches = await drain(src, 2);
    expect(batches.map((b) => b.ids)).toEqual([
      ['train.tsv:1', 'train.tsv:2'],
      ['train.tsv:4', 'train.tsv:6'],
    ]);
    expect(batches[0].captions).toEqual(['a red thing', 'something "quoted" mid-field']);
    expect(batches[0].shape).toEqual([2, 3, 32, 32]);
    expect(src.skipped.total).toBe(2);
    expect(src.skipped.byReason).toEqual({ 'corrupt-image': 1, 'missing-image': 1 });
    expect(src.skipped.examples.map((e) => [e.id, e.reason])).toEqual([
      ['train.tsv:3', 'corrupt-image'],
      ['train.tsv:5', 'missing-image'],
    ]);
    expect(src.skipped.examples[1].detail).toContain(join(dir, 'img/missing.png'));
    expect(await src.next(2)).toBeNull();
    await src.close();
  });

  it('pixels are the evaluation transform of the image (resize, center crop, CLIP normalisation)', async () => {
    const src = await openImageCaptionSource({ path: join(dir, 'train.tsv'), preprocess: SMALL, seed: 0 });
    const [batch] = await drain(src, 1, 1);
    await src.close();
    const want = pilImageToTensorData(
      await decodeImage(join(dir, 'img/a.png')),
      resolvePreprocessConfig(SMALL),
    );
    expect(batch.pixels).toEqual(want);
  });

  it('takes other columns and separators, quoted fields with separators, quotes and newlines', async () => {
    const src = await openImageCaptionSource({
      path: join(dir, 'sub/pairs.csv'),
      imageKey: 'path',
      captionKey: 'caption',
      separator: ',',
      preprocess: SMALL,
      seed: 0,
    });
    const batches = await drain(src, 10);
    expect(batches).toHaveLength(1);
    expect(batches[0].captions).toEqual(['hello, world', 'she said "hi"\nthen left', 'gray one']);
    expect(batches[0].ids).toEqual(['pairs.csv:1', 'pairs.csv:2', 'pairs.csv:5']);
    expect(src.skipped.byReason).toEqual({ 'no-caption': 1, 'bad-row': 1 });
    await src.close();
  });

  it('grayscale: one channel, PIL convert("L") of the RGB result, normalised with mean[0]/std[0]', async () => {
    const pre = {
      ...SMALL,
      mean: [0.5, 0.5, 0.5] as [number, number, number],
      std: [0.25, 0.25, 0.25] as [number, number, number],
    };
    const open = (channels: 1 | 3) =>
      openImageCaptionSource({ path: join(dir, 'train.tsv'), preprocess: { ...pre, channels }, seed: 0 });
    const gray = await open(1);
    const rgb = await open(3);
    const g = (await gray.next(1))!;
    const c = (await rgb.next(1))!;
    await Promise.all([gray.close(), rgb.close()]);
    expect(g.shape).toEqual([1, 1, 32, 32]);
    const plane = 32 * 32;
    const to8 = (v: number) => Math.round((v * 0.25 + 0.5) * 255);
    for (let i = 0; i < plane; i += 37) {
      const [r, gg, b] = [to8(c.pixels[i]), to8(c.pixels[plane + i]), to8(c.pixels[2 * plane + i])];
      const l = (r * 19595 + gg * 38470 + b * 7471 + 0x8000) >>> 16;
      expect(to8(g.pixels[i])).toBe(l);
    }
  });

  it('reads a list of files one after the other', async () => {
    const src = await openImageCaptionSource({
      path: [join(dir, 'train.tsv'), join(dir, 'train.tsv')],
      preprocess: SMALL,
      seed: 0,
    });
    const ids = (await drain(src, 3)).flatMap((b) => b.ids);
    expect(ids).toHaveLength(8);
    expect(src.skipped.total).toBe(4);
    await src.close();
  });

  it('an aborted signal stops next() with its reason, mid-stream', async () => {
    const ac = new AbortController();
    const src = await openImageCaptionSource({
      path: join(dir, 'train.tsv'),
      preprocess: SMALL,
      seed: 0,
      loop: true,
      signal: ac.signal,
    });
    await src.next(2);
    const pending = src.next(50).catch((e: unknown) => e);
    ac.abort(new Error('stop now'));
    expect(String(await pending)).toMatch(/stop now/);
    await expect(src.next(2)).rejects.toThrow('stop now');
    await src.close();
  });
});
