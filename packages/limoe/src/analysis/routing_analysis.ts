import * as tf from '@tensorflow/tfjs';
import { type EvalRouting, writeFileAtomic } from '@moevl/core';
import { usageHeatmapSvg } from '@moevl/router';
import sharp from 'sharp';
import type { LIMoEModel, TextBatch } from '../model/limoe_model.js';

/** Per MoE layer: how each expert's routed tokens split between modalities, and per-modality success. */
export interface LayerRouting {
  block: number;
  /** `[modality][expert]` kept token choices (0 = image, 1 = text), summed over the analysed batches. */
  expertModalityUsage: number[][];
  /** Share of each expert's tokens that are image tokens (null for an expert that got none). */
  imageShareByExpert: Array<number | null>;
  routingSuccessImage: number | null;
  routingSuccessText: number | null;
}

export interface RoutingAnalysis {
  layers: LayerRouting[];
  pairs: number;
}

/**
 * The paper's modality-specialisation analysis: run image–caption pairs through the model (as in
 * training: packed, one routing group) and count, per MoE layer, which modality each expert receives.
 * `evalRouting` decides whether choices can be dropped: dropless (the default) shows where tokens go;
 * capacity-limited at the training factor (1.05) shows the per-modality routing success the paper's claim is
 * about, without the training noise.
 */
export function analyzeRouting(
  model: LIMoEModel,
  batches: Iterable<{ images: tf.Tensor4D; text: TextBatch }>,
  options: { evalRouting?: EvalRouting } = {},
): RoutingAnalysis {
  const sums = new Map<number, { usage: number[][]; success: Array<{ sum: number; n: number }> }>();
  let pairs = 0;
  for (const batch of batches) {
    const out = model.forward(batch.images, batch.text, {
      training: false,
      evalRouting: options.evalRouting,
    });
    pairs += batch.images.shape[0];
    for (const [key, value] of Object.entries(out.metrics)) {
      const block = Number(key.replace(/^block/, ''));
      const m = value as {
        expertModalityUsage?: number[][] | null;
        routingSuccessRateByModality?: Array<number | null> | null;
      };
      if (m.expertModalityUsage == null) continue;
      const entry = sums.get(block) ?? {
        usage: m.expertModalityUsage.map((r) => r.map(() => 0)),
        success: [0, 1].map(() => ({ sum: 0, n: 0 })),
      };
      m.expertModalityUsage.forEach((row, i) => row.forEach((v, j) => (entry.usage[i][j] += v)));
      (m.routingSuccessRateByModality ?? []).forEach((v, i) => {
        if (v != null && entry.success[i]) {
          entry.success[i].sum += v;
          entry.success[i].n += 1;
        }
      });
      sums.set(block, entry);
    }
    tf.dispose([out.imageEmbeddings, out.textEmbeddings, ...Object.values(out.auxLosses)]);
  }
  const layers = [...sums.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([block, { usage, success }]) => ({
      block,
      expertModalityUsage: usage,
      imageShareByExpert: usage[0].map((img, e) => {
        const total = img + (usage[1]?.[e] ?? 0);
        return total > 0 ? img / total : null;
      }),
      routingSuccessImage: success[0].n > 0 ? success[0].sum / success[0].n : null,
      routingSuccessText: success[1].n > 0 ? success[1].sum / success[1].n : null,
    }));
  return { layers, pairs };
}

/** Writes `routing.json`, and per layer an SVG and a PNG heatmap of modality × expert usage. */
export async function writeRoutingAnalysis(
  dir: string,
  analysis: RoutingAnalysis,
  title = 'LIMoE',
): Promise<string[]> {
  const written: string[] = [];
  await writeFileAtomic(`${dir}/routing.json`, JSON.stringify(analysis, null, 2) + '\n');
  written.push(`${dir}/routing.json`);
  for (const layer of analysis.layers) {
    const svg = usageHeatmapSvg(layer.expertModalityUsage, {
      title: `${title}: MoE block ${layer.block}, share of each modality's tokens per expert`,
      rowLabels: ['image', 'text'],
      colLabels: layer.expertModalityUsage[0].map((_, e) => `e${e}`),
      cell: 36,
    });
    await writeFileAtomic(`${dir}/routing-block${layer.block}.svg`, svg);
    const png = await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
    await writeFileAtomic(`${dir}/routing-block${layer.block}.png`, png);
    written.push(`${dir}/routing-block${layer.block}.svg`, `${dir}/routing-block${layer.block}.png`);
  }
  return written;
}
