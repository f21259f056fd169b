import type { PilImage } from '@moevl/vision';

/**
 * An image file as the pixels Node's decoder (sharp, in PIL's modes) would give: decoded by the browser
 * with colour management and EXIF orientation off, as Node ignores both, and drawn unscaled on a canvas.
 * Opaque images become `RGB`, or `L` when every pixel is gray (what sharp reports for a grayscale PNG);
 * images with transparency `RGBA` (a canvas stores those premultiplied, so partly transparent pixels may
 * differ from Node's by a rounding step).
 */
export async function decodeImageFile(file: Blob): Promise<PilImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
      imageOrientation: 'none',
    });
  } catch (err) {
    throw new Error(`the browser cannot decode this file as an image (${(err as Error).message})`, {
      cause: err,
    });
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (ctx === null) throw new Error('no 2D canvas in this browser');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return rgbaToPilImage(ctx.getImageData(0, 0, width, height).data, width, height);
}

/** Canvas RGBA pixels → a PIL-mode image (`L`, `RGB` or `RGBA`, see `decodeImageFile`). */
export function rgbaToPilImage(rgba: Uint8ClampedArray, width: number, height: number): PilImage {
  const n = width * height;
  let opaque = true;
  let gray = true;
  for (let i = 0; i < n && (opaque || gray); i++) {
    const o = 4 * i;
    if (rgba[o + 3] !== 255) opaque = false;
    if (rgba[o] !== rgba[o + 1] || rgba[o] !== rgba[o + 2]) gray = false;
  }
  if (!opaque) return { mode: 'RGBA', width, height, channels: 4, data: new Uint8Array(rgba) };
  const channels = gray ? 1 : 3;
  const data = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = rgba[4 * i + c];
  return { mode: gray ? 'L' : 'RGB', width, height, channels, data };
}

/** 8-bit grayscale pixels (a Fashion-MNIST sample) as a PIL `L` image. */
export function grayPilImage(pixels: Uint8Array, side: number): PilImage {
  return { mode: 'L', width: side, height: side, channels: 1, data: pixels };
}
