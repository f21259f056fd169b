import { basename } from 'node:path';
import { FASHION_MNIST_CLASS_NAMES, imagenetClassNames, imagenetWnids, looksLikeWnid } from '@moevl/vision';
import type { ClassesOption } from '@moevl/vision';
import { InputError, UsageError } from '../errors.js';
import { readListFile } from './text_lists.js';

/** What `--classes` (or `--labels`) resolved to: the loader's class space and the names put in prompts. */
export interface ClassesChoice {
  /** Passed to `loadImageFolderDataset` as `classes`. */
  option: Exclude<ClassesOption, 'auto' | 'folders'>;
  /** Class names in index order, as they are written into the prompt templates. */
  names: string[];
  /** How the choice is shown in reports: `imagenet`, `fashion-mnist`, or the file's name. */
  label: string;
}

/**
 * `--classes imagenet | fashion-mnist | <file>`. A file has one class per line, either a name
 * (`red`), an ImageNet synset alone (`n01440764`, named from ImageNet), or a synset and a name
 * (`n00000001 red`, for Kaggle-style labels files of other datasets). Lines are all names or all synsets.
 */
export async function resolveClassesFlag(value: string): Promise<ClassesChoice> {
  if (value === 'imagenet') return { option: 'imagenet', names: imagenetClassNames(), label: 'imagenet' };
  if (value === 'fashion-mnist') {
    const names = [...FASHION_MNIST_CLASS_NAMES];
    return { option: names, names, label: 'fashion-mnist' };
  }
  const lines = await readListFile('--classes', value);
  const label = basename(value);
  const withWnid = lines.filter((l) => looksLikeWnid(l.split(/[\s,]+/)[0]));
  if (withWnid.length === 0) return { option: lines, names: lines, label };
  if (withWnid.length !== lines.length) {
    throw new InputError(
      `--classes: ${value} mixes synset ids and plain class names (${withWnid.length} of ${lines.length} lines start ` +
        'with a synset); write either one name per line or one "synset name" per line.',
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
        `--classes: ${wnid} in ${value} is not an ImageNet-1k synset; give it a name on the same line ("${wnid} name").`,
      );
    }
    wnids.push(wnid);
    names.push(name.length > 0 ? name : inetNames[index as number]);
  }
  return { option: { names, wnids }, names, label };
}

/** `--labels "cat,dog,car"` (classify): comma-separated class names. */
export function parseLabelsFlag(value: string): ClassesChoice {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0)
    throw new UsageError('--labels must list class names separated by commas, e.g. --labels "cat,dog".');
  return { option: names, names, label: 'labels' };
}
