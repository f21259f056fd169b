// Photo-like test images for the benchmarks (not tests): generated, so nothing is downloaded.
import sharp from 'sharp';

/** A photo-like JPEG (500×375 by default): smooth colour field + texture + edges, from a seed. */
export async function syntheticJpeg(seed, w = 500, h = 375) {
  const px = Buffer.alloc(w * h * 3);
  let s = seed * 2654435761 + 1;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const c = Array.from({ length: 9 }, () => rnd() * 255);
  const cx = rnd() * w;
  const cy = rnd() * h;
  const r = 40 + rnd() * 120;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = x / w;
      const v = y / h;
      const inDisc = (x - cx) ** 2 + (y - cy) ** 2 < r * r;
      const tex = 18 * Math.sin(x * 0.31 + Math.sin(y * 0.07) * 4) + (rnd() - 0.5) * 10;
      for (let k = 0; k < 3; k++) {
        const base = inDisc ? c[6 + k] : c[k] * (1 - u) + c[3 + k] * v;
        px[(y * w + x) * 3 + k] = Math.max(0, Math.min(255, base + tex));
      }
    }
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}
