import { basename } from 'node:path';
import { imagenetTemplates } from '@moevl/vision';
import { InputError, UsageError } from '../errors.js';
import { isFile, readListFile } from './text_lists.js';

export interface TemplatesChoice {
  templates: string[];
  /** `openai80`, `simple7`, the file's name, `custom` for a literal template, or a model's own set. */
  name: string;
}

const hasPlaceholder = (t: string) => t.includes('{}') || t.includes('{c}');

/**
 * `--templates openai80 | simple7 | <file: one per line> | "a photo of a {}."`. A value with a `{}`
 * placeholder is a template itself; a file must give every line a placeholder, so a typo is caught before
 * the classifier is built rather than silently producing one prompt per class without the class name.
 */
export async function resolveTemplatesFlag(value: string): Promise<TemplatesChoice> {
  if (value === 'openai80' || value === 'simple7')
    return { templates: imagenetTemplates(value), name: value };
  if (hasPlaceholder(value)) return { templates: [value], name: 'custom' };
  if (!(await isFile(value))) {
    throw new UsageError(
      `--templates: "${value}" is not openai80, simple7, a template with a {} placeholder, or an existing file of templates.`,
    );
  }
  const templates = await readListFile('--templates', value);
  const bad = templates.filter((t) => !hasPlaceholder(t));
  if (bad.length > 0) {
    throw new InputError(
      `--templates: ${bad.length} line(s) of ${value} have no {} placeholder for the class name (first: "${bad[0]}").`,
    );
  }
  return { templates, name: basename(value) };
}
