/**
 * How an image becomes a model input. Defaults are OpenAI CLIP's (REFERENCE.md §5): shortest side to 224
 * with antialiased bicubic, center crop 224, /255, CLIP mean/std, NCHW float32.
 */
export interface PreprocessConfig {
  /** Target of the resize: the shortest side (mode `shortest`) or both sides (mode `squash`). */
  size: number;
  /** Side of the square center crop. */
  cropSize: number;
  /** `shortest`: keep aspect ratio, shortest side to `size`; `squash`: resize to size×size. */
  resizeMode: 'shortest' | 'squash';
  /** Per-channel mean, in [0, 1] units. */
  mean: [number, number, number];
  /** Per-channel std, in [0, 1] units. */
  std: [number, number, number];
}

export const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

export const CLIP_PREPROCESS: PreprocessConfig = {
  size: 224,
  cropSize: 224,
  resizeMode: 'shortest',
  mean: CLIP_MEAN,
  std: CLIP_STD,
};
