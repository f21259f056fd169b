import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@moevl/core';
import { usageHeatmapSvg } from '@moevl/router';
import { type TaskExpertStatistics, taskExpertStatistics, usageShares } from './task_expert_statistics.js';

export interface TaskRoutingLayer {
  /** Layer name (e.g. `block3/moe`); characters other than letters, digits, `.`, `_`, `-` become `_` in file names. */
  name: string;
  /** [tasks][experts] counts of tokens routed to each expert, rows in the order of `taskNames`. */
  usage: number[][];
}

export interface TaskRoutingAnalysis {
  taskNames: string[];
  layers: TaskRoutingLayer[];
  /** Prefix of the pictures' titles. Default 'Expert usage per task'. */
  title?: string;
}

/** One layer's entry in `routing.json`. */
export interface TaskRoutingLayerReport extends TaskExpertStatistics {
  name: string;
  usage: number[][];
  /** Row shares P(E|t). */
  shares: number[][];
  /** File names (in the same folder) of the layer's pictures. */
  heatmap: string;
  similarityPlot: string;
}

/** The content of `routing.json`. */
export interface TaskRoutingReport {
  title: string;
  /** Entropies and mutual information are in nats. */
  units: 'nats';
  taskNames: string[];
  layers: TaskRoutingLayerReport[];
  /** Statistics averaged over the layers (similarity element-wise). */
  mean: TaskExpertStatistics;
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

const round3 = (m: number[][]) => m.map((r) => r.map((v) => Math.round(v * 1000) / 1000));

/**
 * Writes the routing analysis of a multi-task MoE to `dir` (created if needed): for every layer
 * `layer-<name>.svg` (task × expert usage, rows as shares) and `task-similarity-<name>.svg` (task × task
 * cosine similarity of those shares), then `routing.json` with the matrices and statistics per layer and
 * their mean over layers. One similarity picture per layer, because specialisation usually differs by depth
 * (shared early, task-specific late). Every file is written atomically; `routing.json` last, so a complete
 * JSON means its pictures are there. Returns the paths written.
 */
export async function writeTaskRoutingAnalysis(
  dir: string,
  analysis: TaskRoutingAnalysis,
): Promise<string[]> {
  const { taskNames, layers } = analysis;
  const title = analysis.title ?? 'Expert usage per task';
  if (!Array.isArray(taskNames) || taskNames.length === 0) {
    throw new Error(
      'writeTaskRoutingAnalysis: taskNames must list the tasks, in the order of the usage rows.',
    );
  }
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new Error('writeTaskRoutingAnalysis: layers is empty; pass at least one { name, usage } layer.');
  }
  const files = new Map<string, string>();
  for (const layer of layers) {
    const file = fileSafe(layer.name);
    if (files.has(file)) {
      throw new Error(
        `writeTaskRoutingAnalysis: layers "${files.get(file)}" and "${layer.name}" would write the same file ` +
          `layer-${file}.svg; give layers distinct names.`,
      );
    }
    files.set(file, layer.name);
    if (!Array.isArray(layer.usage) || layer.usage.length !== taskNames.length) {
      throw new Error(
        `writeTaskRoutingAnalysis: layer "${layer.name}" has ${layer.usage?.length} usage row(s) but there are ` +
          `${taskNames.length} tasks (${taskNames.join(', ')}); give one row per task.`,
      );
    }
  }

  const reports: TaskRoutingLayerReport[] = layers.map((layer) => {
    let stats: TaskExpertStatistics;
    try {
      stats = taskExpertStatistics(layer.usage);
    } catch (err) {
      throw new Error(`writeTaskRoutingAnalysis: layer "${layer.name}": ${(err as Error).message}`, {
        cause: err,
      });
    }
    const file = fileSafe(layer.name);
    return {
      name: layer.name,
      usage: layer.usage.map((r) => [...r]),
      shares: usageShares(layer.usage),
      ...stats,
      heatmap: `layer-${file}.svg`,
      similarityPlot: `task-similarity-${file}.svg`,
    };
  });

  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const r of reports) {
    const heatmap = usageHeatmapSvg(r.usage, {
      title: `${title} — ${r.name}`,
      rowLabels: taskNames,
      colLabels: r.usage[0].map((_, e) => `${e}`),
      normalizeRows: true,
    });
    // Cosines of non-negative share rows lie in [0, 1], which the usage colour scale expects.
    const similarity = usageHeatmapSvg(round3(r.taskSimilarity), {
      title: `Task similarity (cosine of expert shares) — ${r.name}`,
      rowLabels: taskNames,
      colLabels: taskNames,
      normalizeRows: false,
    });
    for (const [name, text] of [
      [r.heatmap, heatmap],
      [r.similarityPlot, similarity],
    ] as const) {
      const path = join(dir, name);
      await writeFileAtomic(path, text);
      written.push(path);
    }
  }

  const mean = (pick: (s: TaskExpertStatistics) => number) =>
    reports.reduce((a, r) => a + pick(r), 0) / reports.length;
  const report: TaskRoutingReport = {
    title,
    units: 'nats',
    taskNames: [...taskNames],
    layers: reports,
    mean: {
      conditionalEntropy: mean((s) => s.conditionalEntropy),
      expertEntropy: mean((s) => s.expertEntropy),
      mutualInformation: mean((s) => s.mutualInformation),
      taskSimilarity: taskNames.map((_, i) => taskNames.map((__, j) => mean((s) => s.taskSimilarity[i][j]))),
    },
  };
  const jsonPath = join(dir, 'routing.json');
  await writeFileAtomic(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  written.push(jsonPath);
  return written;
}
