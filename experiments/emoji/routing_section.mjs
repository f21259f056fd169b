// The routing section of docs/experiments/emoji.md, from the committed docs/experiments/emoji/routing.json
// (written by routing.mjs). Empty when that file is absent.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const pct = (x) => (x == null ? '–' : `${(100 * x).toFixed(1)}%`);

export function routingSection(docsDir) {
  const file = join(docsDir, 'routing.json');
  if (!existsSync(file)) return [];
  const { runs } = JSON.parse(readFileSync(file, 'utf8'));
  const rows = runs.flatMap((r) =>
    r.layers.map((l) => {
      const [img, txt] = l.expertModalityUsage.map((row) => row.reduce((a, b) => a + b, 0));
      const base = img / (img + txt);
      const textLeaning = l.imageShareByExpert.filter((s) => s != null && s < base - 0.1).length;
      const imageOnly = l.imageShareByExpert.filter((s) => s != null && s > 0.98).length;
      return (
        `| ${r.seed} | ${l.block} | ${pct(l.routingSuccessAtCf105.image)} | ${pct(l.routingSuccessAtCf105.text)} | ` +
        `${pct(base)} | ${imageOnly} | ${textLeaning} | ${pct(Math.min(...l.imageShareByExpert))} |`
      );
    }),
  );
  const training = runs.map(
    (r) =>
      `seed ${r.seed}: image ${pct(r.training.routingSuccessImage)}, text ${pct(r.training.routingSuccessText)}`,
  );
  return [
    '### LIMoE routing on the held-out style',
    '',
    `All ${runs[0].pairs} Twemoji pairs through each trained LIMoE as in training (packed in groups of 64 pairs, ` +
      'images and captions routed together; `experiments/emoji/routing.mjs`, summary in ' +
      '`docs/experiments/emoji/routing.json`). Routing success per modality is measured capacity-limited at the ' +
      "training factor 1.05 (the share of each modality's token choices that got an expert slot; evaluation " +
      "above is dropless, so nothing is dropped there). Specialisation is read dropless: each expert's share of " +
      "image tokens, against the share of image tokens overall (64 image tokens per pair against the caption's " +
      'real tokens).',
    '',
    '| seed | MoE block | routing success, image (cf 1.05) | routing success, text (cf 1.05) | image share of all tokens | experts > 98% image | experts leaning to text (image share ≥ 10 points below overall) | lowest image share of an expert |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `During training (last 60 steps, both layers together, training batches with noise): ${training.join('; ')}.`,
    '',
    '![modality specialisation](emoji/specialisation.svg)',
    '',
  ];
}
