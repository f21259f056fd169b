import { describe, expect, it } from 'vitest';
import { fashionTaskSpec } from '../data/index.js';
import { MTL_VARIANTS, mtlVariantSetup } from './mtl_variants.js';

const tasks = (['category', 'coarse', 'edges', 'denoise'] as const).map(fashionTaskSpec);

describe('mtlVariantSetup', () => {
  it('builds every variant, differing only where the papers differ', () => {
    const s = Object.fromEntries(
      MTL_VARIANTS.map((v) => [
        v,
        mtlVariantSetup(v, { tasks: v === 'single' ? tasks.slice(0, 1) : tasks, seed: 1 }),
      ]),
    );
    expect(s.dense.config.moeMlp.blocks).toBe('none');
    expect(s.modsquad.config.moeAttention.blocks).toBe('even');
    expect(s.modsquad.config.moeMlp.miWeight).toBe(0.005);
    expect(s['modsquad-no-mi'].config.moeMlp.miWeight).toBe(0);
    expect(s['modsquad-no-mi'].config.moeAttention.miWeight).toBe(0);
    expect(s['moe-shared'].config.moeMlp.router).toBe('shared');
    expect({
      ...s['moe-shared'].config,
      moeMlp: { ...s['moe-shared'].config.moeMlp, router: 'per-task' },
    }).toEqual(s['adamv-no-aes'].config);
    expect(s.adamv.config).toEqual(s['adamv-no-aes'].config);
    expect(s.adamv.aes).toEqual({ every: 50, patience: 100, initialK: 2, maxK: 8 });
    expect(s['adamv-no-aes'].aes).toBeUndefined();
    // Equal MLP compute per token: dense width = k × expert width.
    expect(s.dense.config.mlpRatio * s.dense.config.dim).toBe(2 * s.modsquad.config.moeMlp.hiddenDim);
  });

  it('names the problem with a wrong variant or task count', () => {
    expect(() => mtlVariantSetup('single', { tasks, seed: 0 })).toThrow(/exactly one task/);
    expect(() => mtlVariantSetup('bogus' as never, { tasks, seed: 0 })).toThrow(/Unknown variant "bogus"/);
  });
});
