import type { ImageTextModel } from '../model/image_text_model.js';
import { fillTemplate } from '../zeroshot/classifier.js';
import { ZeroShotEvalError } from './eval_error.js';

/** Prompts shown in a truncation warning. */
const EXAMPLES = 3;

/**
 * Checks the prompts of (classes × templates) with the model's own tokenizer before any text is embedded:
 * prompts longer than the text context are cut (the text tower never sees the rest), which is reported as
 * a warning with a count and examples; a template whose prompts, as the model reads them, are the same for
 * two differently named classes cannot tell those classes apart and is an error naming the template.
 * (Classes with the same name, like ImageNet's two "missile"s, are expected to share prompts.) Models
 * without `tokenize` are not checked.
 *
 * @returns the warnings (empty when every prompt fits)
 */
export function checkPrompts(
  model: ImageTextModel,
  classNames: readonly string[],
  templates: readonly string[],
): string[] {
  if (typeof model.tokenize !== 'function') return [];
  const texts = templates.flatMap((t) => classNames.map((c) => fillTemplate(t, c)));
  const { ids, truncated, contextLength } = model.tokenize(texts);
  templates.forEach((template, t) => {
    const seen = new Map<string, number>();
    classNames.forEach((name, c) => {
      const key = ids[t * classNames.length + c].join(',');
      const other = seen.get(key);
      if (other !== undefined && classNames[other] !== name) {
        throw new ZeroShotEvalError(
          `template "${template}" gives the same ${contextLength}-token prompt for "${classNames[other]}" ` +
            `and "${name}" with the tokenizer of ${model.name} (the class name is cut off); shorten the ` +
            'template or use a model with a longer text context.',
          { code: 'bad-template' },
        );
      }
      if (other === undefined) seen.set(key, c);
    });
  });
  const cut = texts.filter((_, i) => truncated[i]);
  if (cut.length === 0) return [];
  const shown = cut
    .slice(0, EXAMPLES)
    .map((p) => `"${p}"`)
    .join(', ');
  return [
    `${cut.length} of ${texts.length} prompts are longer than the ${contextLength}-token text context of ` +
      `${model.name} and were truncated (e.g. ${shown}${cut.length > EXAMPLES ? ', …' : ''}).`,
  ];
}
