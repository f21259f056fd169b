import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { Rng } from './rng.js';

function draws(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextUint32());
}

describe('Rng', () => {
  it('matches the xoshiro128** reference outputs for state [1, 2, 3, 4]', () => {
    // Reference values from Blackman & Vigna's C code (also the rand_xoshiro crate's test).
    const rng = Rng.fromState([1, 2, 3, 4]);
    expect(draws(rng, 10)).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804,
    ]);
  });

  it('gives the same sequence for the same seed and different ones for different seeds', () => {
    expect(draws(new Rng(42), 100)).toEqual(draws(new Rng(42), 100));
    expect(draws(new Rng(42), 4)).not.toEqual(draws(new Rng(43), 4));
    expect(draws(new Rng(0), 4)).not.toEqual(draws(new Rng(2 ** 32), 4));
    expect(draws(new Rng(-1), 4)).not.toEqual(draws(new Rng(2 ** 32 - 1), 4));
    for (const x of draws(new Rng(7), 1000)) {
      expect(Number.isInteger(x) && x >= 0 && x < 2 ** 32).toBe(true);
    }
  });

  it('continues identically after a state round-trip (including through JSON)', () => {
    const a = new Rng(123);
    a.normal();
    a.permutation(17);
    const saved = JSON.parse(JSON.stringify(a.getState())) as number[];
    const b = Rng.fromState(saved);
    const c = new Rng(999);
    c.setState(saved);
    const next = [a.uniform(), a.normal(), a.int(1000), ...draws(a, 20)];
    expect([b.uniform(), b.normal(), b.int(1000), ...draws(b, 20)]).toEqual(next);
    expect([c.uniform(), c.normal(), c.int(1000), ...draws(c, 20)]).toEqual(next);
  });

  it('rejects invalid seeds and states', () => {
    expect(() => new Rng(1.5)).toThrow(/seed/);
    expect(() => new Rng(2 ** 60)).toThrow(/seed/);
    expect(() => Rng.fromState([1, 2, 3])).toThrow(/4 uint32/);
    expect(() => Rng.fromState([1, 2, 3, 2 ** 32])).toThrow(/\[0, 2\^32\)/);
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(/all-zero/);
  });

  it('draws uniforms in [0, 1) with mean 1/2 and variance 1/12', () => {
    const rng = new Rng(1);
    const n = 100_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
      sq += u * u;
    }
    const mean = sum / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(sq / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
  });

  it('draws standard normals: mean, std, skew and kurtosis of 1e5 samples', () => {
    const rng = new Rng(2);
    const n = 100_000;
    const xs = Array.from({ length: n }, () => rng.normal());
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const m2 = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / n;
    const m3 = xs.reduce((a, x) => a + (x - mean) ** 3, 0) / n;
    const m4 = xs.reduce((a, x) => a + (x - mean) ** 4, 0) / n;
    // Standard errors at n = 1e5: mean 0.0032, std 0.0022, skew 0.0077, kurtosis 0.015; allow ~4σ.
    expect(Math.abs(mean)).toBeLessThan(0.015);
    expect(Math.abs(Math.sqrt(m2) - 1)).toBeLessThan(0.01);
    expect(Math.abs(m3 / m2 ** 1.5)).toBeLessThan(0.035);
    expect(Math.abs(m4 / m2 ** 2 - 3)).toBeLessThan(0.07);
  });

  it('draws unbiased integers (chi-square over 10 bins and a large non-power-of-two n)', () => {
    const rng = new Rng(3);
    const bins = 10;
    const n = 100_000;
    const counts = new Array<number>(bins).fill(0);
    for (let i = 0; i < n; i++) counts[rng.int(bins)]++;
    const expected = n / bins;
    const chi2 = counts.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: P(chi2 > 27.88) = 0.001.
    expect(chi2).toBeLessThan(27.88);

    // n = 3·2^30 would be visibly biased by a plain `x % n` (the low third of the range twice as likely).
    const big = 3 * 2 ** 30;
    let low = 0;
    for (let i = 0; i < 30_000; i++) {
      const k = rng.int(big);
      expect(k >= 0 && k < big).toBe(true);
      if (k < 2 ** 30) low++;
    }
    expect(Math.abs(low / 30_000 - 1 / 3)).toBeLessThan(0.02);
    expect(rng.int(1)).toBe(0);
    expect(() => rng.int(0)).toThrow(/n must be/);
    expect(() => rng.int(2.5)).toThrow(/n must be/);
  });

  it('shuffles in place into a permutation, and permutation(n) covers all orders of 3 evenly', () => {
    const rng = new Rng(4);
    const arr = Array.from({ length: 50 }, (_, i) => i * 10);
    const same = rng.shuffle(arr);
    expect(same).toBe(arr);
    expect([...arr].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i * 10));
    expect(arr).not.toEqual(Array.from({ length: 50 }, (_, i) => i * 10));

    const typed = rng.shuffle(new Float32Array([1, 2, 3, 4]));
    expect([...typed].sort()).toEqual([1, 2, 3, 4]);

    const counts = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      const key = rng.permutation(3).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(150);
    expect(rng.permutation(0)).toEqual([]);
  });

  it('forks deterministic children that differ from the parent and by label', () => {
    const a = new Rng(5);
    const b = new Rng(5);
    const childA = a.fork('data');
    const childB = b.fork('data');
    expect(draws(childA, 10)).toEqual(draws(childB, 10));
    expect(draws(a, 10)).toEqual(draws(b, 10));

    const p = new Rng(6);
    const state = p.getState();
    const x = draws(p.fork('x'), 4);
    p.setState(state);
    const y = draws(p.fork('y'), 4);
    expect(x).not.toEqual(y);
    const parentNext = draws(p, 4);
    expect(parentNext).not.toEqual(y);
    // Two unlabeled forks in a row differ because each consumes parent draws.
    const q = new Rng(7);
    expect(draws(q.fork(), 4)).not.toEqual(draws(q.fork(), 4));
  });
});

describeEachBackend('Rng tensors', () => {
  it('uniformTensor gives float32 values in [0, 1) reproducibly', () => {
    const t = new Rng(8).uniformTensor([3, 1000]);
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([3, 1000]);
    const v = t.dataSync<'float32'>();
    expect(v.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    const again = new Rng(8).uniformTensor([3, 1000]);
    expect(again.dataSync()).toEqual(v);
    tf.dispose([t, again]);
  });

  it('normalTensor has the requested mean and std, odd sizes included', () => {
    const t = new Rng(9).normalTensor([100_001], 2, 0.5);
    expect(t.dtype).toBe('float32');
    const v = t.dataSync<'float32'>();
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length);
    expect(Math.abs(mean - 2)).toBeLessThan(0.01);
    expect(Math.abs(std - 0.5)).toBeLessThan(0.005);
    t.dispose();
    const empty = new Rng(9).normalTensor([0, 3]);
    expect(empty.shape).toEqual([0, 3]);
    empty.dispose();
    expect(() => new Rng(9).normalTensor([2, -1])).toThrow(/non-negative integers/);
    expect(() => new Rng(9).normalTensor([2], 0, -1)).toThrow(/std/);
  });

  it('creates only the tensor it returns', async () => {
    const rng = new Rng(10);
    await expectNoLeakedTensors(() => [rng.uniformTensor([4, 4]), rng.normalTensor([5])]);
  });
});
