import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DatasetError } from './dataset_error.js';

/**
 * ImageNet-1k metadata shipped in the package's `data/imagenet/` folder: the 1000 class names used by
 * every published zero-shot number (open_clip / CLIP_benchmark), the synset ids (wnids) in sorted order —
 * the order class indices follow — and the prompt templates.
 *
 * The folder is found relative to this module: `src/data/x.ts` (vitest) and `dist/data/x.js` (installed)
 * are both two levels below the package root, so `../../data/imagenet/` reaches `packages/vision/data/`
 * from either. The files are read synchronously once and cached: they are small and the zero-shot code
 * wants them without an `await`. Callers get copies, so mutating a result cannot corrupt the cache.
 */

export const IMAGENET_NUM_CLASSES = 1000;

export type ImagenetTemplateSet = 'openai80' | 'simple7';

/**
 * URL of a file in the package's ImageNet data folder, computed from a module URL (this module's by
 * default). Exposed so tests can check that the `src/` and `dist/` layouts reach the same folder.
 */
export function imagenetDataUrl(file: string, moduleUrl: string = import.meta.url): URL {
  return new URL(`../../data/imagenet/${file}`, moduleUrl);
}

/** Absolute path of the package's `data/imagenet/` folder (or of a file in it). */
export function imagenetDataPath(file = ''): string {
  return fileURLToPath(imagenetDataUrl(file));
}

const cache = new Map<string, unknown>();

function readCached<T>(file: string, parse: (text: string, path: string) => T): T {
  if (!cache.has(file)) {
    const path = imagenetDataPath(file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new DatasetError(
        'bad-package-data',
        `Cannot read ImageNet metadata ${path}: ${(error as Error).message}. The package's data/ folder ` +
          'is missing or incomplete; reinstall @moevl/vision.',
        { cause: error },
      );
    }
    cache.set(file, parse(text, path));
  }
  return cache.get(file) as T;
}

/**
 * The 1000 ImageNet class names in class-index order (open_clip's `IMAGENET_CLASSNAMES`). Only 998 are
 * unique — "missile" (657, 744) and "sunglasses" (836, 837) appear twice — and they are kept as they are:
 * every published zero-shot accuracy was computed with these exact prompts.
 */
export function imagenetClassNames(): string[] {
  const names = readCached('classnames.json', (text, path) => {
    const parsed: unknown = JSON.parse(text);
    if (
      !Array.isArray(parsed) ||
      parsed.length !== IMAGENET_NUM_CLASSES ||
      !parsed.every((x) => typeof x === 'string')
    ) {
      throw new DatasetError('bad-package-data', `${path} must hold an array of 1000 strings.`);
    }
    return parsed as string[];
  });
  return [...names];
}

/**
 * The 1000 ImageNet synset ids (`n01440764`, ...) in sorted order: index i is class i. This is the order
 * of the synset folders of the train/val sets and of every model's output, and NOT the order of the
 * devkit's `meta.mat` ids.
 */
export function imagenetWnids(): string[] {
  const wnids = readCached('wnids.txt', (text, path) => {
    const lines = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
    const sorted = lines.every((w, i) => i === 0 || lines[i - 1] < w);
    if (lines.length !== IMAGENET_NUM_CLASSES || !sorted || !lines.every((w) => /^n\d{8}$/.test(w))) {
      throw new DatasetError('bad-package-data', `${path} must list 1000 distinct wnids in sorted order.`);
    }
    return lines;
  });
  return [...wnids];
}

/**
 * Prompt templates with a `{}` placeholder: `openai80` (CLIP's 80 ImageNet prompts, the ones behind
 * the reference results) or `simple7` (the 7-prompt subset CLIP's authors found almost as good).
 */
export function imagenetTemplates(name: ImagenetTemplateSet): string[] {
  const sets = readCached('templates.json', (text, path) => {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    for (const [key, value] of Object.entries(parsed)) {
      if (!Array.isArray(value) || !value.every((t) => typeof t === 'string' && t.includes('{}'))) {
        throw new DatasetError('bad-package-data', `${path}: template set "${key}" must be strings with {}.`);
      }
    }
    return parsed as Record<string, string[]>;
  });
  const set = Object.hasOwn(sets, name) ? sets[name] : undefined;
  if (!set) {
    throw new DatasetError(
      'bad-option',
      `Unknown template set "${String(name)}"; available: ${Object.keys(sets).join(', ')}.`,
    );
  }
  return [...set];
}
