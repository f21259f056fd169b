/**
 * Test support for the evaluation tests: ImageNet-style folders of noisy colour squares that the tiny
 * CLIP fixture classifies in a known way, and a model wrapper that counts image embeddings.
 * Not a test file itself (no `.test.ts` ending) and not shipped.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { ImageTextModel } from '../model/image_text_model.js';
import { writeSquare } from '../clip/tiny_clip.test.helpers.js';

/** Colours the fixture's text tower knows, as 0–255 RGB. Six of them, so top-5 is defined. */
export const COLOURS = {
  red: [230, 20, 20],
  green: [20, 230, 20],
  blue: [20, 20, 230],
  yellow: [230, 230, 20],
  cyan: [20, 230, 230],
  magenta: [230, 20, 230],
} satisfies Record<string, [number, number, number]>;
export type Colour = keyof typeof COLOURS;
/**
 * An orange that the fixture calls yellow, with red a clear second (its scores, before normalising: yellow
 * 138, red 120, green 75, magenta −53, cyan −85, blue −195), so no tie can flip a test.
 */
export const ORANGE: [number, number, number] = [230, 200, 20];
/** Folder (class) names in sorted order: the class index is the rank, as with ImageNet synsets. */
export const CLASS_NAMES = (Object.keys(COLOURS) as Colour[]).sort();
export const TEMPLATES = ['a photo of {}', 'a {} thing'];

const made: string[] = [];

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `moevl-eval-${prefix}-`));
  made.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/**
 * Writes `<root>/<class>/<k>.png` for each class: `spec[class]` lists the colour of each image (usually
 * the class itself; another colour, or an RGB triple such as `ORANGE`, makes a known mistake). Each image gets its own noise seed.
 */
export async function writeColourFolder(
  root: string,
  spec: Partial<Record<Colour, Array<Colour | [number, number, number]>>>,
): Promise<void> {
  let seed = 1;
  for (const [cls, colours] of Object.entries(spec)) {
    await mkdir(join(root, cls), { recursive: true });
    await Promise.all(
      colours.map((colour, k) =>
        writeSquare(
          join(root, cls),
          `img${String(k).padStart(2, '0')}`,
          typeof colour === 'string' ? COLOURS[colour] : colour,
          {
            noise: 20,
            seed: seed++,
          },
        ),
      ),
    );
  }
}

/** Wraps a model so tests can see how many images were embedded, and in which batches. */
export function countingModel(model: ImageTextModel): ImageTextModel & { imageBatches: number[] } {
  const imageBatches: number[] = [];
  return {
    name: model.name,
    embeddingDim: model.embeddingDim,
    logitScale: model.logitScale,
    preprocess: model.preprocess,
    imageBatches,
    embedImages: (pixels: tf.Tensor4D) => {
      imageBatches.push(pixels.shape[0]);
      return model.embedImages(pixels);
    },
    embedTexts: (texts: string[]) => model.embedTexts(texts),
    dispose: () => model.dispose(),
  };
}
