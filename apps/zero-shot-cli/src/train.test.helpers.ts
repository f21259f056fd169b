/**
 * Image–caption training data for the `zero-shot train` tests, made at test time: RGB PNG squares of four
 * colours with seeded noise and captions "a photo of a red square", as a CSV (open_clip's tab-separated
 * filepath/title, with a corrupt and a missing image), a JSONL, and WebDataset tar shards (written here
 * byte by byte in the ustar format, with a corrupt sample), plus a tiny model config. Not a test file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { COLOUR_NAMES, COLOURS, CORRUPT_JPEG, pngSquare, tempDir } from './cli.test.helpers.js';

/** A model config small enough for seconds-long CLI tests: 16 px, 2 blocks of 32, 4 experts, own BPE. */
export const TINY_CONFIG = {
  description: 'test: 16 px RGB in 8 px patches, 2 blocks of 32, 4 experts in block 1, own BPE',
  model: {
    imageSize: 16,
    channels: 3,
    patchSize: 8,
    dim: 32,
    depth: 2,
    numHeads: 2,
    mlpRatio: 2,
    embedDim: 16,
    contextLength: 24,
    towers: 'single',
    moe: { numExperts: 4, every: 2, router: { name: 'top-k', options: { k: 1, batchPriority: true } } },
  },
  tokenizer: { type: 'bpe', vocabSize: 96 },
};

function caption(i: number): string {
  return `a photo of a ${COLOUR_NAMES[i % COLOUR_NAMES.length]} square`;
}

/** One ustar member: a 512-byte header, the body padded to 512 bytes. */
function tarMember(name: string, body: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (text: string, at: number, len: number) => header.write(text, at, len, 'latin1');
  field(name, 0, 100);
  field('0000644\0', 100, 8);
  field('0000000\0', 108, 8);
  field('0000000\0', 116, 8);
  field(body.length.toString(8).padStart(11, '0') + '\0', 124, 12);
  field('00000000000\0', 136, 12);
  field('        ', 148, 8);
  field('0', 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  field(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return Buffer.concat([header, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

export function tarFile(members: ReadonlyArray<[string, Buffer | string]>): Buffer {
  const parts = members.map(([name, body]) => tarMember(name, Buffer.from(body)));
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

export interface PairsFixture {
  dir: string;
  csv: string;
  valCsv: string;
  jsonl: string;
  /** Brace pattern of the shards. */
  shards: string;
  config: string;
  /** Class folders of the same colours, for `zero-shot eval` and `--zeroshot-data`. */
  folder: string;
}

/** `n` training pairs in every format, 8 validation pairs, the tiny config and a class folder. */
export async function pairsFixture({ n = 24, shardSize = 8 } = {}): Promise<PairsFixture> {
  const dir = await tempDir('pairs');
  await mkdir(join(dir, 'img'));
  const images: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const png = pngSquare(COLOURS[COLOUR_NAMES[i % 4]], { width: 20, height: 20, noise: 25, seed: i + 1 });
    images.push(png);
    await writeFile(join(dir, 'img', `${i}.png`), png);
  }
  await writeFile(join(dir, 'img', 'broken.jpg'), CORRUPT_JPEG);
  const rows = ['filepath\ttitle', ...images.map((_, i) => `img/${i}.png\t${caption(i)}`)];
  rows.splice(4, 0, 'img/broken.jpg\ta photo of a broken square', 'img/missing.png\ta photo of nothing');
  await writeFile(join(dir, 'train.tsv'), rows.join('\n') + '\n');
  await writeFile(
    join(dir, 'val.tsv'),
    ['filepath\ttitle', ...images.slice(0, 8).map((_, i) => `img/${i}.png\t${caption(i)}`)].join('\n') + '\n',
  );
  const lines = images.map((_, i) => JSON.stringify({ image: `img/${i}.png`, caption: caption(i) }));
  await writeFile(join(dir, 'train.jsonl'), lines.join('\n') + '\n');
  const shards = Math.ceil(n / shardSize);
  for (let s = 0; s < shards; s++) {
    const members: Array<[string, Buffer | string]> = [];
    for (let i = s * shardSize; i < Math.min(n, (s + 1) * shardSize); i++) {
      const key = `sample${String(i).padStart(5, '0')}`;
      members.push([`${key}.png`, images[i]], [`${key}.txt`, caption(i)]);
      if (i === 5) members.push(['broken00005.jpg', CORRUPT_JPEG], ['broken00005.txt', 'a broken one']);
    }
    await writeFile(join(dir, `shard-${String(s).padStart(6, '0')}.tar`), tarFile(members));
  }
  await writeFile(join(dir, 'tiny.json'), JSON.stringify(TINY_CONFIG, null, 2));
  for (const [c, name] of COLOUR_NAMES.entries()) {
    await mkdir(join(dir, 'folder', name), { recursive: true });
    for (let k = 0; k < 3; k++) {
      const png = pngSquare(COLOURS[name], { width: 20, height: 20, noise: 25, seed: 100 + c * 3 + k });
      await writeFile(join(dir, 'folder', name, `${k}.png`), png);
    }
  }
  return {
    dir,
    csv: join(dir, 'train.tsv'),
    valCsv: join(dir, 'val.tsv'),
    jsonl: join(dir, 'train.jsonl'),
    shards: join(dir, `shard-{000000..${String(shards - 1).padStart(6, '0')}}.tar`),
    config: join(dir, 'tiny.json'),
    folder: join(dir, 'folder'),
  };
}
