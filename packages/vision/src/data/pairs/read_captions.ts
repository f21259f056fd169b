import { resolveMaxImageBytes } from '../../preprocess/read_image.js';
import { openSampler, pathsAndFormat } from './open_source.js';
import type { ImageCaptionSourceSpec } from './types.js';

export type ReadCaptionsSpec = Omit<ImageCaptionSourceSpec, 'preprocess' | 'seed' | 'augment'> & {
  seed?: number;
};

/**
 * The first `limit` captions of a dataset in file (or shard) order, without decoding a single image: what
 * a tokenizer is trained on before the run. Rows without a usable caption are passed over; whether their
 * images decode is not looked at. Opens and checks the data as `openImageCaptionSource` does (same errors).
 */
export async function readImageCaptions(
  spec: ReadCaptionsSpec,
  { limit }: { limit: number },
): Promise<string[]> {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`readImageCaptions: limit must be a positive integer, got ${limit}.`);
  }
  const { paths, format } = await pathsAndFormat(spec);
  const sampler = await openSampler({ ...spec, seed: spec.seed ?? 0, preprocess: {} }, paths, format, {
    shuffle: false,
    maxImageBytes: resolveMaxImageBytes(spec.maxImageBytes),
    signal: spec.signal,
  });
  const captions: string[] = [];
  try {
    while (captions.length < limit) {
      const pulled = await sampler.take(Math.min(256, limit - captions.length));
      if (pulled.length === 0) break;
      for (const { candidate } of pulled) if (!('skip' in candidate)) captions.push(candidate.caption);
    }
  } finally {
    await sampler.close();
  }
  return captions;
}
