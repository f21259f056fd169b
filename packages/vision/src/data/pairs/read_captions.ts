import { assertPositiveInteger } from '@moevl/core';
import { resolveMaxImageBytes } from '../../preprocess/read_image.js';
import { openSampler, pathsAndFormat } from './open_source.js';
import type { ImageCaptionSourceSpec } from './types.js';

export type ReadCaptionsSpec = Omit<ImageCaptionSourceSpec, 'preprocess' | 'seed' | 'augment'> & {
  seed?: number;
};

/** Visits the captions of the first `limit` samples that have one, in file (or shard) order. */
async function eachCaption(spec: ReadCaptionsSpec, limit: number, visit: (caption: string) => void) {
  const { paths, format } = await pathsAndFormat(spec);
  const sampler = await openSampler({ ...spec, seed: spec.seed ?? 0, preprocess: {} }, paths, format, {
    shuffle: false,
    maxImageBytes: resolveMaxImageBytes(spec.maxImageBytes),
    signal: spec.signal,
  });
  let seen = 0;
  try {
    while (seen < limit) {
      const pulled = await sampler.take(Math.min(256, limit - seen));
      if (pulled.length === 0) break;
      for (const { candidate } of pulled) {
        if ('skip' in candidate) continue;
        seen++;
        visit(candidate.caption);
      }
    }
  } finally {
    await sampler.close();
  }
}

/**
 * The first `limit` captions of a dataset in file (or shard) order, without decoding a single image: what
 * a tokenizer is trained on before the run. Rows without a usable caption are passed over; whether their
 * images decode is not looked at. Opens and checks the data as `openImageCaptionSource` does (same errors).
 */
export async function readImageCaptions(
  spec: ReadCaptionsSpec,
  { limit }: { limit: number },
): Promise<string[]> {
  assertPositiveInteger('readImageCaptions: limit', limit, (m) => new RangeError(m));
  const captions: string[] = [];
  await eachCaption(spec, limit, (c) => captions.push(c));
  return captions;
}

/**
 * How many samples of one pass have a caption (images not decoded; a sample whose image later fails to
 * decode is still counted): the epoch size `--epochs` turns into steps. Reads the whole dataset once.
 */
export async function countImageCaptions(spec: ReadCaptionsSpec): Promise<number> {
  let n = 0;
  await eachCaption(spec, Number.MAX_SAFE_INTEGER, () => n++);
  return n;
}
