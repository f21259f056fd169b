import { EVAL_TEMPLATES, FASHION_CAPTION_NAMES } from '../train/captions.js';

/**
 * The models that ship in this package's checkpoints/ folder, by name and file name: what they are,
 * without where they are (builtin.ts resolves files on Node; a page fetches the file from its own server).
 */

/** How shipped models are named on the command line: `builtin:<name>`. */
export const BUILTIN_PREFIX = 'builtin:';

/** A shipped model: its file name in checkpoints/, what it is and how to evaluate it. */
export interface BuiltinModelEntry {
  name: string;
  /** File name in the package's checkpoints/ folder (`saveLIMoE` format). */
  file: string;
  description: string;
  /** The dataset it was trained for (`--data fashion-mnist` in the CLI). */
  dataset: 'fashion-mnist';
  /** Class names and prompt templates to evaluate it with (templates never used in training). */
  classNames: readonly string[];
  templates: readonly string[];
}

export const BUILTIN_MODEL_CATALOG: readonly BuiltinModelEntry[] = [
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
