/**
 * Sobel gradient magnitude of a grayscale image, the target of the `edges` task. Computed in plain JS on
 * the clean pixels (it is data preparation, not a differentiable op) with zero padding, which matches
 * Fashion-MNIST's black background, and divided by 4 (the largest |Gx| on [0, 1] pixels) so the target
 * lives in about [0, 1.41] like the other dense target (the clean image in [0, 1]).
 */
export function sobelMagnitude(pixels: ArrayLike<number>, height: number, width: number): Float32Array {
  if (pixels.length !== height * width) {
    throw new Error(
      `sobelMagnitude: expected ${height}×${width} = ${height * width} pixels, got ${pixels.length}.`,
    );
  }
  const at = (y: number, x: number) =>
    y < 0 || y >= height || x < 0 || x >= width ? 0 : pixels[y * width + x];
  const out = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const gx =
        at(y - 1, x + 1) +
        2 * at(y, x + 1) +
        at(y + 1, x + 1) -
        at(y - 1, x - 1) -
        2 * at(y, x - 1) -
        at(y + 1, x - 1);
      const gy =
        at(y + 1, x - 1) +
        2 * at(y + 1, x) +
        at(y + 1, x + 1) -
        at(y - 1, x - 1) -
        2 * at(y - 1, x) -
        at(y - 1, x + 1);
      out[y * width + x] = Math.sqrt(gx * gx + gy * gy) / 4;
    }
  }
  return out;
}
