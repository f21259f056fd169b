import { join } from 'node:path';
import { writeFileAtomic } from '@moevl/core';
import {
  type LIMoEModelConfig,
  type PairsDataSpec,
  type TrainLIMoEOnPairsResult,
  modelConfigLabel,
  saveLIMoE,
  writePairsRoutingFigures,
  writeTrainingCurves,
} from '@moevl/limoe';

/**
 * What a training run leaves next to its model: `model.safetensors` (weights, config, tokenizer and
 * normalisation), the curves of the whole run from its log, and the routing-specialisation heatmaps on the
 * first pairs of `figureData` (the validation data when given). Returns the files written.
 */
export async function writeTrainOutputs(
  out: string,
  result: TrainLIMoEOnPairsResult,
  config: LIMoEModelConfig,
  figureData: PairsDataSpec,
): Promise<string[]> {
  const modelPath = join(out, 'model.safetensors');
  await saveLIMoE(modelPath, result.model, result.tokenizer, result.metadata);
  const label = modelConfigLabel(config);
  const files = [modelPath];
  files.push(
    ...(await writeTrainingCurves(
      out,
      join(out, 'checkpoints', 'log.jsonl'),
      `${label}, seed ${result.model.config.seed}`,
    )),
  );
  files.push(
    ...(await writePairsRoutingFigures(
      out,
      result.model,
      result.tokenizer,
      { ...figureData, preprocess: result.preprocess },
      { title: label },
    )),
  );
  return files;
}

/** `summary.json`: what the command printed with --json. */
export async function writeTrainSummary(out: string, summary: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
}
