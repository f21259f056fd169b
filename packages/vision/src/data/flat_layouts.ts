import { basename, extname, join } from 'node:path';
import { checkIndexRange, explicitClassSpace, imagenetClassSpace, mapByWnid } from './class_space.js';
import type { ClassesOption, ClassSpace } from './class_space.js';
import { DatasetError, listFew, plural } from './dataset_error.js';
import type { BuiltItems } from './folder_layouts.js';
import type { ImageItem } from './image_dataset.js';
import type { LabelsEntry, LabelsFile } from './labels_file.js';

/**
 * Labels for a flat folder of images read with a labels file (Kaggle's CSV or `filename,wnid|index`).
 * Every entry must name an image in the folder — a labels file that does not match the folder usually
 * means the wrong folder or the wrong file, and silently evaluating on the intersection would report a
 * number on data nobody chose — unless `allowMissingFiles` says the folder is a deliberate sample.
 * Images the file does not mention are skipped and counted. File names are matched exactly, or by stem
 * when the entry has no image extension (Kaggle's ImageIds are `ILSVRC2012_val_00000001` for
 * `ILSVRC2012_val_00000001.JPEG`).
 */

export interface FlatBuilt extends BuiltItems {
  unlabelled: number;
  missingFiles: number;
}

function classSpaceFor(file: LabelsFile, classes: ClassesOption): ClassSpace {
  if (classes === 'auto' || classes === 'imagenet') return imagenetClassSpace();
  if (classes === 'folders') {
    throw new DatasetError(
      'bad-option',
      `classes: 'folders' needs class folders, but this is a flat folder read with ${file.path}.`,
    );
  }
  const space = explicitClassSpace(classes);
  if (file.format !== 'filename-index' && !space.wnids) {
    throw new DatasetError(
      'bad-option',
      `${file.path} labels images by synset id, so classes must be 'imagenet' or {names, wnids}, not a list of names.`,
    );
  }
  return space;
}

function resolveImage(
  entry: LabelsEntry,
  names: ReadonlySet<string>,
  byStem: ReadonlyMap<string, string>,
  extensions: ReadonlySet<string>,
): string | undefined {
  const name = basename(entry.file);
  if (names.has(name)) return name;
  return extensions.has(extname(name).toLowerCase()) ? undefined : byStem.get(name);
}

export function buildFlat(
  root: string,
  images: readonly string[],
  file: LabelsFile,
  classes: ClassesOption,
  extensions: ReadonlySet<string>,
  allowMissingFiles: boolean,
): FlatBuilt {
  const space = classSpaceFor(file, classes);
  const labels =
    file.format === 'filename-index'
      ? file.entries.map((e) => e.index as number)
      : mapByWnid(
          space,
          file.entries.map((e) => e.wnid as string),
          `labels file ${file.path}`,
        );
  if (file.format === 'filename-index') {
    // Loops, not Math.max(...labels): a 50,000-entry spread can overflow the stack.
    const max = labels.reduce((m, l) => Math.max(m, l), -Infinity);
    const min = labels.reduce((m, l) => Math.min(m, l), Infinity);
    const hint =
      max === space.names.length && min >= 1
        ? ` The indices run 1..${max}: they look 1-based, but must be 0-based in the class order ` +
          `(sorted synsets for ImageNet). Devkit ILSVRC2012_IDs are not sorted-synset indices even minus one.`
        : '';
    checkIndexRange(space, labels, `labels file ${file.path}`, hint);
  }

  const names = new Set(images);
  const byStem = new Map<string, string>();
  for (const img of images) {
    const stem = img.slice(0, img.length - extname(img).length);
    if (!byStem.has(stem)) byStem.set(stem, img);
  }
  const labelOf = new Map<string, number>();
  const missing: string[] = [];
  const conflicts: string[] = [];
  let duplicates = 0;
  file.entries.forEach((entry, i) => {
    const img = resolveImage(entry, names, byStem, extensions);
    if (img === undefined) return void missing.push(entry.file);
    const prev = labelOf.get(img);
    if (prev === undefined) labelOf.set(img, labels[i]);
    else if (prev === labels[i]) duplicates++;
    else conflicts.push(`${entry.file} (line ${entry.line})`);
  });
  if (conflicts.length > 0) {
    throw new DatasetError(
      'bad-labels-file',
      `Labels file ${file.path} gives ${plural(conflicts.length, 'image')} two different labels: ${listFew(conflicts)}.`,
    );
  }
  const warnings: string[] = [];
  if (missing.length > 0) {
    const message =
      `labels file ${file.path} lists ${plural(missing.length, 'file')} not in ${root} ` +
      `(of ${plural(file.entries.length, 'entry', 'entries')}; ${labelOf.size} found): ${listFew(missing)}`;
    if (!allowMissingFiles) {
      throw new DatasetError(
        'missing-files',
        `${message[0].toUpperCase()}${message.slice(1)}. Wrong folder or wrong labels file? If the folder ` +
          `is a deliberate sample, pass allowMissingFiles: true to use only the images present.`,
      );
    }
    warnings.push(message);
  }
  if (labelOf.size === 0) {
    throw new DatasetError(
      'missing-files',
      `None of the ${plural(file.entries.length, 'entry', 'entries')} of ${file.path} names an image in ${root}.`,
    );
  }
  if (duplicates > 0)
    warnings.push(`${plural(duplicates, 'duplicate entry', 'duplicate entries')} in ${file.path}`);
  const unlabelled = images.length - labelOf.size;
  if (unlabelled > 0) {
    const examples = images.filter((img) => !labelOf.has(img));
    warnings.push(
      `skipped ${plural(unlabelled, 'image')} the labels file does not mention: ${listFew(examples, 3)}`,
    );
  }

  const items: ImageItem[] = images
    .filter((img) => labelOf.has(img))
    .map((img) => ({ path: join(root, img), label: labelOf.get(img) as number }));
  const formatNote =
    file.format === 'kaggle'
      ? `Kaggle CSV: synset = first token of PredictionString`
      : file.format === 'filename-wnid'
        ? `"filename,wnid" rows mapped by synset id`
        : `"filename,index" rows read as 0-based indices` +
          (space.kind === 'imagenet' ? ` in sorted-synset order (ImageNet's class order)` : '');
  const present = new Set(items.map((it) => it.label)).size;
  return {
    space,
    items,
    // A flat folder declares no class list: predict among the whole class space (a small sample of the
    // validation set must not be scored among only the classes it happens to contain).
    classIndices: space.names.map((_, i) => i),
    notes: [formatNote, `${present} of the ${space.names.length} classes have images`],
    warnings,
    unlabelled,
    missingFiles: missing.length,
  };
}
