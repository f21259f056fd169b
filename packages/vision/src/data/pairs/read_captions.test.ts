import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempFolders, tempFolder } from '../fake_folders.test.helpers.js';
import { CORRUPT_JPEG, makeImage, writeFiles, writeTar } from './pairs.test.helpers.js';
import { countImageCaptions, readImageCaptions } from './read_captions.js';

afterAll(removeTempFolders);

let dir: string;
beforeAll(async () => {
  dir = await tempFolder();
  const png = await makeImage(1, 'png');
  await writeFiles(dir, {
    'a.png': png,
    'broken.jpg': CORRUPT_JPEG,
    'pairs.csv':
      'filepath,title\na.png,a red square\nbroken.jpg,never decoded\na.png,\nmissing.png,still read\n',
    'pairs.jsonl':
      '{"image": "a.png", "caption": "one"}\n{"image": "a.png", "caption": 7}\n{"image": "a.png", "caption": "two"}\n',
  });
  await writeTar(join(dir, 'shard-0.tar'), [
    ['k0.png', png],
    ['k0.txt', 'shard caption 0'],
    ['k1.png', png],
    ['k1.json', JSON.stringify({ caption: 'shard caption 1' })],
  ]);
  await writeTar(join(dir, 'shard-1.tar'), [
    ['k2.png', png],
    ['k2.txt', 'shard caption 2'],
  ]);
});

describe('readImageCaptions: the captions a tokenizer learns from, no image decoded', () => {
  it('CSV in file order: rows without a caption are passed over, images are not looked at', async () => {
    const captions = await readImageCaptions({ path: join(dir, 'pairs.csv'), separator: ',' }, { limit: 10 });
    expect(captions).toEqual(['a red square', 'never decoded', 'still read']);
    expect(await readImageCaptions({ path: join(dir, 'pairs.csv'), separator: ',' }, { limit: 2 })).toEqual([
      'a red square',
      'never decoded',
    ]);
  });

  it('JSONL and WebDataset shards in order', async () => {
    expect(await readImageCaptions({ path: join(dir, 'pairs.jsonl') }, { limit: 10 })).toEqual([
      'one',
      'two',
    ]);
    expect(await readImageCaptions({ path: join(dir, 'shard-{0..1}.tar') }, { limit: 10 })).toEqual([
      'shard caption 0',
      'shard caption 1',
      'shard caption 2',
    ]);
    expect(await countImageCaptions({ path: join(dir, 'shard-{0..1}.tar') })).toBe(3);
    expect(await countImageCaptions({ path: join(dir, 'pairs.csv'), separator: ',' })).toBe(3);
  });

  it('the same errors as the source: a missing column is named with the ones present', async () => {
    await expect(
      readImageCaptions(
        { path: join(dir, 'pairs.csv'), separator: ',', captionKey: 'caption' },
        { limit: 1 },
      ),
    ).rejects.toThrow(/caption/);
  });
});
