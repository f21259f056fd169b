import sharp, { type Metadata, type SharpOptions } from 'sharp';
import { type ImageSource, ImagePreprocessError } from './errors.js';
import { readGifFirstFrame } from './gif.js';
import { jpegComponents } from './jpeg_header.js';
import { type ReadImageOptions, readImageSource } from './read_image.js';
import { MODE_CHANNELS, type PilImage, type PilMode } from './pil_image.js';

/**
 * sharp input options that make libvips decode like `PIL.Image.open`:
 * - `ignoreIcc`: PIL never applies embedded ICC profiles (a profile changed one photo's mean error from
 *   0.0015 to 0.08 in normalised units, docs/reference.md §5);
 * - `autoOrient: false`: PIL's CLIP transform does not apply EXIF orientation (no `exif_transpose`);
 * - first page/frame only (GIF, TIFF), as `Image.open` without `seek`;
 * - `failOn: 'warning'`: a truncated file is an error, like PIL's default
 *   `ImageFile.LOAD_TRUNCATED_IMAGES = False`.
 * No resize happens in sharp, so JPEG shrink-on-load never kicks in. (`sequentialRead` only changes
 * how libvips schedules the decode: same pixels, ~20% faster.)
 */
const SHARP_INPUT: SharpOptions = {
  ignoreIcc: true,
  sequentialRead: true,
  autoOrient: false,
  page: 0,
  pages: 1,
  failOn: 'warning',
};

function reasonOf(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].trim();
}

/** The PIL mode `Image.open` would give, from sharp's header metadata. */
export function pilModeOf(meta: Metadata): PilMode {
  if (meta.space === 'cmyk') return 'CMYK';
  if (meta.isPalette) return 'P';
  const channels = meta.channels ?? 3;
  if (channels === 1 && meta.bitsPerSample === 1) return '1';
  // 16-bit greyscale PNG opens as mode I (32-bit integers); 16-bit RGB(A)/LA keep the high byte.
  if (channels === 1 && meta.depth === 'ushort') return 'I';
  if (channels === 1) return 'L';
  if (channels === 2) return 'LA';
  if (channels === 3) return 'RGB';
  if (channels === 4) return 'RGBA';
  throw new Error(`unsupported layout: ${channels} channels in colour space ${meta.space}`);
}

/** Keeps the listed bands of an interleaved buffer (drops alpha, or picks L and A out of RGBA). */
function pickBands(data: Uint8Array, channels: number, bands: number[]): Uint8Array {
  const n = data.length / channels;
  const out = new Uint8Array(n * bands.length);
  for (let i = 0, o = 0; i < n; i++) for (const b of bands) out[o++] = data[i * channels + b];
  return out;
}

/** GIF pixels that libvips made transparent black get the palette colour PIL's `convert('RGB')` shows. */
function fillGifTransparency(data: Uint8Array, channels: number, bytes: Uint8Array): void {
  const gif = readGifFirstFrame(bytes);
  if (channels !== 4 || gif?.transparency == null) return;
  const t = gif.transparency;
  // Without a palette PIL's mode is L and the index is the grey level.
  const colour = gif.palette ? gif.palette.subarray(3 * t, 3 * t + 3) : Uint8Array.of(t, t, t);
  if (colour.length < 3) return;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) data.set(colour, i);
  }
}

/** Mode and the few header facts the decode needs; JPEGs skip libvips' header read. */
async function probe(bytes: Uint8Array): Promise<{ mode: PilMode; gif: boolean }> {
  const components = jpegComponents(bytes);
  if (components === 1 || components === 3 || components === 4) {
    return { mode: components === 1 ? 'L' : components === 3 ? 'RGB' : 'CMYK', gif: false };
  }
  const meta = await sharp(bytes, SHARP_INPUT).metadata();
  if (meta.format === 'gif') {
    // PIL opens the first frame as P, or as L when its palette is the identity greyscale.
    return { mode: readGifFirstFrame(bytes)?.palette === null ? 'L' : 'P', gif: true };
  }
  return { mode: pilModeOf(meta), gif: false };
}

async function decodeBytes(bytes: Uint8Array): Promise<PilImage> {
  const { mode, gif } = await probe(bytes);
  let img = sharp(bytes, SHARP_INPUT);
  if (mode === 'CMYK') {
    // Keep the four ink bands (Adobe-inverted JPEGs come out like PIL's); PIL converts to RGB with its
    // own naive formula later, never through a CMYK profile.
    img = img.pipelineColourspace('cmyk').toColourspace('cmyk');
  } else if (mode === 'I') {
    img = img.toColourspace('grey16');
  } else if (mode === 'L' && !gif) {
    img = img.toColourspace('b-w');
  } else if (mode === '1') {
    img = img.toColourspace('b-w');
  }
  const { data, info } = await img.raw({ depth: mode === 'I' ? 'ushort' : 'uchar' }).toBuffer({
    resolveWithObject: true,
  });
  const { width, height } = info;
  if (mode === 'I') {
    // Native-endian 16-bit samples; copy first if the Buffer is not 2-byte aligned.
    const bytes16 = data.byteOffset % 2 === 0 ? data : Uint8Array.from(data);
    const u16 = new Uint16Array(bytes16.buffer, bytes16.byteOffset, width * height);
    return { mode, width, height, channels: 1, data: Int32Array.from(u16) };
  }
  let px: Uint8Array = data;
  let channels: number = info.channels;
  if (gif) fillGifTransparency(px, channels, bytes);
  const want = MODE_CHANNELS[mode];
  if (channels !== want) {
    // sharp expands greyscale+alpha to RGBA and palettes with transparency to RGBA.
    const bands = mode === 'LA' ? [0, 3] : mode === 'L' ? [0] : [0, 1, 2, 3].slice(0, want);
    px = pickBands(px, channels, bands);
    channels = want;
  }
  return { mode, width, height, channels, data: px };
}

/**
 * Decodes an image the way `PIL.Image.open(source)` sees it: the same pixels (bit-exact on the fixtures
 * for JPEG, PNG, WebP, GIF and TIFF) in the same mode, so the resize that follows can reproduce PIL's
 * mode-specific behaviour. Reading and decoding run on libuv's thread pool (sharp), not on the calling
 * thread; a path is read only if it is a regular file within `maxBytes` (see `readImageFile`).
 * Throws `ImagePreprocessError` naming the source for missing, unreadable, special or too large files,
 * empty input, unknown formats and corrupt or truncated data, and the signal's reason when aborted.
 */
export async function decodeImage(source: ImageSource, options: ReadImageOptions = {}): Promise<PilImage> {
  return decodeImageBytes(await readImageSource(source, options), source);
}

/** `decodeImage` for bytes already read from `source` (by `readImageSource`), which errors name. */
export async function decodeImageBytes(bytes: Uint8Array, source: ImageSource): Promise<PilImage> {
  if (bytes.length === 0) throw new ImagePreprocessError(source, 'empty input (0 bytes)');
  try {
    return await decodeBytes(bytes);
  } catch (err) {
    const reason = reasonOf(err);
    const why = /unsupported image format/i.test(reason)
      ? `not a supported image format (${reason})`
      : `corrupt or unreadable image data (${reason})`;
    throw new ImagePreprocessError(source, why, { cause: err });
  }
}
