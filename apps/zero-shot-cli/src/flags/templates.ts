import { basename } from 'node:path';
import { imagenetTemplates } from '@moevl/vision';
import { InputError, UsageError } from '../errors.js';
import { readListFile } from './list_files.js';
import { isFile } from './text_lists.js';

export interface TemplatesChoice {
  templates: string[];
  /** `openai80`, `simple7`, the file's name (`file.json:key`), `custom` for a literal template, or a model's own set. */
  name: string;
  /** The key read from a JSON object of per-dataset lists (see --dataset-name). */
  datasetKey?: string;
}

/** CLIP_benchmark writes `{c}`, open_clip `{}`; the classifier fills both. */
const hasPlaceholder = (t: string) => t.includes('{}') || t.includes('{c}');

/**
 * `--templates openai80 | simple7 | <file> | "a photo of a {}."`. A value with a `{c}` or `{}` placeholder
 * is a template itself; a file (JSON list, CLIP_benchmark object keyed by dataset, or one per line) must
 * give every template a placeholder, so a typo is caught before the classifier is built rather than
 * silently producing one prompt per class without the class name.
 */
export async function resolveTemplatesFlag(
  value: string,
  { datasetName }: { datasetName?: string } = {},
): Promise<TemplatesChoice> {
  if (value === 'openai80' || value === 'simple7')
    return { templates: imagenetTemplates(value), name: value };
  if (hasPlaceholder(value)) return { templates: [value], name: 'custom' };
  if (!(await isFile(value))) {
    throw new UsageError(
      `--templates: "${value}" is not openai80, simple7, a template with a {c} or {} placeholder, or an existing file of templates.`,
    );
  }
  const {
    entries: templates,
    format,
    datasetKey,
  } = await readListFile(value, {
    flag: '--templates',
    noun: 'template',
    datasetName,
  });
  const bad = templates.filter((t) => !hasPlaceholder(t));
  if (bad.length > 0) {
    throw new InputError(
      `--templates: ${bad.length} ${format === 'json' ? 'template' : 'line'}(s) of ${value} have no {} placeholder ` +
        `(nor {c}) for the class name (first: "${bad[0]}").`,
    );
  }
  const name = basename(value) + (datasetKey === undefined ? '' : `:${datasetKey}`);
  return { templates, name, datasetKey };
}
