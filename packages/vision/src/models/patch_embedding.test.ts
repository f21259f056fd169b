import * as tf from '@tensorflow/tfjs';
import { deserializeLayer, serializeLayer } from '@moevl/core';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { PatchEmbedding, extractPatches } from './patch_embedding.js';

/** Per-patch reference in plain JS: token (gy, gx) = Σ_{c,i,j} x[c, gy·p+i, gx·p+j]·K[(c·p+i)·p+j] + bias. */
function referencePatchEmbedding(
  x: Float32Array,
  [b, c, h, w]: number[],
  kernel: Float32Array,
  bias: Float32Array,
  p: number,
  d: number,
): Float64Array {
  const [gh, gw] = [h / p, w / p];
  const out = new Float64Array(b * gh * gw * d);
  for (let n = 0; n < b; n++)
    for (let gy = 0; gy < gh; gy++)
      for (let gx = 0; gx < gw; gx++)
        for (let o = 0; o < d; o++) {
          let acc = bias[o];
          for (let ch = 0; ch < c; ch++)
            for (let i = 0; i < p; i++)
              for (let j = 0; j < p; j++) {
                const pixel = x[((n * c + ch) * h + gy * p + i) * w + gx * p + j];
                acc += pixel * kernel[((ch * p + i) * p + j) * d + o];
              }
          out[((n * gh + gy) * gw + gx) * d + o] = acc;
        }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThan(tol);
}

describeEachBackend('PatchEmbedding', () => {
  // A non-square image (8×12) so a swapped row/column order cannot pass.
  const make = () => new PatchEmbedding({ patchSize: 4, dim: 5, seed: 3 });
  const images = () => tf.randomNormal([2, 3, 8, 12], 0, 1, 'float32', 1);

  it('equals a direct per-patch computation in JS', () => {
    const layer = make();
    // A non-zero bias, so a missing bias would show.
    const bias = tf.tensor1d([0, 0.1, -0.2, 0.3, 0.4]);
    layer.loadWeights({ bias }, { strict: false });
    const x = images();
    const y = layer.apply(x);
    expect(y.shape).toEqual([2, 6, 5]);
    const w = layer.namedWeights();
    const ref = referencePatchEmbedding(
      x.dataSync() as Float32Array,
      x.shape,
      w.kernel.dataSync() as Float32Array,
      w.bias.dataSync() as Float32Array,
      4,
      5,
    );
    expectClose(y.dataSync(), ref);
    tf.dispose([bias, x, y]);
    layer.dispose();
  });

  it('equals tf.conv2d with kernel = stride = p (PyTorch weight layout [D, C, p, p])', () => {
    const layer = make();
    const x = images();
    const y = layer.apply(x);
    const ref = tf.tidy(() => {
      const w = layer.namedWeights();
      // kernel [C·p·p, D] is (c, i, j)-major → HWIO [p, p, C, D] for tf.conv2d on NHWC input.
      const filter = tf.transpose(tf.reshape(w.kernel, [3, 4, 4, 5]), [1, 2, 0, 3]) as tf.Tensor4D;
      const nhwc = tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D;
      return tf.add(tf.reshape(tf.conv2d(nhwc, filter, 4, 'valid'), [2, 6, 5]), w.bias);
    });
    expectClose(y.dataSync(), ref.dataSync());
    tf.dispose([x, y, ref]);
    layer.dispose();
  });

  it('passes finite-difference gradient checks w.r.t. the images and the kernel', () => {
    const layer = make();
    const x = tf.randomNormal([1, 3, 8, 4], 0, 1, 'float32', 2);
    expect(checkGradients((a) => layer.apply(a), [x]).maxRelativeError).toBeLessThan(1e-3);
    const k = tf.randomNormal([48, 3], 0, 1, 'float32', 3);
    const viaPatches = (a: tf.Tensor, b: tf.Tensor) =>
      tf.matMul(extractPatches(a as tf.Tensor4D, 4), b as tf.Tensor2D);
    expect(checkGradients(viaPatches, [x, k]).maxRelativeError).toBeLessThan(1e-3);
    tf.dispose([x, k]);
    layer.dispose();
  });

  it('leaks no tensors in forward and backward', async () => {
    const layer = make();
    const x = images();
    await expectNoLeakedTensors(() => layer.apply(x));
    const vars = Object.values(layer.trainableWeights());
    await expectNoLeakedTensors(() =>
      tf.variableGrads(() => tf.sum(tf.square(layer.apply(x))) as tf.Scalar, vars),
    );
    x.dispose();
    layer.dispose();
  });

  it('round-trips its config (same seed → same output)', () => {
    const layer = new PatchEmbedding({ patchSize: 2, dim: 4, inChannels: 1, useBias: false, seed: 8 });
    const spec = JSON.parse(JSON.stringify(serializeLayer(layer)));
    const copy = deserializeLayer<PatchEmbedding>(spec);
    expect(serializeLayer(copy)).toEqual(spec);
    expect(Object.keys(copy.namedWeights())).toEqual(['kernel']);
    const x = tf.randomNormal([1, 1, 4, 4], 0, 1, 'float32', 9);
    const [a, b] = [layer.apply(x), copy.apply(x)];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    layer.dispose();
    copy.dispose();
  });

  it('rejects images whose size is not a multiple of the patch, or not NCHW, with the fix named', () => {
    const layer = make();
    const odd = tf.zeros([1, 3, 10, 8]);
    expect(() => layer.apply(odd)).toThrow(
      /image size 10×8 is not a multiple of the patch size 4.*resize or crop/,
    );
    const nhwc = tf.zeros([1, 8, 8, 3]);
    expect(() => layer.apply(nhwc)).toThrow(
      /expected NCHW images \[B, 3, H, W\], got \[1,8,8,3\].*transpose/,
    );
    tf.dispose([odd, nhwc]);
    expect(() => new PatchEmbedding({ patchSize: 0, dim: 4 })).toThrow(
      /patchSize must be a positive integer/,
    );
    layer.dispose();
  });
});
