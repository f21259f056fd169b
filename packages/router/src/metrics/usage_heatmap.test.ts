import { describe, expect, it } from 'vitest';
import { usageHeatmapSvg } from './usage_heatmap.js';

describe('usageHeatmapSvg', () => {
  it('draws one cell per entry with row shares in the tooltips', () => {
    const svg = usageHeatmapSvg(
      [
        [30, 10, 0, 60],
        [0, 5, 5, 0],
      ],
      { title: 'layer 3 <moe>', rowLabels: ['image', 'text'] },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<rect x=/g)).toHaveLength(8);
    expect(svg).toContain('image → 3: 60.0%');
    expect(svg).toContain('text → 1: 50.0%');
    expect(svg).toContain('layer 3 &lt;moe&gt;');
  });

  it('rejects empty, ragged or negative matrices', () => {
    expect(() => usageHeatmapSvg([])).toThrow(/non-empty rectangular/);
    expect(() => usageHeatmapSvg([[1, 2], [3]])).toThrow(/non-empty rectangular/);
    expect(() => usageHeatmapSvg([[1, -2]])).toThrow(/finite and ≥ 0/);
  });
});
