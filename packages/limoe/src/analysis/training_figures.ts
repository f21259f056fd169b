import { type CurvePanel, type CurveSeries, JsonlLog, trainingCurvesSvg, writeFileAtomic } from '@moevl/core';
import { openImageCaptionSource, type ImageCaptionSourceSpec } from '@moevl/vision';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { LIMoEModel } from '../model/limoe_model.js';
import type { TextTokenizer } from '../tokenizer/text_tokenizer.js';
import { captionBatchTensors } from '../train/caption_pair_data.js';
import { analyzeRouting, writeRoutingAnalysis } from './routing_analysis.js';

type LogRecord = Record<string, unknown>;

function series(records: readonly LogRecord[], name: string, read: (r: LogRecord) => unknown): CurveSeries {
  const points: Array<[number, number]> = [];
  for (const r of records) {
    const v = read(r);
    if (typeof r.step === 'number' && typeof v === 'number' && Number.isFinite(v)) points.push([r.step, v]);
  }
  return { name, points };
}

/**
 * The panels of a run's curves from its log records: training loss and contrastive part (and the
 * validation loss), retrieval R@1 both ways, zero-shot top-1, routing success per modality — each panel
 * only when the run logged it.
 */
export function trainingCurvePanels(records: readonly LogRecord[]): CurvePanel[] {
  const aux = (k: string) => (r: LogRecord) => (r.aux as Record<string, unknown> | undefined)?.[k];
  const panels: CurvePanel[] = [
    {
      title: 'loss',
      series: [
        series(records, 'train (total)', (r) => r.loss),
        series(records, 'train contrastive', aux('contrastive')),
        series(records, 'validation contrastive', (r) => r.val_loss),
      ],
    },
    {
      title: 'validation retrieval R@1',
      series: [
        series(records, 'image→text', (r) => r['val_image_to_text_R@1']),
        series(records, 'text→image', (r) => r['val_text_to_image_R@1']),
      ],
    },
    { title: 'zero-shot top-1', series: [series(records, 'top-1', (r) => r.zeroshot_top1)] },
    {
      title: 'routing success (training batches)',
      series: [
        series(records, 'image tokens', (r) => r.routingSuccessImage),
        series(records, 'text tokens', (r) => r.routingSuccessText),
      ],
    },
  ];
  return panels
    .map((p) => ({ ...p, series: p.series.filter((s) => s.points.length > 0) }))
    .filter((p) => p.series.length > 0);
}

/** `curves.svg` and `curves.png` in `dir` from the run's `log.jsonl` (the whole run, resumes included). */
export async function writeTrainingCurves(dir: string, logPath: string, title: string): Promise<string[]> {
  const records = (await JsonlLog.read(logPath)).filter((r) => r.event === undefined);
  const svg = trainingCurvesSvg(trainingCurvePanels(records), { title });
  await writeFileAtomic(`${dir}/curves.svg`, svg);
  await writeFileAtomic(
    `${dir}/curves.png`,
    await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer(),
  );
  return [`${dir}/curves.svg`, `${dir}/curves.png`];
}

/**
 * The paper's modality-specialisation figure for a model trained on pairs: up to `pairs` image–caption
 * pairs of `data` (evaluation transform, file order) run packed as in training, routed dropless, and per MoE
 * layer a heatmap of where each modality's tokens go (`routing.json`, `routing-block<i>.svg|png`). Nothing
 * for a dense model.
 */
export async function writePairsRoutingFigures(
  dir: string,
  model: LIMoEModel,
  tokenizer: TextTokenizer,
  data: Omit<ImageCaptionSourceSpec, 'seed' | 'loop' | 'shuffle' | 'augment'>,
  {
    pairs = 256,
    batchSize = 64,
    title = 'LIMoE',
  }: { pairs?: number; batchSize?: number; title?: string } = {},
): Promise<string[]> {
  if (model.moeBlocks.length === 0) return [];
  const source = await openImageCaptionSource({ ...data, seed: 0, loop: false, shuffle: false });
  const batches: Array<ReturnType<typeof captionBatchTensors>> = [];
  try {
    for (let seen = 0; seen < pairs;) {
      const b = await source.next(Math.min(batchSize, pairs - seen));
      if (b === null) break;
      batches.push(captionBatchTensors(b, tokenizer, model.config.contextLength, 'diagonal'));
      seen += b.shape[0];
    }
  } finally {
    await source.close();
  }
  try {
    if (batches.length === 0) return [];
    return await writeRoutingAnalysis(dir, analyzeRouting(model, batches), title);
  } finally {
    tf.dispose(batches.map((b) => [b.images, b.text.ids, b.text.mask]).flat());
  }
}
