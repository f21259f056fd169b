// Builds the cross-style emoji benchmark from the npm packages setup.sh installs (experiments/emoji/
// node_modules): one image–caption pair per emoji in each style — Noto (emoji-datasource-google) for
// training, Twemoji (emoji-datasource-twitter) for evaluation — and the class labels of the zero-shot tasks.
//
//   node experiments/emoji/prepare.mjs        (writes experiments/emoji/data/, git-ignored)
//
// What goes in:
// - every top-level emoji of emoji.json (the default, yellow skin tone; the 1,875 skin-tone variants are
//   left out: five near-copies of one drawing whose captions differ only in the tone qualifier would make
//   the test examples dependent and turn retrieval into a colour task), present as a 64×64 PNG in BOTH sets;
// - its caption: the lower-cased CLDR short name from emojibase-data (`label`, e.g. "grinning face",
//   "flag: united states"), falling back to emoji.json's Unicode name when emojibase has none;
// - its category and subcategory from emoji.json, made readable ("Smileys & Emotion" → "smileys and
//   emotion", "animal-mammal" → "animal mammal").
// Every PNG is composited on white (sharp's flatten) for both styles alike: the files have alpha, and the
// library's RGB conversion (as PIL's convert('RGB')) drops alpha, which would leave whatever colour the
// transparent pixels happen to hold. Images stay 64×64; the model config's preprocessing resizes them.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const here = new URL('.', import.meta.url).pathname;
const modules = join(here, 'node_modules');
const out = join(here, 'data');
const STYLES = {
  noto: ['emoji-datasource-google', 'google'],
  twemoji: ['emoji-datasource-twitter', 'twitter'],
};

const need = (p) => {
  if (!existsSync(p)) {
    console.error(`prepare: ${p} is missing; run bash experiments/emoji/setup.sh first.`);
    process.exit(2);
  }
  return p;
};
const readJson = (p) => JSON.parse(readFileSync(need(p), 'utf8'));
const version = (pkg) => readJson(join(modules, pkg, 'package.json')).version;

const list = readJson(join(modules, 'emoji-datasource-google', 'emoji.json'));
const twitterList = readJson(join(modules, 'emoji-datasource-twitter', 'emoji.json'));
const emojibase = readJson(join(modules, 'emojibase-data', 'en', 'data.json'));

// emojibase by hexcode, fully-qualified and with FE0F removed (emoji.json's `unified` is fully qualified,
// emojibase's hexcode usually is too; the second key catches the few that differ).
const labels = new Map();
for (const e of emojibase) {
  for (const x of [e, ...(e.skins ?? [])]) {
    labels.set(x.hexcode, x);
    labels.set(x.hexcode.replace(/-FE0F/g, ''), labels.get(x.hexcode.replace(/-FE0F/g, '')) ?? x);
  }
}

const readable = (s) => s.toLowerCase().replace(/&/g, 'and').replace(/-/g, ' ').replace(/\s+/g, ' ').trim();

const twitterHas = new Set(twitterList.filter((e) => e.has_img_twitter).map((e) => e.unified));
const items = [];
let fromUnicodeName = 0;
for (const e of [...list].sort((a, b) => a.sort_order - b.sort_order)) {
  if (!e.has_img_google || !twitterHas.has(e.unified)) continue;
  const paths = Object.fromEntries(
    Object.entries(STYLES).map(([style, [pkg, set]]) => [
      style,
      join(modules, pkg, 'img', set, '64', e.image),
    ]),
  );
  if (!Object.values(paths).every(existsSync)) continue;
  const base = labels.get(e.unified) ?? labels.get(e.unified.replace(/-FE0F/g, ''));
  if (!base) fromUnicodeName++;
  const caption = (base?.label ?? e.name).toLowerCase().replace(/\s+/g, ' ').trim();
  items.push({
    unified: e.unified,
    file: e.image,
    caption,
    category: readable(e.category),
    subcategory: readable(e.subcategory),
    paths,
  });
}

// One caption per emoji: two emoji with the same caption would make retrieval ill-posed.
const byCaption = new Map();
for (const it of items) byCaption.set(it.caption, [...(byCaption.get(it.caption) ?? []), it.unified]);
const dupes = [...byCaption].filter(([, u]) => u.length > 1);
if (dupes.length > 0) {
  for (const [c, u] of dupes) console.error(`duplicate caption "${c}": ${u.join(', ')}`);
  throw new Error(`prepare: ${dupes.length} captions name more than one emoji.`);
}

const categories = [...new Set(items.map((i) => i.category))];
const subcategories = [...new Set(items.map((i) => i.subcategory))];
for (const style of Object.keys(STYLES)) mkdirSync(join(out, style), { recursive: true });

const hash = createHash('sha256');
let done = 0;
for (const it of items) {
  for (const style of Object.keys(STYLES)) {
    const png = await sharp(it.paths[style])
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .png()
      .toBuffer();
    hash.update(png);
    writeFileSync(join(out, style, it.file), png);
  }
  if (++done % 500 === 0) console.error(`${done}/${items.length}`);
}

const jsonl = (style) =>
  items.map((it) => JSON.stringify({ image: `${style}/${it.file}`, caption: it.caption })).join('\n') + '\n';
writeFileSync(join(out, 'noto-pairs.jsonl'), jsonl('noto'));
writeFileSync(join(out, 'twemoji-pairs.jsonl'), jsonl('twemoji'));
// Flat-folder labels files (file name, 0-based class index) for the zero-shot evaluations.
const labelsFile = (index) => items.map((it, i) => `${it.file},${index(it, i)}`).join('\n') + '\n';
writeFileSync(
  join(out, 'labels-name.csv'),
  labelsFile((_, i) => i),
);
writeFileSync(
  join(out, 'labels-category.csv'),
  labelsFile((it) => categories.indexOf(it.category)),
);
writeFileSync(
  join(out, 'labels-subcategory.csv'),
  labelsFile((it) => subcategories.indexOf(it.subcategory)),
);

const meta = {
  packages: Object.fromEntries(
    ['emoji-datasource-google', 'emoji-datasource-twitter', 'emojibase-data'].map((p) => [p, version(p)]),
  ),
  emoji: items.length,
  skippedSkinToneVariants: list.reduce((a, e) => a + Object.keys(e.skin_variations ?? {}).length, 0),
  captionsFromUnicodeName: fromUnicodeName,
  categories,
  subcategories,
  perCategory: categories.map((c) => items.filter((i) => i.category === c).length),
  perSubcategory: subcategories.map((c) => items.filter((i) => i.subcategory === c).length),
  captions: items.map((i) => i.caption),
  unified: items.map((i) => i.unified),
  category: items.map((i) => categories.indexOf(i.category)),
  subcategory: items.map((i) => subcategories.indexOf(i.subcategory)),
  pixelsSha256: hash.digest('hex'),
};
writeFileSync(join(out, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
console.log(
  `wrote ${out}: ${items.length} emoji in both styles (${meta.skippedSkinToneVariants} skin-tone variants left out; ` +
    `${fromUnicodeName} captions from the Unicode name), ${categories.length} categories, ${subcategories.length} subcategories`,
);
