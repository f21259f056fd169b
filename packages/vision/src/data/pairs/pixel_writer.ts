import type { BatchPixelWriter } from '../../preprocess/batch.js';
import type { ResolvedPreprocessConfig } from '../../preprocess/config.js';
import { DatasetError } from '../dataset_error.js';
import type { PilImage } from '../../preprocess/pil_image.js';
import { normalisationTable, outputShape, pilImageToTensorData } from '../../preprocess/pipeline.js';
import {
  randomResizedCropConfig,
  randomResizedCropData,
  randomResizedCropRect,
  type RandomResizedCropOptions,
} from '../../preprocess/random_resized_crop.js';
import { seededRng } from './row_table.js';

/**
 * Turns decoded images into batch rows: the evaluation transform (resize, center crop) or open_clip's
 * random resized crop, then RGB or grayscale, then normalisation. The crop of each sample is drawn from a
 * generator seeded by (seed, epoch, sample id), never from a shared stream, so it does not depend on the
 * order in which concurrent decodes finish and is the same after a resume.
 */

/** PIL's `convert('L')` from RGB (ITU-R 601-2 luma in 16-bit fixed point, `L24` in Pillow's Convert.c). */
function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

/** What a sample's crop is seeded by. */
export interface SampleKey {
  id: string;
  epoch: number;
}

/** The settings a `PairPixels` is made from: plain data, so a decode worker can make its own. */
export interface PairPixelsSettings {
  config: ResolvedPreprocessConfig;
  channels: 1 | 3;
  crop: RandomResizedCropOptions | null;
  seed: number;
}

export class PairPixels {
  readonly shape: [number, number, number];
  private readonly lut: Float32Array;
  /** Integer pixel values, for grayscale: the RGB planes are computed as 0..255 and then converted. */
  private readonly identity: Float32Array;
  private readonly cropConfig: ResolvedPreprocessConfig | null;
  private readonly scratch: Float32Array | null;

  private readonly config: ResolvedPreprocessConfig;
  private readonly channels: 1 | 3;
  private readonly crop: RandomResizedCropOptions | null;
  private readonly seed: number;

  constructor(readonly settings: PairPixelsSettings) {
    const { config, crop, channels } = settings;
    this.config = config;
    this.channels = channels;
    this.crop = crop;
    this.seed = settings.seed;
    this.cropConfig = crop ? randomResizedCropConfig(config) : null;
    if (!crop && !(config.doCenterCrop || (config.doResize && config.resizeMode === 'squash'))) {
      throw new DatasetError(
        'bad-option',
        'Batches need one image shape: enable doCenterCrop, use resizeMode squash, or turn on the random resized crop.',
      );
    }
    const [, h, w] = this.cropConfig ? outputShape(1, 1, this.cropConfig) : outputShape(1000, 1000, config);
    this.shape = [channels, h, w];
    this.lut = normalisationTable(config);
    this.identity = new Float32Array(768);
    for (let c = 0; c < 3; c++) for (let v = 0; v < 256; v++) this.identity[c * 256 + v] = v;
    this.scratch = channels === 1 ? new Float32Array(3 * h * w) : null;
  }

  get augmented(): boolean {
    return this.crop !== null;
  }

  /** Values per row: C·H·W. */
  get size(): number {
    return this.shape[0] * this.shape[1] * this.shape[2];
  }

  private rgb(img: PilImage, c: SampleKey, lut: Float32Array, out: Float32Array, offset: number): void {
    if (this.crop && this.cropConfig) {
      const rng = seededRng(this.seed, `crop ${c.epoch} ${c.id}`);
      const rect = randomResizedCropRect(img.width, img.height, rng, this.crop);
      randomResizedCropData(img, rect, this.cropConfig, lut, out, offset);
    } else {
      pilImageToTensorData(img, this.config, lut, out, offset);
    }
  }

  /** Writes the row of `candidate` (already decoded to `img`) into `out` at `offset`. */
  write(img: PilImage, candidate: SampleKey, out: Float32Array, offset: number): void {
    if (this.channels === 3) {
      this.rgb(img, candidate, this.lut, out, offset);
      return;
    }
    const s = this.scratch!;
    this.rgb(img, candidate, this.identity, s, 0);
    const plane = this.shape[1] * this.shape[2];
    const lut = this.lut; // channel 0's table: (v/255 − mean[0]) / std[0] in float32
    for (let i = 0; i < plane; i++) out[offset + i] = lut[luma(s[i], s[plane + i], s[2 * plane + i])];
  }

  /** The writer `prepareBatch` takes for a batch of `candidates` (row i of the batch is candidate i). */
  forBatch(candidates: readonly SampleKey[]): BatchPixelWriter {
    return {
      shape: this.shape,
      write: (img, i, out, offset) => this.write(img, candidates[i], out, offset),
    };
  }
}
