import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempFolders, tempFolder } from '../fake_folders.test.helpers.js';
import { openImageCaptionSource } from './open_source.js';
import { CORRUPT_JPEG, drain, makeImage, SMALL, writeFiles } from './pairs.test.helpers.js';

/**
 * JSONL pairs (`image`/`file`/`filepath` + `caption`/`text`/`title`, or chosen keys) and an image folder
 * with captions from class names × templates, end to end on generated files, with a corrupt and a missing
 * image counted as skips.
 */

afterAll(removeTempFolders);

let dir: string;

beforeAll(async () => {
  dir = await tempFolder();
  await writeFiles(dir, {
    'data/img/a.png': await makeImage(1, 'png'),
    'data/img/b.jpg': await makeImage(2, 'jpeg'),
    'data/img/bad.jpg': CORRUPT_JPEG,
    'data/pairs.jsonl': [
      JSON.stringify({ image: 'img/a.png', caption: 'first', extra: 1 }),
      '',
      JSON.stringify({ image: 'img/b.jpg', caption: 'second' }),
      JSON.stringify({ image: 'img/bad.jpg', caption: 'corrupt' }),
      JSON.stringify({ image: 'img/nope.jpg', caption: 'missing' }),
      JSON.stringify({ image: 'img/a.png', caption: 7 }),
      JSON.stringify({ image: 'img/a.png' }),
      JSON.stringify({ caption: 'no image' }),
      '{"image": "img/a.png", "caption": "truncated',
      '[1, 2]',
      JSON.stringify({ image: 'img/b.jpg', caption: 'last' }),
    ].join('\n'),
    'data/other.jsonl': JSON.stringify({ filepath: 'img/a.png', title: 'by title', text: 'by text' }) + '\n',
    'data/custom.jsonl': JSON.stringify({ src: 'img/b.jpg', alt: 'custom keys' }) + '\n',
    'folder/cat/1.png': await makeImage(3, 'png'),
    'folder/cat/2.jpg': await makeImage(4, 'jpeg'),
    'folder/dog/1.png': await makeImage(5, 'png'),
    'folder/dog/broken.jpg': CORRUPT_JPEG,
  });
});

describe('openImageCaptionSource: jsonl', () => {
  it('reads {"image", "caption"} lines, counting every kind of bad line as a skip', async () => {
    const src = await openImageCaptionSource({
      path: join(dir, 'data/pairs.jsonl'),
      preprocess: SMALL,
      seed: 0,
    });
    expect(src.format).toBe('jsonl');
    expect(src.description).toContain('"image" → "caption"');
    const batches = await drain(src, 2);
    expect(batches.flatMap((b) => b.captions)).toEqual(['first', 'second', 'last']);
    expect(batches.flatMap((b) => b.ids)).toEqual(['pairs.jsonl:1', 'pairs.jsonl:2', 'pairs.jsonl:10']);
    expect(src.skipped.byReason).toEqual({
      'corrupt-image': 1,
      'missing-image': 1,
      'caption-not-text': 1,
      'no-caption': 1,
      'no-image': 1,
      'bad-row': 2,
    });
    const notText = src.skipped.examples.find((e) => e.reason === 'caption-not-text')!;
    expect(notText.detail).toMatch(/pairs\.jsonl row 5: "caption" is 7, not text/);
    await src.close();
  });

  it('accepts filepath/title, and keys of your choosing', async () => {
    const a = await openImageCaptionSource({
      path: join(dir, 'data/other.jsonl'),
      preprocess: SMALL,
      seed: 0,
    });
    expect((await a.next(1))!.captions).toEqual(['by text']); // text comes before title
    const b = await openImageCaptionSource({
      path: join(dir, 'data/custom.jsonl'),
      imageKey: 'src',
      captionKey: 'alt',
      preprocess: SMALL,
      seed: 0,
    });
    expect((await b.next(1))!.captions).toEqual(['custom keys']);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('openImageCaptionSource: folder', () => {
  it('captions are class names × templates, drawn per image and epoch; a corrupt image is a skip', async () => {
    const src = await openImageCaptionSource({
      path: join(dir, 'folder'),
      templates: ['a photo of a {}.', 'a picture of a {}.'],
      preprocess: SMALL,
      seed: 0,
    });
    expect(src.format).toBe('folder');
    expect(src.description).toContain('4 images in 2 classes');
    const [batch] = await drain(src, 8);
    expect(batch.ids).toEqual(['cat/1.png', 'cat/2.jpg', 'dog/1.png']);
    batch.captions.forEach((c, i) =>
      expect(c).toMatch(new RegExp(`^a (photo|picture) of a ${i < 2 ? 'cat' : 'dog'}\\.$`)),
    );
    expect(src.skipped.byReason).toEqual({ 'corrupt-image': 1 });
    await src.close();
  });

  it('classNames replaces the names in captions, one per class', async () => {
    const src = await openImageCaptionSource({
      path: join(dir, 'folder'),
      classNames: ['kitten', 'puppy'],
      preprocess: SMALL,
      seed: 0,
    });
    expect((await src.next(3))!.captions).toEqual([
      'a photo of a kitten.',
      'a photo of a kitten.',
      'a photo of a puppy.',
    ]);
    await src.close();
    await expect(
      openImageCaptionSource({ path: join(dir, 'folder'), classNames: ['one'], preprocess: SMALL, seed: 0 }),
    ).rejects.toThrow(/classNames lists 1 name but .* has 2 classes/);
    await expect(
      openImageCaptionSource({
        path: join(dir, 'folder'),
        templates: ['no placeholder'],
        preprocess: SMALL,
        seed: 0,
      }),
    ).rejects.toThrow(/has no \{\} for the class name/);
  });
});
