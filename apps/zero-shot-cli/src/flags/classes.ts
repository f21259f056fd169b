import { basename } from 'node:path';
import { FASHION_MNIST_CLASS_NAMES, imagenetClassNames, imagenetWnids, looksLikeWnid } from '@moevl/vision';
import type { ClassesOption } from '@moevl/vision';
import { InputError, UsageError } from '../errors.js';
import { readListFile } from './list_files.js';

/** What `--classes` (or `--labels`) resolved to: the loader's class space and the names put in prompts. */
export interface ClassesChoice {
  /** Passed to `loadImageFolderDataset` as `classes`. */
  option: Exclude<ClassesOption, 'auto' | 'folders'>;
  /** Class names in index order, as they are written into the prompt templates. */
  names: string[];
  /** How the choice is shown in reports: `imagenet`, `fashion-mnist`, the file's name (`file.json:key`). */
  label: string;
  /** The key read from a JSON object of per-dataset lists (see --dataset-name). */
  datasetKey?: string;
}

/**
 * `--classes imagenet | fashion-mnist | <file>`. A file is a JSON list of names, a CLIP_benchmark-style JSON
 * object of lists keyed by dataset (`datasetName` picks one), or text with one class per line. Each entry is
 * a name (`red`), an ImageNet synset alone (`n01440764`, named from ImageNet), or a synset and a name
 * (`n00000001 red`, for Kaggle-style labels files of other datasets). Entries are all names or all synsets.
 */
export async function resolveClassesFlag(
  value: string,
  { datasetName }: { datasetName?: string } = {},
): Promise<ClassesChoice> {
  if (value === 'imagenet') return { option: 'imagenet', names: imagenetClassNames(), label: 'imagenet' };
  if (value === 'fashion-mnist') {
    const names = [...FASHION_MNIST_CLASS_NAMES];
    return { option: names, names, label: 'fashion-mnist' };
  }
  const file = await readListFile(value, { flag: '--classes', noun: 'name', datasetName });
  const lines = file.entries;
  const datasetKey = file.datasetKey;
  const label = basename(value) + (datasetKey === undefined ? '' : `:${datasetKey}`);
  const withWnid = lines.filter((l) => looksLikeWnid(l.split(/[\s,]+/)[0]));
  if (withWnid.length === 0) return { option: lines, names: lines, label, datasetKey };
  if (withWnid.length !== lines.length) {
    throw new InputError(
      `--classes: ${value} mixes synset ids and plain class names (${withWnid.length} of ${lines.length} entries start ` +
        'with a synset); give either names only or "synset name" entries only.',
    );
  }
  const imagenet = new Map(imagenetWnids().map((w, i) => [w, i]));
  const inetNames = imagenetClassNames();
  const wnids: string[] = [];
  const names: string[] = [];
  for (const line of lines) {
    const [wnid, ...rest] = line.split(/[\s,]+/);
    const name = line.slice(wnid.length).replace(/^[\s,]+/, '');
    const index = imagenet.get(wnid);
    if (rest.length === 0 && index === undefined) {
      throw new InputError(
        `--classes: ${wnid} in ${value} is not an ImageNet-1k synset; give it a name in the same entry ("${wnid} name").`,
      );
    }
    wnids.push(wnid);
    names.push(name.length > 0 ? name : inetNames[index as number]);
  }
  return { option: { names, wnids }, names, label, datasetKey };
}

/**
 * `--labels "cat,dog,car"` (classify): comma-separated class names, each once — a repeated label would
 * split its probability between two identical rows ("50.0% red / 50.0% red").
 */
export function parseLabelsFlag(value: string): ClassesChoice {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0)
    throw new UsageError('--labels must list class names separated by commas, e.g. --labels "cat,dog".');
  const repeated = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  if (repeated.length > 0) {
    const quoted = repeated.map((n) => `"${n}"`).join(', ');
    throw new UsageError(`--labels lists ${quoted} more than once; give each class once.`);
  }
  return { option: names, names, label: 'labels' };
}
