import { describe, expect, it } from 'vitest';
import { trainingCurvesSvg } from './curves_svg.js';

describe('trainingCurvesSvg', () => {
  it('draws a panel per metric over one step axis, leaving out values that are not finite', () => {
    const svg = trainingCurvesSvg(
      [
        {
          title: 'loss',
          series: [
            {
              name: 'train',
              points: [
                [1, 2.1],
                [2, 1.7],
                [3, NaN],
                [4, 1.2],
              ],
            },
            {
              name: 'val <contrastive>',
              points: [
                [2, 1.9],
                [4, 1.5],
              ],
            },
          ],
        },
        { title: 'R@1', series: [{ name: 'image→text', points: [[4, 0.25]] }] },
      ],
      { title: 'run & co' },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(1); // a single validation point
    expect(svg).toContain('run &amp; co');
    expect(svg).toContain('val &lt;contrastive&gt;');
    expect(svg).not.toContain('NaN');
    // The train line has three finite points.
    expect(/<polyline points="([^"]+)"/.exec(svg)![1].split(' ')).toHaveLength(3);
  });

  it('refuses to draw nothing', () => {
    expect(() => trainingCurvesSvg([{ title: 'loss', series: [{ name: 'x', points: [[1, NaN]] }] }])).toThrow(
      /no finite point/,
    );
  });
});
