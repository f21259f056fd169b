import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { applyVipsThreads } from '../../preprocess/batch.js';
import { resolvePreprocessConfig } from '../../preprocess/config.js';
import { checkRandomResizedCrop } from '../../preprocess/random_resized_crop.js';
import { resolveMaxImageBytes } from '../../preprocess/read_image.js';
import { DatasetError } from '../dataset_error.js';
import {
  CsvTable,
  DEFAULT_CSV_CAPTION_KEY,
  DEFAULT_CSV_IMAGE_KEY,
  DEFAULT_CSV_SEPARATOR,
} from './csv_table.js';
import { FolderTable } from './folder_table.js';
import { JsonlTable } from './jsonl_table.js';
import { type Decoder, decodeWorkerScript, InThreadDecoder, WorkerPoolDecoder } from './decoders.js';
import { PairSource } from './pair_source.js';
import { PairPixels } from './pixel_writer.js';
import { RowSampler, type Sampler } from './row_table.js';
import type { ImageCaptionFormat, ImageCaptionSource, ImageCaptionSourceSpec } from './types.js';
import { DEFAULT_SHUFFLE_BUFFER, listShards, WebDatasetSampler } from './webdataset_sampler.js';

const FORMATS: readonly ImageCaptionFormat[] = ['csv', 'jsonl', 'webdataset', 'folder'];

/** The format a path stands for, from its name (or, for an existing folder, from being one). */
async function detectFormat(path: string): Promise<ImageCaptionFormat> {
  const lower = path.toLowerCase();
  if (/\.(tar|tgz|tar\.gz)$/.test(lower) || /\{[^}]*(\.\.|,)[^}]*\}/.test(path)) {
    return 'webdataset';
  }
  const ext = extname(lower);
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  const info = await stat(path).catch(() => null);
  if (info?.isDirectory()) return 'folder';
  if (info === null) {
    throw new DatasetError('missing-files', `The training data ${path} does not exist; check the path.`);
  }
  throw new DatasetError(
    'bad-option',
    `Cannot tell the format of ${path} from its name; pass type csv, jsonl, webdataset or folder.`,
  );
}

/** The files of a spec (`::` splits a list) and their format (named, or detected from the first). */
export async function pathsAndFormat(
  spec: Pick<ImageCaptionSourceSpec, 'path' | 'type'>,
): Promise<{ paths: string[]; format: ImageCaptionFormat }> {
  const paths = (Array.isArray(spec.path) ? spec.path : [spec.path]).flatMap((p) =>
    typeof p === 'string' ? p.split('::') : [p],
  );
  if (paths.length === 0 || paths.some((p) => typeof p !== 'string' || p === '')) {
    throw new DatasetError('bad-option', 'path must name a data file, a shard pattern or a folder.');
  }
  const requested = spec.type ?? 'auto';
  if (requested !== 'auto' && !FORMATS.includes(requested)) {
    throw new DatasetError(
      'bad-option',
      `Unknown dataset type "${String(requested)}"; use auto, ${FORMATS.join(', ')}.`,
    );
  }
  return { paths, format: requested === 'auto' ? await detectFormat(paths[0]) : requested };
}

function nonNegativeInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new DatasetError('bad-option', `${name} must be a whole number ≥ 0, got ${JSON.stringify(value)}.`);
  }
  return v;
}

/**
 * Opens image–caption pairs for training or validation: a CSV/TSV (open_clip's `filepath`/`title`
 * columns, tab-separated, by default), a JSONL, WebDataset tar shards, or an ImageNet-style image folder
 * with captions from templates. Checks everything that can be checked without decoding images (the
 * files exist and are regular, the columns or keys are there, every shard of the pattern exists) and
 * throws a `DatasetError` naming the file and what to do otherwise. Images are decoded batch by batch.
 */
export async function openImageCaptionSource(spec: ImageCaptionSourceSpec): Promise<ImageCaptionSource> {
  if (!Number.isSafeInteger(spec.seed)) {
    throw new DatasetError('bad-option', `seed must be a whole number, got ${JSON.stringify(spec.seed)}.`);
  }
  const { paths, format } = await pathsAndFormat(spec);
  const { channels = 3, ...preprocessConfig } = spec.preprocess ?? {};
  if (channels !== 1 && channels !== 3) {
    throw new DatasetError(
      'bad-option',
      `preprocess.channels must be 3 (RGB) or 1 (grayscale), got ${JSON.stringify(channels)}.`,
    );
  }
  const config = resolvePreprocessConfig(preprocessConfig);
  const crop = spec.augment?.randomResizedCrop ?? null;
  if (crop) checkRandomResizedCrop(crop);
  const settings = { config, channels, crop, seed: spec.seed } as const;
  const pixels = new PairPixels(settings); // checks that every image gets one shape
  const loop = spec.loop ?? false;
  const shuffle = spec.shuffle ?? loop;
  const readAhead = nonNegativeInt('readAhead', spec.readAhead, 2);
  const concurrency = Math.max(1, nonNegativeInt('concurrency', spec.concurrency, 4));
  const workers = nonNegativeInt(
    'workers',
    spec.workers,
    Math.min(4, Math.max(1, availableParallelism() - 1)),
  );
  const maxImageBytes = resolveMaxImageBytes(spec.maxImageBytes);
  const signal = spec.signal;
  signal?.throwIfAborted();

  const sampler = await openSampler(spec, paths, format, { shuffle, maxImageBytes, signal });
  // One libvips thread per image: images already decode in parallel on libuv's pool (see preprocessBatch).
  applyVipsThreads({});
  const decoderSettings = { ...settings, concurrency, maxImageBytes };
  const script = workers > 0 ? decodeWorkerScript() : null;
  const decoder: Decoder = script
    ? new WorkerPoolDecoder(script, workers, decoderSettings)
    : new InThreadDecoder(decoderSettings, signal);
  const shape = pixels.shape;
  return new PairSource(sampler, {
    format,
    shape,
    augmented: pixels.augmented,
    decoder,
    loop,
    readAhead,
    signal,
  });
}

/** The sampler of a format: rows (CSV, JSONL, folder) or shards, checked at open. */
export async function openSampler(
  spec: ImageCaptionSourceSpec,
  paths: string[],
  format: ImageCaptionFormat,
  { shuffle, maxImageBytes, signal }: { shuffle: boolean; maxImageBytes: number; signal?: AbortSignal },
): Promise<Sampler> {
  if (format === 'webdataset') {
    const bufferSize = nonNegativeInt('shuffleBuffer', spec.shuffleBuffer, DEFAULT_SHUFFLE_BUFFER);
    const shards = await listShards(paths);
    return new WebDatasetSampler(
      shards,
      { seed: spec.seed, shuffle, bufferSize, maxImageBytes, signal },
      paths,
    );
  }
  if (format === 'folder') {
    if (paths.length !== 1)
      throw new DatasetError('bad-option', 'An image folder dataset takes one folder, not a list.');
    const table = await FolderTable.open(paths[0], {
      templates: spec.templates,
      classNames: spec.classNames,
      layout: spec.layout,
      seed: spec.seed,
    });
    return new RowSampler(table, spec.seed, shuffle);
  }
  if (format === 'csv') {
    const table = await CsvTable.open(paths, {
      imageKey: spec.imageKey ?? DEFAULT_CSV_IMAGE_KEY,
      captionKey: spec.captionKey ?? DEFAULT_CSV_CAPTION_KEY,
      separator: spec.separator ?? DEFAULT_CSV_SEPARATOR,
      signal,
    });
    return new RowSampler(table, spec.seed, shuffle);
  }
  const table = await JsonlTable.open(paths, {
    imageKey: spec.imageKey,
    captionKey: spec.captionKey,
    signal,
  });
  return new RowSampler(table, spec.seed, shuffle);
}
