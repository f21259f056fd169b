import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EVAL_TEMPLATES, FASHION_CAPTION_NAMES } from '../train/captions.js';

/** How shipped models are named on the command line: `builtin:<name>`. */
export const BUILTIN_PREFIX = 'builtin:';

/** A model file that ships inside this package, addressable as `builtin:<name>`. */
export interface BuiltinModel {
  name: string;
  /** Absolute path of the safetensors file (`saveLIMoE` format). */
  path: string;
  description: string;
  /** The dataset it was trained for (`--data fashion-mnist` in the CLI). */
  dataset: 'fashion-mnist';
  /** Class names and prompt templates to evaluate it with (templates never used in training). */
  classNames: readonly string[];
  templates: readonly string[];
}

// Resolved from the compiled module: dist/io/builtin.js → ../../checkpoints (and src/io under vitest).
const checkpoint = (file: string) => fileURLToPath(new URL(`../../checkpoints/${file}`, import.meta.url));

const CATALOG: Array<Omit<BuiltinModel, 'path'> & { file: string }> = [
  {
    name: 'limoe-fashion-mnist',
    file: 'limoe-fashion-mnist.safetensors',
    description:
      'LIMoE (4 blocks × 128, patch 7, 8 experts in blocks 1 and 3, top-1, BPR, 24 text tokens) trained ' +
      'contrastively on the official Fashion-MNIST training set (60,000 images) with class-name captions; ' +
      'see the @moevl/limoe README',
    dataset: 'fashion-mnist',
    classNames: FASHION_CAPTION_NAMES,
    templates: EVAL_TEMPLATES,
  },
];

/** The builtin models whose files are present in this installation. */
export function builtinModels(): BuiltinModel[] {
  return CATALOG.map(({ file, ...m }) => ({ ...m, path: checkpoint(file) })).filter((m) =>
    existsSync(m.path),
  );
}

/** A builtin model by name; an unknown name lists the available ones. */
export function resolveBuiltinModel(name: string): BuiltinModel {
  const found = builtinModels().find((m) => m.name === name);
  if (found != null) return found;
  const names = builtinModels().map((m) => m.name);
  throw new Error(
    names.length > 0
      ? `Unknown builtin model "${name}"; available: ${names.join(', ')}.`
      : `No builtin models are installed with @moevl/limoe (looked for ${CATALOG.map((m) => m.file).join(', ')}).`,
  );
}
