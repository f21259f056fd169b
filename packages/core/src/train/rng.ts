import * as tf from '@tensorflow/tfjs';

/**
 * Seeded pseudo-random numbers for training: data order, dropout masks, noise, initialisation.
 *
 * Why not `Math.random` or tfjs' own seeded ops: training that is resumed from a checkpoint must replay
 * exactly the random sequence the uninterrupted run would have seen, and for that the generator state has
 * to be small, readable and writable. `Math.random` cannot be seeded, and tfjs' `seed` arguments reseed a
 * fresh generator per call with no state to save.
 *
 * The core is xoshiro128** (Blackman & Vigna, 2018): 128 bits of state, period 2^128 − 1, passes BigCrush,
 * and needs only 32-bit integer arithmetic (`Math.imul`, shifts), so it is fast in plain JavaScript.
 * Seeds are expanded into the state with splitmix32 (the golden-ratio Weyl sequence followed by the
 * murmur3 finaliser), as the xoshiro authors recommend, so that nearby seeds (0, 1, 2, ...) give unrelated
 * streams.
 */

const TWO_POW_32 = 4294967296;
const TWO_POW_M24 = 1 / 16777216;
const TWO_POW_M53 = 1 / 9007199254740992;
const GOLDEN = 0x9e3779b9;

/** murmur3's 32-bit finaliser: a bijection on uint32 with full avalanche. */
function fmix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** FNV-1a over the UTF-16 code units of `s`, finalised; only used to turn fork labels into numbers. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

function checkShape(shape: number[], what: string): number {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`Rng.${what}: shape must hold non-negative integers, got [${shape.join(', ')}]`);
    }
  }
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Seeded PRNG (xoshiro128**) with tensor helpers and exact save/restore.
 *
 * Every draw advances the state deterministically, so `Rng.fromState(rng.getState())` continues with the
 * exact numbers `rng` would have produced next. `normal()` keeps no cached second Box–Muller value, so the
 * four state words are the whole state.
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /**
   * @param seed any safe integer (negative and > 2^32 allowed; all 53 bits matter).
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`Rng: seed must be a safe integer, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) | 0;
    // splitmix32 stream from the low word; the high word perturbs each output through an independent
    // mix so seeds differing only above bit 31 still give different states.
    let weyl = lo;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      weyl = (weyl + GOLDEN) | 0;
      words.push((fmix32(weyl) ^ fmix32(Math.imul(hi + i + 1, GOLDEN))) >>> 0);
    }
    this.setWords(words);
  }

  /** Restores a generator saved with {@link Rng.getState}; the next draws continue that sequence. */
  static fromState(state: readonly number[]): Rng {
    const rng = new Rng(0);
    rng.setState(state);
    return rng;
  }

  /** The full state as four uint32 numbers (JSON- and checkpoint-friendly). */
  getState(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Replaces the state with one returned by {@link Rng.getState}. */
  setState(state: readonly number[]): void {
    if (!Array.isArray(state) || state.length !== 4) {
      throw new Error(`Rng.setState: expected 4 uint32 words, got ${JSON.stringify(state)}`);
    }
    for (const w of state) {
      if (!Number.isInteger(w) || w < 0 || w >= TWO_POW_32) {
        throw new Error(
          `Rng.setState: state words must be integers in [0, 2^32), got ${JSON.stringify(state)}`,
        );
      }
    }
    if (state.every((w) => w === 0))
      throw new Error('Rng.setState: the all-zero state is invalid for xoshiro');
    this.setWords(state);
  }

  private setWords(words: readonly number[]): void {
    this.s0 = words[0] | 0;
    this.s1 = words[1] | 0;
    this.s2 = words[2] | 0;
    this.s3 = words[3] | 0;
    // xoshiro never leaves the all-zero state; seeding cannot realistically hit it, but be safe.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32 random bits as an integer in [0, 2^32). */
  nextUint32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits (two draws), so every double multiple of 2^-53 is reachable. */
  uniform(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) * TWO_POW_M53;
  }

  /**
   * Standard normal sample by Box–Muller (one value per call, two uniforms; the sine partner is dropped so
   * no cache has to live in the state). 53-bit uniforms reach about ±8.6σ.
   */
  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1], so log never sees 0
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Unbiased integer in [0, n) for integer 1 ≤ n ≤ 2^32, by rejection: draws at or above the largest
   * multiple of n below 2^32 are redrawn, so `x % n` is exactly uniform (at most half the draws rejected).
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffles `array` in place (Fisher–Yates, every permutation equally likely) and returns it. */
  shuffle<A extends { length: number; [index: number]: unknown }>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A uniformly random permutation of 0..n−1, e.g. the sample order of one epoch. */
  permutation(n: number): number[] {
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`Rng.permutation: n must be a non-negative integer, got ${n}`);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }

  /**
   * float32 tensor of uniforms in [0, 1). Uses 24 bits per element (one draw) so every value is exactly
   * representable in float32 and rounding can never produce 1.
   */
  uniformTensor(shape: number[]): tf.Tensor {
    const size = checkShape(shape, 'uniformTensor');
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = (this.nextUint32() >>> 8) * TWO_POW_M24;
    return tf.tensor(data, shape, 'float32');
  }

  /**
   * float32 tensor of normals N(mean, std²). Box–Muller pairs fill two elements per pair of uniforms (so
   * the values differ from calling {@link Rng.normal} `size` times); math is float64, rounded at the end.
   */
  normalTensor(shape: number[], mean = 0, std = 1): tf.Tensor {
    const size = checkShape(shape, 'normalTensor');
    if (!Number.isFinite(mean)) throw new Error(`Rng.normalTensor: mean must be finite, got ${mean}`);
    if (!Number.isFinite(std) || std < 0)
      throw new Error(`Rng.normalTensor: std must be finite and ≥ 0, got ${std}`);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
      const theta = 2 * Math.PI * this.uniform();
      data[i] = mean + std * r * Math.cos(theta);
      if (i + 1 < size) data[i + 1] = mean + std * r * Math.sin(theta);
    }
    return tf.tensor(data, shape, 'float32');
  }

  /**
   * Derives a child generator, e.g. one per data-loader worker or per task, whose stream is statistically
   * independent of the parent's. Forking consumes four words from the parent, so it is deterministic and
   * resumable like any draw; `label` is hashed into the child seed so children forked at the same parent
   * state under different labels (`'dropout'` vs `'data'`) still differ.
   */
  fork(label = ''): Rng {
    const h = hashString(label);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const w = this.nextUint32();
      words.push(fmix32((w ^ fmix32((h + Math.imul(i + 1, GOLDEN)) | 0)) >>> 0));
    }
    const child = new Rng(0);
    child.setWords(words);
    return child;
  }
}
