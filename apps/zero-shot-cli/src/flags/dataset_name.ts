import { UsageError } from '../errors.js';

/** `--dataset-name NAME`: the key of CLIP_benchmark-style JSON list files (`{"cifar10": [...], ...}`). */
export function parseDatasetNameFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '')
    throw new UsageError('--dataset-name needs the key of a JSON list file, e.g. --dataset-name cifar10.');
  return value;
}

/**
 * A --dataset-name that no file was keyed by did nothing; saying so beats a run that silently ignored it
 * (the user most likely meant a JSON object file and passed another one).
 */
export function checkDatasetNameUsed(
  datasetName: string | undefined,
  files: ReadonlyArray<{ datasetKey?: string } | undefined>,
): void {
  if (datasetName === undefined || files.some((f) => f?.datasetKey !== undefined)) return;
  throw new UsageError(
    `--dataset-name ${datasetName} picks a list from a JSON object file (CLIP_benchmark's shape), but no ` +
      '--classes or --templates file is one; drop --dataset-name or pass such a file.',
  );
}
