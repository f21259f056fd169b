import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempFolders, tempFolder } from '../fake_folders.test.helpers.js';
import { openImageCaptionSource } from './open_source.js';
import { CORRUPT_JPEG, drain, makeImage, SMALL, writeTar } from './pairs.test.helpers.js';

/**
 * WebDataset shards end to end: three tar shards written with tar-stream, named by a brace pattern,
 * samples grouped by key with .jpg/.png/.webp images and .txt/.json captions, and every kind of broken
 * sample counted: a corrupt image, no image, no caption, a caption that is not text, a truncated shard.
 */

afterAll(removeTempFolders);

let dir: string;

beforeAll(async () => {
  dir = await tempFolder();
  const webp = await sharp(await makeImage(9, 'png'))
    .webp({ lossless: true })
    .toBuffer();
  await writeTar(join(dir, 'shards-000000.tar'), [
    ['000000.jpg', await makeImage(0, 'jpeg')],
    ['000000.txt', 'a jpeg with a txt caption\n'],
    ['000001.json', JSON.stringify({ caption: 'a png with a json caption', width: 48 })],
    ['000001.png', await makeImage(1, 'png')],
    ['000002.jpg', CORRUPT_JPEG],
    ['000002.txt', 'corrupt'],
    ['000003.txt', 'a caption without an image'],
    ['000004.cls', '3'],
  ]);
  await writeTar(join(dir, 'shards-000001.tar'), [
    ['dir/000010.webp', webp],
    ['dir/000010.json', JSON.stringify({ text: 'a webp with a text field' })],
    ['dir/000011.jpg', await makeImage(11, 'jpeg')],
    ['dir/000012.jpg', await makeImage(12, 'jpeg')],
    ['dir/000012.json', JSON.stringify({ caption: 42 })],
    ['dir/000013.png', await makeImage(13, 'png')],
    ['dir/000013.seg.png', await makeImage(14, 'png')],
    ['dir/000013.txt', 'a png next to a segmentation map'],
  ]);
  const third: Array<[string, Buffer | string]> = [
    ['000020.jpg', await makeImage(20, 'jpeg')],
    ['000020.txt', 'before the truncation'],
    ['000021.jpg', await makeImage(21, 'jpeg')],
    ['000021.txt', 'cut off'],
  ];
  // cut in the middle of the last image (the end is 1024 zero bytes and the .txt's 512 + 512): tar-stream
  // reports the shard as ending early
  await writeTar(join(dir, 'shards-000002.tar'), third, -2048 - 300);
});

describe('openImageCaptionSource: webdataset', () => {
  it('groups members by key, reads both caption kinds and webp, and counts every broken sample', async () => {
    const src = await openImageCaptionSource({
      path: join(dir, 'shards-{000000..000002}.tar'),
      preprocess: SMALL,
      seed: 0,
    });
    expect(src.format).toBe('webdataset');
    expect(src.description).toContain('3 shards');
    const batches = await drain(src, 2);
    expect(batches.flatMap((b) => b.ids)).toEqual([
      'shards-000000.tar/000000',
      'shards-000000.tar/000001',
      'shards-000001.tar/dir/000010',
      'shards-000001.tar/dir/000013',
      'shards-000002.tar/000020',
    ]);
    expect(batches.flatMap((b) => b.captions)).toEqual([
      'a jpeg with a txt caption',
      'a png with a json caption',
      'a webp with a text field',
      'a png next to a segmentation map',
      'before the truncation',
    ]);
    expect(batches.map((b) => b.shape[0])).toEqual([2, 2, 1]);
    expect(src.skipped.byReason).toEqual({
      'corrupt-image': 1,
      'no-image': 2, // 000003 (a txt only) and 000004 (a .cls only)
      'no-caption': 1,
      'caption-not-text': 1,
      'corrupt-shard': 1,
    });
    expect(src.skipped.total).toBe(6);
    const shard = src.skipped.examples.find((e) => e.reason === 'corrupt-shard')!;
    expect(shard.id).toBe('shards-000002.tar');
    expect(shard.detail).toMatch(/shards-000002\.tar: .*after 1 sample was skipped/);
    await src.close();
  });

  it('takes `::`-joined patterns and lists, in the order given', async () => {
    const src = await openImageCaptionSource({
      path: `${join(dir, 'shards-000001.tar')}::${join(dir, 'shards-{000000,000001}.tar')}`,
      preprocess: SMALL,
      seed: 0,
    });
    const ids = (await drain(src, 8)).flatMap((b) => b.ids);
    expect(ids.map((id) => id.split('/')[0])).toEqual([
      'shards-000001.tar',
      'shards-000001.tar',
      'shards-000000.tar',
      'shards-000000.tar',
      'shards-000001.tar',
      'shards-000001.tar',
    ]);
    await src.close();
  });

  it('shuffles shard order and samples per epoch with a seed, each sample once per epoch', async () => {
    const open = (seed: number) =>
      openImageCaptionSource({
        path: join(dir, 'shards-{000000..000002}.tar'),
        preprocess: SMALL,
        seed,
        loop: true,
        shuffleBuffer: 3,
      });
    const a = await open(1);
    const epoch = async () => (await drain(a, 5, 1))[0].ids;
    const e0 = await epoch();
    const e1 = await epoch();
    expect([...e0].sort()).toEqual([...e1].sort());
    expect(e0).toHaveLength(5);
    expect(new Set(e0).size).toBe(5);
    const b = await open(1);
    expect((await b.next(5))!.ids).toEqual(e0);
    const orders = new Set<string>();
    for (let seed = 0; seed < 6; seed++) {
      const s = await open(seed);
      orders.add((await s.next(5))!.ids.join());
      await s.close();
    }
    expect(orders.size).toBeGreaterThan(1);
    await Promise.all([a.close(), b.close()]);
  });

  it('reads gzipped shards (.tar.gz, .tgz)', async () => {
    const tar = await readFile(join(dir, 'shards-000001.tar'));
    await writeFile(join(dir, 'zipped.tar.gz'), gzipSync(tar));
    await writeFile(join(dir, 'zipped.tgz'), gzipSync(tar));
    for (const name of ['zipped.tar.gz', 'zipped.tgz']) {
      const src = await openImageCaptionSource({ path: join(dir, name), preprocess: SMALL, seed: 0 });
      expect(src.format).toBe('webdataset');
      expect((await drain(src, 4)).flatMap((b) => b.ids)).toEqual([
        `${name}/dir/000010`,
        `${name}/dir/000013`,
      ]);
      await src.close();
    }
  });
});
