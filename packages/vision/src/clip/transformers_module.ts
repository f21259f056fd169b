import type * as Transformers from '@huggingface/transformers';
import { ClipLoadError } from './clip_load_error.js';

export type TransformersModule = typeof Transformers;

/** What to run when the optional package is missing (its dependency onnxruntime-node downloads a CUDA
 * provider at install unless told not to, so the flag is part of the advice). */
export const TRANSFORMERS_INSTALL = 'npm i @huggingface/transformers --onnxruntime-node-install=skip';

let loading: Promise<TransformersModule> | undefined;

/**
 * `@huggingface/transformers`, loaded on first use. It is an optional peer dependency of @moevl/vision:
 * its onnxruntime-node dependency runs an install script that downloads a CUDA provider and fails on an
 * offline machine, so @moevl/vision installs without it and only CLIP models need it.
 */
export function transformers(): Promise<TransformersModule> {
  loading ??= import('@huggingface/transformers').catch((err: unknown) => {
    loading = undefined;
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') {
      throw new ClipLoadError(
        `CLIP models run through the optional package @huggingface/transformers, which is not installed; ` +
          `install it with "${TRANSFORMERS_INSTALL}".`,
        '@huggingface/transformers',
        { cause: err },
      );
    }
    throw err;
  });
  return loading;
}
