/**
 * Test support for the CLI tests (not a test file itself: vitest only runs `*.test.ts`): captured streams
 * for in-process runs of `main`, and generated image datasets in every layout, made of coloured squares
 * the tiny CLIP fixture classifies by mean colour. PNGs are encoded here with node:zlib, so the tests need
 * no image library of their own.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { main } from './cli.js';

/** The tiny CLIP model of @moevl/vision's tests: image embedding = mean colour, text = colour words. */
export const TINY_CLIP = fileURLToPath(
  new URL('../../../packages/vision/test/fixtures/tiny-clip', import.meta.url),
);

export interface RunResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `zero-shot <argv>` in this process with captured stdout and stderr. */
export async function run(argv: string[]): Promise<RunResult> {
  const chunks = { out: '', err: '' };
  const stream = (key: 'out' | 'err') =>
    new Writable({
      write(c, _e, cb) {
        chunks[key] += String(c);
        cb();
      },
    });
  const code = await main(argv, { out: stream('out'), err: stream('err') });
  return { code, ...chunks };
}

const made: string[] = [];

export async function tempDir(prefix = 'zs'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `moevl-cli-${prefix}-`));
  made.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** An 8-bit RGB PNG of colour `rgb` with seeded uniform noise of ±`noise` (the mean colour survives). */
export function pngSquare(
  rgb: readonly number[],
  { width = 40, height = 36, noise = 0, seed = 1 } = {},
): Buffer {
  let state = seed >>> 0 || 1;
  const rand = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3); // filter byte 0 (none) at the start of each row
    for (let i = 0; i < width * 3; i++) {
      const jitter = noise > 0 ? Math.round((rand() * 2 - 1) * noise) : 0;
      raw[row + 1 + i] = Math.min(255, Math.max(0, rgb[i % 3] + jitter));
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Bytes that start like a JPEG and are not one. */
export const CORRUPT_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x42, 0x41, 0x44]);

export const COLOURS: Record<string, [number, number, number]> = {
  red: [230, 25, 25],
  green: [25, 230, 25],
  blue: [25, 25, 230],
  yellow: [230, 230, 25],
};
export const COLOUR_NAMES = Object.keys(COLOURS);
/** Made-up synset ids for the colours, for the layouts whose labels are synsets (Kaggle). */
export const COLOUR_WNIDS = COLOUR_NAMES.map((_, i) => `n0000000${i + 1}`);

export type Layout = 'folders' | 'kaggle' | 'labels' | 'imagenetv2';

export interface ColourDataset {
  root: string;
  /** `--classes` file: colour names, or "synset name" lines for kaggle. */
  classesFile: string;
  images: number;
}

export interface ColourDatasetOptions {
  perClass?: number;
  /** Add one unreadable JPEG, labelled red. */
  corrupt?: boolean;
  /** The first `wrong` images of each class are painted in the next class's colour (top-1 < 1). */
  wrong?: number;
}

/**
 * `perClass` squares of each colour (every other one noisy) in `layout`: class folders named by colour,
 * a flat folder with Kaggle's LOC_val_solution.csv, a flat folder with labels.csv ("file,index"), or
 * ImageNetV2's integer folders.
 */
export async function colourDataset(
  layout: Layout,
  { perClass = 3, corrupt = false, wrong = 0 }: ColourDatasetOptions = {},
): Promise<ColourDataset> {
  const dir = await tempDir(layout);
  const root = join(dir, 'data');
  await mkdir(root);
  const rows: string[] = [];
  const write = async (c: number, name: string, bytes: Buffer) => {
    if (layout === 'folders' || layout === 'imagenetv2') {
      const folder = join(root, layout === 'folders' ? COLOUR_NAMES[c] : String(c));
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, name), bytes);
    } else {
      await writeFile(join(root, name), bytes);
      const stem = name.replace(/\.[^.]+$/, '');
      rows.push(layout === 'kaggle' ? `${stem},${COLOUR_WNIDS[c]} 0 0 10 10` : `${name},${c}`);
    }
  };
  let n = 0;
  for (let c = 0; c < COLOUR_NAMES.length; c++) {
    for (let i = 0; i < perClass; i++) {
      const noise = i % 2 === 1 ? 20 : 0;
      const colour = COLOURS[COLOUR_NAMES[(c + (i < wrong ? 1 : 0)) % COLOUR_NAMES.length]];
      await write(c, `img_${String(n).padStart(4, '0')}.png`, pngSquare(colour, { noise, seed: n + 1 }));
      n++;
    }
  }
  if (corrupt) await write(0, 'broken.jpg', CORRUPT_JPEG);
  if (layout === 'kaggle')
    await writeFile(
      join(root, 'LOC_val_solution.csv'),
      ['ImageId,PredictionString', ...rows].join('\n') + '\n',
    );
  if (layout === 'labels') await writeFile(join(root, 'labels.csv'), rows.join('\n') + '\n');
  const classesFile = join(dir, 'classes.txt');
  const lines = layout === 'kaggle' ? COLOUR_NAMES.map((c, i) => `${COLOUR_WNIDS[i]} ${c}`) : COLOUR_NAMES;
  await writeFile(classesFile, lines.join('\n') + '\n');
  return { root, classesFile, images: n + (corrupt ? 1 : 0) };
}

/** The stack-trace shape Node prints ("    at fn (file:line:col)"): never in front of a user. */
export const STACK_TRACE = /\n\s+at .+:\d+/;
