import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TaskRoutingReport, writeTaskRoutingAnalysis } from './write_task_routing_analysis.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'moevl-routing-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeTaskRoutingAnalysis', () => {
  it('writes routing.json and per-layer usage and similarity SVGs', async () => {
    const out = join(dir, 'analysis');
    const paths = await writeTaskRoutingAnalysis(out, {
      taskNames: ['class', 'depth'],
      layers: [
        {
          name: 'block1/moe',
          usage: [
            [3, 1],
            [0, 4],
          ],
        },
        {
          name: 'block3',
          usage: [
            [2, 2],
            [2, 2],
          ],
        },
      ],
      title: 'Mod-Squad <tiny>',
    });
    expect(paths.map((p) => p.slice(out.length + 1))).toEqual([
      'layer-block1_moe.svg',
      'task-similarity-block1_moe.svg',
      'layer-block3.svg',
      'task-similarity-block3.svg',
      'routing.json',
    ]);
    // Only the files reported: no temp files are left behind.
    expect((await readdir(out)).sort()).toEqual(paths.map((p) => p.slice(out.length + 1)).sort());
    for (const p of paths.filter((x) => x.endsWith('.svg'))) {
      const svg = await readFile(p, 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    }
    const heat = await readFile(join(out, 'layer-block1_moe.svg'), 'utf8');
    expect(heat).toContain('Mod-Squad &lt;tiny&gt; — block1/moe');
    expect(heat).toContain('class → 0: 75.0%');
    const sim = await readFile(join(out, 'task-similarity-block1_moe.svg'), 'utf8');
    expect(sim).toContain('class → depth: 0.316');

    const report = JSON.parse(await readFile(join(out, 'routing.json'), 'utf8')) as TaskRoutingReport;
    expect(report.units).toBe('nats');
    expect(report.taskNames).toEqual(['class', 'depth']);
    const [l1, l3] = report.layers;
    expect(l1.name).toBe('block1/moe');
    expect(l1.usage).toEqual([
      [3, 1],
      [0, 4],
    ]);
    expect(l1.shares).toEqual([
      [0.75, 0.25],
      [0, 1],
    ]);
    expect(l1.mutualInformation).toBeCloseTo(0.380396, 6);
    expect(l1.heatmap).toBe('layer-block1_moe.svg');
    expect(l3.mutualInformation).toBeCloseTo(0, 12);
    expect(l3.conditionalEntropy).toBeCloseTo(Math.log(2), 12);
    expect(report.mean.mutualInformation).toBeCloseTo(0.380396 / 2, 6);
    expect(report.mean.taskSimilarity[0][1]).toBeCloseTo((1 / Math.sqrt(10) + 1) / 2, 9);
  });

  it('rejects inconsistent input with the layer named', async () => {
    await expect(
      writeTaskRoutingAnalysis(dir, { taskNames: ['a', 'b'], layers: [{ name: 'x', usage: [[1, 2]] }] }),
    ).rejects.toThrow(/layer "x" has 1 usage row\(s\) but there are 2 tasks \(a, b\)/);
    await expect(
      writeTaskRoutingAnalysis(dir, {
        taskNames: ['a'],
        layers: [
          { name: 'b/1', usage: [[1]] },
          { name: 'b_1', usage: [[1]] },
        ],
      }),
    ).rejects.toThrow(/layers "b\/1" and "b_1" would write the same file/);
    await expect(
      writeTaskRoutingAnalysis(dir, { taskNames: ['a'], layers: [{ name: 'z', usage: [[0, 0]] }] }),
    ).rejects.toThrow(/layer "z": .*all zero/);
    await expect(writeTaskRoutingAnalysis(dir, { taskNames: ['a'], layers: [] })).rejects.toThrow(
      /layers is empty/,
    );
    expect(await readdir(dir)).toEqual([]);
  });
});
