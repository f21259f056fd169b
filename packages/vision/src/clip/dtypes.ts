/**
 * Which ONNX files a transformers.js CLIP export keeps for each weight type. transformers.js 4.x picks the
 * file `onnx/<base><suffix>.onnx`, where the base is `text_model` (CLIPTextModelWithProjection),
 * `vision_model` (CLIPVisionModelWithProjection) or `model` (CLIPModel, the combined graph used by the
 * zero-shot pipeline), and the suffix comes from its `DEFAULT_DTYPE_SUFFIX_MAPPING` (utils/dtypes.js).
 * We mirror that table so a local folder can be checked, and a missing file reported by name, before
 * transformers.js is asked to open it.
 */
export const DTYPE_SUFFIXES = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
} as const;

/** A weight type transformers.js 4.x knows a file suffix for. */
export type TransformersDtype = keyof typeof DTYPE_SUFFIXES;

/** A transformers.js weight type, plus `quantized`: the transformers.js 2.x name for what 4.x calls `q8`. */
export type ClipDtype = TransformersDtype | 'quantized';

/** The transformers.js dtype a {@link ClipDtype} stands for. */
export function canonicalDtype(dtype: ClipDtype): TransformersDtype {
  if (dtype === 'quantized') return 'q8';
  if (!Object.hasOwn(DTYPE_SUFFIXES, dtype)) {
    const known = [...Object.keys(DTYPE_SUFFIXES), 'quantized'].join(', ');
    throw new Error(`Unknown dtype "${String(dtype)}": expected one of ${known}.`);
  }
  return dtype;
}

/** The three graph files of a CLIP export, relative to the model folder, for one dtype. */
export interface ClipOnnxFiles {
  text: string;
  vision: string;
  combined: string;
}

export function clipOnnxFiles(dtype: ClipDtype): ClipOnnxFiles {
  const suffix = DTYPE_SUFFIXES[canonicalDtype(dtype)];
  return {
    text: `onnx/text_model${suffix}.onnx`,
    vision: `onnx/vision_model${suffix}.onnx`,
    combined: `onnx/model${suffix}.onnx`,
  };
}

/**
 * The dtypes whose files appear in a listing of `onnx/` (file names only), for error messages that say
 * what a folder does offer when the requested dtype is missing.
 */
export function dtypesInListing(fileNames: readonly string[]): string[] {
  const present = new Set(fileNames);
  return Object.entries(DTYPE_SUFFIXES)
    .filter(([, s]) =>
      [`text_model${s}.onnx`, `vision_model${s}.onnx`, `model${s}.onnx`].some((f) => present.has(f)),
    )
    .map(([d]) => d);
}
