import { describe, expect, it } from 'vitest';
import { AdaptiveExpertSelection, type AesState } from './index.js';

/** Upstream-like schedule: checks every 2000 steps, patience 5000 steps. */
const DN = 2000;
const make = (tasks = ['a'], extra: Partial<ConstructorParameters<typeof AdaptiveExpertSelection>[0]> = {}) =>
  new AdaptiveExpertSelection({ tasks, patience: 5000, ...extra });

/** Feed a scripted loss sequence for one task, one check every DN steps starting at step 0; returns k after each. */
function run(aes: AdaptiveExpertSelection, losses: number[], task = 'a', start = 0): number[] {
  return losses.map((l, i) => aes.update(start + i * DN, { [task]: l })[task].k);
}

describe('AdaptiveExpertSelection', () => {
  it('keeps k while the loss keeps improving', () => {
    const aes = make();
    expect(run(aes, [5, 4, 3, 2, 1, 0.5, 0.4, 0.3])).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    expect(aes.history.every((d) => d.event === 'improved')).toBe(true);
    expect(aes.isFrozen('a')).toBe(false);
  });

  it('raises k by 1 once step − lastImprovement > patience (steps, not checks)', () => {
    const aes = make();
    // improvement at 0; 2000 and 4000 flat (4000 − 0 ≤ 5000); 6000 − 0 > 5000 → increase
    expect(run(aes, [1, 1, 1, 1])).toEqual([2, 2, 2, 3]);
    expect(aes.history.at(-1)).toEqual({ step: 6000, task: 'a', event: 'increase', k: 3 });
    // exactly patience is not enough
    const edge = new AdaptiveExpertSelection({ tasks: ['a'], patience: 4000 });
    expect(run(edge, [1, 1, 1])).toEqual([2, 2, 2]);
    expect(edge.update(6000, { a: 1 }).a.k).toBe(3);
  });

  it('keeps the new k when the very next check improves, and can raise again later', () => {
    const aes = make();
    expect(run(aes, [1, 1, 1, 1, 0.9])).toEqual([2, 2, 2, 3, 3]);
    expect(aes.isFrozen('a')).toBe(false);
    // improvement at 8000; plateau until 14000 (14000 − 8000 > 5000) → 4
    expect(run(aes, [0.9, 0.9, 0.9], 'a', 10000)).toEqual([3, 3, 4]);
    expect(aes.history.map((d) => d.event)).toEqual(['improved', 'increase', 'improved', 'increase']);
  });

  it('undoes the change and freezes when the very next check does not improve; stays frozen', () => {
    const aes = make();
    expect(run(aes, [1, 1, 1, 1, 1])).toEqual([2, 2, 2, 3, 2]);
    expect(aes.isFrozen('a')).toBe(true);
    expect(aes.history.at(-1)).toEqual({ step: 8000, task: 'a', event: 'decrease-and-freeze', k: 2 });
    // long plateaus and improvements alike leave it frozen at 2
    const ks = run(aes, [1, 1, 1, 1, 1, 0.1, 0.1, 0.1, 0.1, 0.1], 'a', 10000);
    expect(ks.every((k) => k === 2)).toBe(true);
    expect(aes.update(100000, { a: 5 })).toEqual({ a: { k: 2, frozen: true } });
    expect(aes.history.slice(3).every((d) => d.event === 'frozen')).toBe(true);
  });

  it('respects minDelta: a tiny improvement is not an improvement', () => {
    const aes = make(['a'], { minDelta: 0.01 });
    expect(run(aes, [1, 0.995, 0.991, 0.999, 0.995])).toEqual([2, 2, 2, 3, 2]);
    expect(aes.isFrozen('a')).toBe(true);
  });

  it('never exceeds maxK and logs at-max', () => {
    const aes = make(['a'], { initialK: 2, maxK: 3 });
    // raise to 3, confirm with an improvement at 8000, plateau → would raise at 14000 but 3 is max
    expect(run(aes, [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5])).toEqual([2, 2, 2, 3, 3, 3, 3, 3, 3]);
    const events = aes.history.map((d) => d.event);
    expect(events).toEqual(['improved', 'increase', 'improved', 'at-max', 'at-max']);
    expect(aes.isFrozen('a')).toBe(false);
    expect(aes.k('a')).toBe(3);
    // initialK = maxK: at-max straight away
    const full = make(['a'], { initialK: 8 });
    expect(run(full, [1, 1, 1, 1])).toEqual([8, 8, 8, 8]);
    expect(full.history.at(-1)?.event).toBe('at-max');
  });

  it('keeps tasks independent: one freezes, the other keeps adapting (freeze is per task)', () => {
    const aes = make(['easy', 'hard']);
    const easy = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    const hard = [1, 1, 1, 1, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8];
    const out = easy.map((_, i) => aes.update(i * DN, { easy: easy[i], hard: hard[i] }));
    expect(out.map((r) => r.easy.k)).toEqual([2, 2, 2, 3, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(out.map((r) => r.hard.k)).toEqual([2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5]);
    expect(out.at(-1)).toEqual({ easy: { k: 2, frozen: true }, hard: { k: 5, frozen: false } });
    expect(aes.history.filter((d) => d.task === 'hard' && d.event === 'increase').map((d) => d.step)).toEqual(
      [6000, 14000, 22000],
    );
  });

  it('round-trips its state through JSON and continues identically', () => {
    const losses = (i: number) => ({
      x: i < 3 ? 1 - i * 0.1 : 0.8,
      y: [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5][i % 8],
    });
    const ref = make(['x', 'y'], { minDelta: 0.001 });
    const first = make(['x', 'y'], { minDelta: 0.001 });
    for (let i = 0; i < 5; i++) {
      ref.update(i * DN, losses(i));
      first.update(i * DN, losses(i));
    }
    const saved = JSON.parse(JSON.stringify(first.getState())) as AesState;
    const resumed = make(['x', 'y'], { minDelta: 0.001 });
    resumed.setState(saved);
    expect(resumed.getState()).toEqual(ref.getState());
    for (let i = 5; i < 20; i++) {
      expect(resumed.update(i * DN, losses(i))).toEqual(ref.update(i * DN, losses(i)));
    }
    expect(resumed.getState()).toEqual(ref.getState());
    expect(resumed.history).toEqual(ref.history);
    // non-increasing steps are still rejected after resume
    expect(() => resumed.update(19 * DN, losses(0))).toThrow(/strictly increasing/);
  });

  it('setState rejects a mismatched or malformed state', () => {
    const saved = make(['a']).getState();
    expect(() => make(['b']).setState(saved)).toThrow(/tasks/);
    expect(() => make(['a'], { maxK: 4 }).setState(saved)).toThrow(/maxK/);
    const bad = JSON.parse(JSON.stringify(saved)) as AesState;
    bad.tasks.a.k = 99;
    expect(() => make(['a']).setState(bad)).toThrow(/k of task "a"/);
  });

  it('validates its inputs with clear errors', () => {
    expect(() => make([])).toThrow(/non-empty/);
    expect(() => make(['a', 'a'])).toThrow(/duplicate/);
    expect(() => make(['a'], { initialK: 9 })).toThrow(/initialK .*\[1, 8\]/);
    expect(() => make(['a'], { initialK: 1, minK: 2 })).toThrow(/initialK/);
    expect(() => make(['a'], { initialK: 1.5 })).toThrow(/initialK/);
    expect(() => make(['a'], { minK: 3, maxK: 2 })).toThrow(/maxK/);
    expect(() => make(['a'], { patience: -1 })).toThrow(/patience/);
    expect(() => make(['a'], { patience: Number.NaN })).toThrow(/patience/);
    expect(() => make(['a'], { minDelta: -0.1 })).toThrow(/minDelta/);

    const aes = make(['a', 'b']);
    expect(() => aes.update(0, { a: 1, b: 1, c: 1 })).toThrow(/unknown task "c"/);
    expect(() => aes.update(0, { a: 1 })).toThrow(/missing validation loss for task "b"/);
    expect(() => aes.update(0, { a: 1, b: Number.NaN })).toThrow(/task "b".*finite.*NaN/);
    expect(() => aes.update(0, { a: Number.POSITIVE_INFINITY, b: 1 })).toThrow(/finite/);
    expect(() => aes.update(-1, { a: 1, b: 1 })).toThrow(/step/);
    expect(() => aes.k('c')).toThrow(/unknown task "c"/);
    // failed calls did not change anything
    expect(aes.history).toEqual([]);
    aes.update(10, { a: 1, b: 1 });
    expect(() => aes.update(10, { a: 1, b: 1 })).toThrow(/strictly increasing, got 10 after 10/);
    expect(() => aes.update(5, { a: 1, b: 1 })).toThrow(/strictly increasing/);
    expect(aes.update(11, { a: 1, b: 1 })).toEqual({
      a: { k: 2, frozen: false },
      b: { k: 2, frozen: false },
    });
  });

  it('returns copies: mutating history or results does not touch the controller', () => {
    const aes = make();
    const r = aes.update(0, { a: 1 });
    r.a.k = 7;
    aes.history[0].k = 7;
    expect(aes.k('a')).toBe(2);
    expect(aes.history[0].k).toBe(2);
  });
});
