import * as tf from '@tensorflow/tfjs';

/**
 * Weight initialisers, named in configs so a layer rebuilt from its config initialises identically (the
 * seed travels in the config too). `xavierUniform` is ViT's Dense default (flax/vmoe); `truncatedNormal`
 * with std 0.02 is what CLIP / BERT-style embeddings use.
 */
export type InitializerSpec =
  'zeros' | 'ones' | 'xavierUniform' | 'lecunNormal' | { normal: number } | { truncatedNormal: number };

function fans(shape: number[]): [number, number] {
  if (shape.length < 2) return [shape[0] ?? 1, shape[0] ?? 1];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive];
}

export function initialize(spec: InitializerSpec, shape: number[], seed: number): tf.Tensor {
  if (spec === 'zeros') return tf.zeros(shape);
  if (spec === 'ones') return tf.ones(shape);
  const [fanIn, fanOut] = fans(shape);
  if (spec === 'xavierUniform') {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return tf.randomUniform(shape, -limit, limit, 'float32', seed);
  }
  if (spec === 'lecunNormal') {
    // Truncated at 2σ; the 0.8796 factor restores unit variance after truncation (as jax/keras do).
    return tf.truncatedNormal(shape, 0, Math.sqrt(1 / fanIn) / 0.87962566, 'float32', seed);
  }
  if (typeof spec === 'object' && 'normal' in spec)
    return tf.randomNormal(shape, 0, spec.normal, 'float32', seed);
  if (typeof spec === 'object' && 'truncatedNormal' in spec) {
    return tf.truncatedNormal(shape, 0, spec.truncatedNormal, 'float32', seed);
  }
  throw new Error(
    `Unknown initializer ${JSON.stringify(spec)}; use zeros, ones, xavierUniform, lecunNormal, {normal}, {truncatedNormal}.`,
  );
}

/** A 31-bit seed for child `name` of a parent seed (FNV-1a over the name, mixed with the parent). */
export function deriveSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d) >>> 0;
  h ^= h >>> 12;
  return h & 0x7fffffff;
}
