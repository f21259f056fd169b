// Writes docs/experiments/emoji.md (and docs/experiments/emoji/per-seed.svg) from the committed summaries in
// docs/experiments/emoji/runs/ (written by evaluate.mjs) and docs/experiments/emoji/benchmark.json: chance
// levels, the untrained sanity rows, per-seed numbers and means, and paired differences LIMoE − dense with
// 95% intervals (bootstrap over the Twemoji test items, pooled over seeds and per seed, and Student's t over
// seeds). Every number in the doc comes from here; experiments/emoji/discussion.md (written by hand after
// reading the tables) is appended.
//   node experiments/emoji/report.mjs [epochs=20]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pairedDifference } from '../lib/paired.mjs';
import { routingSection } from './routing_section.mjs';

const epochs = process.argv[2] ?? '20';
const repo = new URL('../../', import.meta.url).pathname;
const docsDir = join(repo, 'docs/experiments/emoji');
const runsDir = join(docsDir, 'runs');
const bench = JSON.parse(readFileSync(join(docsDir, 'benchmark.json'), 'utf8'));
const N = bench.emoji;
const load = (f) => JSON.parse(readFileSync(join(runsDir, f), 'utf8'));
const files = readdirSync(runsDir).filter((f) => f.endsWith('.json'));
const twemoji = files.filter((f) => !f.endsWith('.noto.json')).map(load);
const noto = files.filter((f) => f.endsWith('.noto.json')).map(load);
const trained = (rs) => rs.filter((r) => r.run.startsWith(`e${epochs}-`));
const untrained = twemoji.filter((r) => r.run.startsWith('untrained-'));

const ORDER = ['limoe', 'dense', 'two-tower'];
const LABEL = { limoe: 'LIMoE', dense: 'dense single tower', 'two-tower': 'dense two towers' };
const variants = ORDER.filter((v) => trained(twemoji).some((r) => r.variant === v));
const bySeed = (rs, v) => rs.filter((r) => r.variant === v).sort((a, b) => a.seed - b.seed);

// Per test item: 1 if the metric counts it as a success.
const METRICS = [
  {
    key: 'r1',
    short: 'i→t R@1',
    name: 'image→text R@1',
    of: (r) => r.perItem.imageToTextRank.map((x) => (x < 1 ? 1 : 0)),
  },
  {
    key: 'r1nf',
    short: 'i→t R@1, no flags',
    name: 'image→text R@1, all but flags',
    // Over the emoji that are not flags only (flags look alike in every style: the flag fixes the design).
    of: (r) =>
      r.perItem.imageToTextRank
        .map((x, i) => (bench.categories[bench.category[i]] === 'flags' ? -1 : x < 1 ? 1 : 0))
        .filter((x) => x >= 0),
  },
  {
    key: 'r5',
    short: 'i→t R@5',
    name: 'image→text R@5',
    of: (r) => r.perItem.imageToTextRank.map((x) => (x < 5 ? 1 : 0)),
  },
  {
    key: 'cat',
    short: 'category top-1',
    name: `category top-1 (${bench.categories.length} classes)`,
    of: (r) => r.perItem.categoryPrediction.map((p, i) => (p === bench.category[i] ? 1 : 0)),
  },
  {
    key: 'sub',
    short: 'subcategory top-1',
    name: `subcategory top-1 (${bench.subcategories.length} classes)`,
    of: (r) => r.perItem.subcategoryPrediction.map((p, i) => (p === bench.subcategory[i] ? 1 : 0)),
  },
];
const rate = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const value = (r, m) => rate(m.of(r));
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const pct = (x) => (x == null ? '–' : `${(100 * x).toFixed(2)}%`);
const pts = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)}`;
const ci = (c) => (c ? `[${pts(c[0])}, ${pts(c[1])}]` : '–');
const pval = (p) => (p < 0.001 ? '< 0.001' : p.toFixed(3));

// Chance levels.
const majority = (labels, C) => {
  const counts = new Array(C).fill(0);
  for (const y of labels) counts[y]++;
  return Math.max(...counts) / labels.length;
};
const CHANCE = {
  r1: { random: 1 / N, note: `1/N, N = ${N} captions` },
  r5: { random: 5 / N, note: `5/N` },
  r1nf: { random: 1 / N, note: '1/N (ranked among all N captions)' },
  cat: {
    random: 1 / bench.categories.length,
    majority: majority(bench.category, bench.categories.length),
    note: `1/C; always "${bench.categories[bench.perCategory.indexOf(Math.max(...bench.perCategory))]}"`,
  },
  sub: {
    random: 1 / bench.subcategories.length,
    majority: majority(bench.subcategory, bench.subcategories.length),
    note: `1/C; always "${bench.subcategories[bench.perSubcategory.indexOf(Math.max(...bench.perSubcategory))]}"`,
  },
};
const chanceCell = (m) =>
  `${pct(CHANCE[m.key].random)}` +
  (CHANCE[m.key].majority != null ? ` (majority ${pct(CHANCE[m.key].majority)})` : '');

// Results table: one row per run, then the mean of each variant.
const rowOf = (label, seed, vals, extra) =>
  `| ${label} | ${seed} | ${vals.map(pct).join(' | ')} | ${extra} |`;
const resultRows = [`| chance | – | ${METRICS.map(chanceCell).join(' | ')} | ${(N + 1) / 2} |`];
for (const r of untrained.sort((a, b) => a.run.localeCompare(b.run)))
  resultRows.push(
    rowOf(
      `untrained ${r.config.replace('.json', '')} (random init)`,
      r.seed,
      METRICS.map((m) => value(r, m)),
      r.metrics.image_to_text_mean_rank.toFixed(0),
    ),
  );
for (const v of variants)
  for (const r of bySeed(trained(twemoji), v))
    resultRows.push(
      rowOf(
        LABEL[v],
        r.seed,
        METRICS.map((m) => value(r, m)),
        r.metrics.image_to_text_mean_rank.toFixed(0),
      ),
    );
const meanRows = variants.map((v) => {
  const rs = bySeed(trained(twemoji), v);
  return `| **${LABEL[v]}, mean of ${rs.length}** | ${rs.map((r) => r.seed).join(', ')} | ${METRICS.map((m) => `**${pct(mean(rs.map((r) => value(r, m))))}**`).join(' | ')} | ${mean(rs.map((r) => r.metrics.image_to_text_mean_rank)).toFixed(0)} |`;
});

// Mean per-class recall (balanced accuracy), where the majority rule scores only 1/C.
const via = (r, task) => r.metrics[`${task}_viaNearestCaption`];
const balancedRow = (label, rs) =>
  `| ${label} | ${pct(mean(rs.map((r) => r.metrics.category_meanPerClassRecall)))} | ${pct(mean(rs.map((r) => r.metrics.subcategory_meanPerClassRecall)))} | ` +
  `${pct(mean(rs.map((r) => via(r, 'category'))))} | ${pct(mean(rs.map((r) => via(r, 'subcategory'))))} |`;
// Chance for "the nearest caption's class": a caption drawn at random is of the image's class with
// probability sum_c (n_c / N)^2 (a little less without replacement).
const collision = (counts) => counts.reduce((a, n) => a + (n / N) ** 2, 0);
const balancedRows = [
  `| chance | ${pct(1 / bench.categories.length)} | ${pct(1 / bench.subcategories.length)} | ${pct(collision(bench.perCategory))} | ${pct(collision(bench.perSubcategory))} |`,
  ...[...new Set(untrained.map((r) => r.config))].map((c) =>
    balancedRow(
      `untrained ${c.replace('.json', '')} (mean of ${untrained.filter((r) => r.config === c).length})`,
      untrained.filter((r) => r.config === c),
    ),
  ),
  ...variants.map((v) =>
    balancedRow(`${LABEL[v]} (mean of ${bySeed(trained(twemoji), v).length})`, bySeed(trained(twemoji), v)),
  ),
];

// Image→text R@1 per category (mean over seeds): where cross-style retrieval works.
const r1Over = (idx) => (r) => idx.filter((i) => r.perItem.imageToTextRank[i] < 1).length / idx.length;
const perCategoryRow = (c, idx) =>
  `| ${c} | ${idx.length} | ${variants.map((v) => pct(mean(bySeed(trained(twemoji), v).map(r1Over(idx))))).join(' | ')} | ${variants.map((v) => pct(mean(bySeed(trained(noto), v).map(r1Over(idx))))).join(' | ')} |`;
const flagsIndex = bench.categories.indexOf('flags');
const perCategoryRows = [
  ...bench.categories.map((c, k) =>
    perCategoryRow(
      c,
      bench.category.map((y, i) => (y === k ? i : -1)).filter((i) => i >= 0),
    ),
  ),
  perCategoryRow(
    '**all but flags**',
    bench.category.map((y, i) => (y !== flagsIndex ? i : -1)).filter((i) => i >= 0),
  ),
];

// Training style (Noto, seen in training) vs held-out style (Twemoji).
const gapRows = variants.flatMap((v) => {
  const a = bySeed(trained(noto), v);
  const b = bySeed(trained(twemoji), v);
  if (a.length === 0) return [];
  return [
    `| ${LABEL[v]} | ${a.length} | ${METRICS.map((m) => `${pct(mean(a.map((r) => value(r, m))))} → ${pct(mean(b.map((r) => value(r, m))))}`).join(' | ')} |`,
  ];
});

// Paired differences.
const PAIRS = [
  ['limoe', 'dense'],
  ['limoe', 'two-tower'],
  ['dense', 'two-tower'],
];
const excludes0 = (c) => c != null && (c[0] > 0 || c[1] < 0);
const verdict = (d) => {
  const dir = d.ci95[0] > 0 ? 'A better' : d.ci95[1] < 0 ? 'A worse' : null;
  if (dir == null) return 'not shown (the interval over test items includes 0)';
  if (!d.seedsAgree) return `mixed across seeds (${dir} on these items, but the seeds disagree)`;
  if (excludes0(d.seedCi95)) return `${dir}, over test items and across seeds`;
  return `${dir} in every seed and over test items, but not established across training runs (the t-interval over ${d.perSeed.length} seeds includes 0)`;
};
const pairedSections = [];
const verdicts = [];
for (const [a, b] of PAIRS.filter(([a, b]) => variants.includes(a) && variants.includes(b))) {
  const seeds = bySeed(trained(twemoji), a)
    .map((r) => r.seed)
    .filter((s) => bySeed(trained(twemoji), b).some((r) => r.seed === s));
  const pick = (v, m) =>
    seeds.map((s) => Uint8Array.from(m.of(bySeed(trained(twemoji), v).find((r) => r.seed === s))));
  const rows = METRICS.map((m) => {
    const d = pairedDifference(pick(a, m), pick(b, m));
    const perSeedCi = seeds.map(
      (_, i) => pairedDifference([pick(a, m)[i]], [pick(b, m)[i]], { seed: i + 1 }).ci95,
    );
    verdicts.push(`- ${m.name}, ${LABEL[a]} − ${LABEL[b]}: **${verdict(d)}**.`);
    return (
      `| ${m.name} | **${pts(d.mean)}** | ${ci(d.ci95)} | ${d.perSeed.map((x, i) => `${pts(x)} ${ci(perSeedCi[i])}`).join('; ')} | ` +
      `${ci(d.seedCi95)} | ${d.mcnemar.map((x) => pval(x.p)).join(', ')} |`
    );
  });
  pairedSections.push(
    `### ${LABEL[a]} − ${LABEL[b]} (seeds ${seeds.join(', ')}; points)`,
    '',
    '| metric | mean difference | 95% bootstrap over test items (pooled over seeds) | per seed, with its own 95% bootstrap interval | 95% t-interval over seeds | McNemar p per seed |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  );
}

// Training facts.
const untrainedConfigs = [...new Set(untrained.map((r) => r.config))].sort();
const trainRows = [
  ...variants.map((v) => [LABEL[v], bySeed(trained(twemoji), v)]),
  ...untrainedConfigs.map((c) => [
    `untrained ${c.replace('.json', '')} (1 step at lr 1e-12)`,
    untrained.filter((r) => r.config === c).sort((a, b) => a.seed - b.seed),
  ]),
].map(([label, rs]) => {
  const t = rs[0]?.train;
  if (!t) return '';
  return (
    `| ${label} | ${rs[0].config} | ${(t.parameters / 1e6).toFixed(2)}M | ${t.steps} | ${t.batchSize} | ` +
    `${rs.map((r) => (r.train.seconds / 60).toFixed(1)).join(', ')} | ${rs.map((r) => r.train.finalLoss.toFixed(3)).join(', ')} | ${t.backend}, ${t.matmul} |`
  );
});

// Library cross-check: the CLI's own validation on the Twemoji pairs at the end of training.
const crossCheck = trained(twemoji).every(
  (r) =>
    r.train.validation &&
    Math.abs(r.train.validation['image_to_text_R@1'] - r.metrics['image_to_text_R@1']) < 1e-9,
);

// Picture: per-seed metrics per variant, with the chance and untrained levels.
function chart() {
  const groups = METRICS.map((m) => m);
  const W = 820;
  const H = 310;
  const left = 50;
  const top = 30;
  const plotH = 200;
  const groupW = (W - left - 20) / groups.length;
  const all = [
    ...variants.map((v) => ({ v, rs: bySeed(trained(twemoji), v) })),
    ...['limoe.json', 'dense.json', 'two-tower.json']
      .filter((c) => untrained.some((r) => r.config === c))
      .map((c) => ({
        v: `untrained-${c.replace('.json', '')}`,
        rs: untrained.filter((r) => r.config === c).sort((a, b) => a.seed - b.seed),
      })),
  ];
  const colour = {
    limoe: '#d62728',
    dense: '#1f77b4',
    'two-tower': '#2ca02c',
    'untrained-limoe': '#f4a6a6',
    'untrained-dense': '#a6c8e8',
    'untrained-two-tower': '#b5dfb0',
  };
  const maxV = Math.max(0.05, ...groups.flatMap((m) => all.flatMap(({ rs }) => rs.map((r) => value(r, m)))));
  const yMax = Math.ceil(maxV * 10) / 10;
  const y = (v) => top + plotH - (v / yMax) * plotH;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left}" y="16" font-size="13">Emoji benchmark, held-out style (Twemoji): per-seed results, trained on Noto (${epochs} epochs)</text>`,
  ];
  for (let t = 0; t <= yMax + 1e-9; t += yMax / 5) {
    out.push(`<line x1="${left}" x2="${W - 20}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 5}" y="${y(t) + 4}" text-anchor="end">${Math.round(100 * t)}%</text>`);
  }
  groups.forEach((m, g) => {
    const x0 = left + g * groupW + 10;
    const barW = (groupW - 20) / (all.length * 4);
    all.forEach(({ v, rs }, k) => {
      rs.forEach((r, s) => {
        const x = x0 + (k * 4 + s) * barW;
        const val = value(r, m);
        out.push(
          `<rect x="${x.toFixed(1)}" y="${y(val).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${(top + plotH - y(val)).toFixed(1)}" fill="${colour[v]}"><title>${v} seed ${r.seed}: ${pct(val)}</title></rect>`,
        );
      });
    });
    const c = CHANCE[m.key];
    for (const [lvl, dash] of [
      [c.random, '4 3'],
      [c.majority, '1 2'],
    ]) {
      if (lvl == null) continue;
      out.push(
        `<line x1="${x0 - 4}" x2="${x0 + groupW - 16}" y1="${y(lvl).toFixed(1)}" y2="${y(lvl).toFixed(1)}" stroke="black" stroke-dasharray="${dash}"/>`,
      );
    }
    out.push(
      `<text x="${x0 + (groupW - 20) / 2}" y="${top + plotH + 16}" text-anchor="middle">${m.short}</text>`,
    );
  });
  const legend = [...all.map(({ v }) => [LABEL[v] ?? v.replace('-', ' '), colour[v]])];
  legend.forEach(([name, col], i) => {
    const x = left + i * 125;
    out.push(
      `<rect x="${x}" y="${H - 40}" width="10" height="10" fill="${col}"/><text x="${x + 14}" y="${H - 31}">${name}</text>`,
    );
  });
  out.push(
    `<text x="${left}" y="${H - 6}">- - - chance (1/N, 5/N, 1/C)   · · · majority class   (bars: seeds 0, 1, 2 of each model)</text>`,
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}
writeFileSync(join(docsDir, 'per-seed.svg'), chart());

// How much of each class name the training captions contain.
const words = new Set(bench.captions.flatMap((c) => c.split(/[\s:,]+/)));
const overlapOf = (names) => {
  const whole = names.filter((n) => bench.captions.some((c) => ` ${c} `.includes(` ${n} `)));
  return {
    whole: whole.length,
    word: names.filter((n) => n.split(' ').some((w) => words.has(w))).length,
    examples: whole
      .slice(0, 4)
      .map((n) => `"${n}"`)
      .join(', '),
  };
};
const cutTotal = twemoji.reduce(
  (a, r) => a + Object.values(r.evaluation.truncated).reduce((x, y) => x + (y ?? 0), 0),
  0,
);
const overlap = { cat: overlapOf(bench.categories), sub: overlapOf(bench.subcategories) };
const cats = bench.categories.map((c, i) => `${c} (${bench.perCategory[i]})`).join(', ');
const lines = [
  '# Cross-style emoji benchmark: trained on Noto, evaluated on Twemoji',
  '',
  `_Generated by \`node experiments/emoji/report.mjs ${epochs}\` from the run summaries committed in \`docs/experiments/emoji/runs/\`; the discussion at the end is written by hand. Do not edit the numbers._`,
  '',
  '## The benchmark',
  '',
  `Real images and real captions written by other people, shipped offline as npm packages: the 64×64 PNGs of`,
  `Google's Noto Color Emoji (\`emoji-datasource-google@${bench.packages['emoji-datasource-google']}\`) and of Twitter's Twemoji`,
  `(\`emoji-datasource-twitter@${bench.packages['emoji-datasource-twitter']}\`), with their Unicode categories and subcategories`,
  `(the packages' \`emoji.json\`), and the CLDR short names of \`emojibase-data@${bench.packages['emojibase-data']}\`. The two`,
  'styles draw the same emoji independently, so a model trained on one and tested on the other has to recognise',
  'the thing drawn, not the drawing.',
  '',
  `- **Items:** ${N} emoji that have a 64×64 PNG in both sets (every top-level emoji of \`emoji.json\`; the`,
  `  ${bench.skippedSkinToneVariants.toLocaleString('en-US')} skin-tone variants are left out: near-copies whose captions differ only in the tone`,
  '  would make test items dependent and retrieval a colour task). Every PNG composited on white for both styles.',
  `- **Captions:** one per emoji, its lower-cased CLDR short name from emojibase (\`label\`: "grinning face",`,
  `  "flag: united states", "japanese “application” button"; ${bench.captionsFromUnicodeName} fall back to the Unicode name), ${N} distinct captions`,
  "  (prepare.mjs refuses duplicates, so image→text retrieval has one right answer). emojibase's keywords are not",
  '  used: one caption per emoji keeps retrieval well posed.',
  `- **Classes:** ${bench.categories.length} categories — ${cats} — and ${bench.subcategories.length} subcategories`,
  `  (e.g. "${bench.subcategories.slice(0, 4).join('", "')}"; largest: ${Math.max(...bench.perSubcategory)} emoji, smallest: ${Math.min(...bench.perSubcategory)}),`,
  '  names made readable ("Smileys & Emotion" → "smileys and emotion", "animal-mammal" → "animal mammal").',
  '- **Training:** the Noto image–caption pairs only. **Evaluation:** the Twemoji images, never seen in training,',
  `  against all ${N} captions (which are the training captions: the test is the style, not new words).`,
  '- **Metrics:** image→text R@1 and R@5 over all N captions (torch.topk ranking, ties against the right caption, so',
  "  a constant model is at chance; equal to the library's `clipRetrievalMetrics` on the same embeddings, checked in",
  `  every evaluation). Zero-shot top-1 by category and by subcategory, prompts from the class names with the`,
  `  templates ${bench && JSON.stringify(twemoji[0]?.evaluation.templates ?? [])} ensembled as CLIP does (mean of the normalised prompt`,
  `  embeddings). Of the class names, ${overlap.cat.whole} of ${bench.categories.length} categories and ${overlap.sub.whole} of ${bench.subcategories.length} subcategories occur whole in some`,
  `  caption (e.g. ${overlap.sub.examples}); ${overlap.cat.word} and ${overlap.sub.word} share at least one word with a caption.`,
  `  ${cutTotal === 0 ? 'No caption or prompt is cut' : `**${cutTotal} captions or prompts are cut**`} by the 20-token text context (counted in every evaluation).`,
  `- **Models** (\`experiments/emoji/{limoe,dense,two-tower}.json\`): 32×32 RGB in 4-pixel patches (64 image tokens), 20 text`,
  '  tokens, width 128, 4 pre-LN blocks, 4 heads, MLP/expert width 512, embedding 128, BPE (2,048) learned from the',
  '  training captions. LIMoE: 8 experts in blocks 1 and 3, top-1, BPR, capacity factor 1.05 in training, entropy',
  '  losses; evaluation dropless. Dense: the same with a dense MLP (equal compute per token). Two towers (CLIP-style):',
  '  an image and a text transformer, each of the dense shapes.',
  `- **Training** (\`zero-shot train\`, open_clip-style): ${epochs} epochs of the ${N} Noto pairs at batch 64, AdamW lr 1e-3`,
  '  (warmup 10%, cosine, weight decay 0.2), random resized crop 0.9–1, CLIP loss with diagonal positives. Seeds set',
  '  initialisation, data order and crops.',
  '- **Untrained rows:** the same configs after one step at lr 1e-12 (the CLI refuses lr 0) — the random',
  '  initialisation with the tokenizer — evaluated identically; they must land near chance.',
  '',
  '```sh',
  'bash experiments/emoji/setup.sh   # npm ci of the pinned data packages in experiments/emoji only, then prepare.mjs',
  `bash experiments/emoji/run.sh ${epochs} "0 1 2" "${variants.join(' ')}"   # one run at a time`,
  `bash experiments/emoji/run.sh 1 "0 1 2" "${untrainedConfigs.map((c) => `untrained-${c.replace('.json', '')}`).join(' ')}"`,
  `node experiments/emoji/evaluate.mjs experiments/emoji/runs/e${epochs}-*-s? experiments/emoji/runs/untrained-*-s?`,
  `node experiments/emoji/evaluate.mjs --style noto experiments/emoji/runs/e${epochs}-*-s?`,
  `node experiments/emoji/report.mjs ${epochs}`,
  '```',
  '',
  `Pixels of both styles as prepared: sha256 \`${bench.pixelsSha256}\` (prepare.mjs).`,
  '',
  '## Results on the held-out style (Twemoji)',
  '',
  `| model | seed | ${METRICS.map((m) => m.name).join(' | ')} | image→text mean rank |`,
  `| --- | --- | ${METRICS.map(() => '---').join(' | ')} | --- |`,
  ...resultRows,
  ...meanRows,
  '',
  '![per-seed results](emoji/per-seed.svg)',
  '',
  'Secondary measures on the same images: zero-shot mean per-class recall (balanced accuracy: the majority rule',
  'scores only 1/C here), and — not zero-shot, a reference for how much of the taxonomy the image embedding',
  "carries — whether the caption an image ranks first belongs to an emoji of the image's own category or",
  'subcategory (chance: Σ (n_c/N)², a random caption of the same class):',
  '',
  '| model | category, mean per-class recall | subcategory, mean per-class recall | category of the nearest caption | subcategory of the nearest caption |',
  '| --- | --- | --- | --- | --- |',
  ...balancedRows,
  '',
  '### Paired differences',
  '',
  'Each comparison is paired over the same Twemoji items and seeds (`experiments/lib/paired.mjs`): the mean over seeds',
  "of the per-item success difference with a 95% bootstrap interval resampling test items (10,000 resamples, the same items for both models and all seeds: it treats the trained models as fixed), the same per seed, Student's t interval over the per-seed differences (the only one that treats training runs as random; with 3 seeds, t₀.₉₇₅ = 4.30), and McNemar's exact test per seed.",
  '',
  ...pairedSections,
  ...verdicts,
  '',
  '### Image→text R@1 by category (mean over seeds)',
  '',
  `| category | emoji | ${variants.map((v) => `${LABEL[v]}, Twemoji`).join(' | ')} | ${variants.map((v) => `${LABEL[v]}, Noto (seen)`).join(' | ')} |`,
  `| --- | --- | ${variants.map(() => '---').join(' | ')} | ${variants.map(() => '---').join(' | ')} |`,
  ...perCategoryRows,
  '',
  '### Seen style vs held-out style',
  '',
  'The same models on the Noto images they were trained on (evaluation transform), → on Twemoji: how much of what',
  'they learned is the drawing style.',
  '',
  `| model | seeds | ${METRICS.map((m) => `${m.name}, Noto → Twemoji`).join(' | ')} |`,
  `| --- | --- | ${METRICS.map(() => '---').join(' | ')} |`,
  ...gapRows,
  '',
  ...routingSection(docsDir),
  '### Training',
  '',
  '| model | config | parameters | steps | batch | minutes per seed | final training loss per seed | backend |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...trainRows.filter(Boolean),
  '',
  `The CLI's own validation at the end of each run (open_clip's retrieval metrics on the Twemoji pairs) ${crossCheck ? 'gives the same image→text R@1 as evaluate.mjs for every run' : '**differs from evaluate.mjs for some run**'}. Minutes are wall-clock on 2 cores shared with other jobs, so they compare only roughly.`,
  '',
];
const discussion = join(repo, 'experiments/emoji/discussion.md');
if (existsSync(discussion)) lines.push(readFileSync(discussion, 'utf8').trimEnd(), '');
writeFileSync(join(repo, 'docs/experiments/emoji.md'), lines.join('\n'));
execFileSync('npx', ['prettier', '--log-level', 'warn', '--write', 'docs/experiments/emoji.md'], {
  cwd: repo,
});
console.log(`wrote docs/experiments/emoji.md (${twemoji.length} held-out summaries, ${noto.length} on Noto)`);
