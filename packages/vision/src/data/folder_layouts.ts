import { join } from 'node:path';
import {
  checkIndexRange,
  explicitClassSpace,
  imagenetClassSpace,
  looksLikeWnid,
  mapByName,
  mapByWnid,
} from './class_space.js';
import type { ClassesOption, ClassSpace } from './class_space.js';
import { DatasetError, listFew, plural } from './dataset_error.js';
import type { ImageItem } from './image_dataset.js';
import { imagenetWnids } from './imagenet_metadata.js';

/**
 * Labels for the two layouts with one subfolder per class.
 *
 * `folders` (torchvision's ImageFolder): class = rank of the folder name in sorted order — unless the
 * folders are synset ids of a class space with wnids (ImageNet), in which case each folder maps to its
 * synset's global index. For the full 1000 folders both rules agree; for a subset (ImageNet-A/R's 200
 * folders) only the second gives labels that match a 1000-class model, which is why `auto` switches to
 * it as soon as every folder name is an ImageNet synset.
 *
 * `imagenetv2`: folders `0`..`999` whose INTEGER value is the class index. Ranking these names as
 * strings puts "10" before "2" and scrambles 990 of the 1000 classes — the reason this is a layout of
 * its own.
 */

export interface BuiltItems {
  space: ClassSpace;
  items: ImageItem[];
  /** The classes the dataset declares (its folders), sorted. */
  classIndices: number[];
  notes: string[];
  warnings: string[];
}

/** Items of all class folders with their labels, in folder order then file order. */
function itemsOf(
  root: string,
  dirs: readonly string[],
  labels: readonly number[],
  dirImages: Map<string, string[]>,
): ImageItem[] {
  const items: ImageItem[] = [];
  dirs.forEach((dir, i) => {
    for (const rel of dirImages.get(dir) ?? []) items.push({ path: join(root, dir, rel), label: labels[i] });
  });
  return items;
}

function emptyFolderWarnings(dirs: readonly string[], dirImages: Map<string, string[]>): string[] {
  const empty = dirs.filter((d) => (dirImages.get(d) ?? []).length === 0);
  return empty.length > 0
    ? [`${plural(empty.length, 'class folder')} without images (kept as classes): ${listFew(empty)}`]
    : [];
}

export function buildFolders(
  root: string,
  dirImages: Map<string, string[]>,
  classes: ClassesOption,
): BuiltItems {
  const dirs = [...dirImages.keys()]; // sorted by code point (scan.ts)
  const notes: string[] = [];
  const warnings = emptyFolderWarnings(dirs, dirImages);
  let space: ClassSpace;
  let labels: number[];
  const where = `class folders of ${root}`;
  if (classes === 'auto') {
    const known = new Set(imagenetWnids());
    const wnidLike = dirs.filter(looksLikeWnid);
    if (dirs.every((d) => known.has(d))) {
      space = imagenetClassSpace();
      labels = mapByWnid(space, dirs, where);
      notes.push(
        `all ${dirs.length} folder names are ImageNet synsets: labels are global ImageNet indices ` +
          `(pass classes: 'folders' for plain folder ranks)`,
      );
    } else {
      space = { kind: 'folders', names: [...dirs] };
      labels = dirs.map((_, i) => i);
      notes.push(`labels are the ranks of the ${dirs.length} folder names in sorted order`);
      if (wnidLike.length > 0) {
        const foreign = dirs.filter((d) => !known.has(d));
        warnings.push(
          `${plural(wnidLike.length, 'folder')} look like synset ids but ${plural(foreign.length, 'folder')} ` +
            `are not ImageNet-1k synsets (${listFew(foreign)}), so labels are folder ranks, not ImageNet ` +
            `indices; pass classes: 'imagenet' to require ImageNet`,
        );
      }
    }
  } else if (classes === 'folders') {
    space = { kind: 'folders', names: [...dirs] };
    labels = dirs.map((_, i) => i);
    notes.push(`labels are the ranks of the ${dirs.length} folder names in sorted order`);
  } else {
    space = explicitClassSpace(classes);
    labels = space.wnids ? mapByWnid(space, dirs, where) : mapByName(space, dirs, where);
    notes.push(
      `folders mapped by ${space.wnids ? 'synset id' : 'class name'} to the ${space.names.length} given classes`,
    );
  }
  const numeric = dirs.filter((d) => /^\d+$/.test(d));
  if (space.kind === 'folders' && numeric.length > 1 && numeric.length === dirs.length) {
    warnings.push(
      `folder names are integers but are ranked as strings ("10" before "2"); use layout 'imagenetv2' if ` +
        `the integer is the class index`,
    );
  }
  return {
    space,
    items: itemsOf(root, dirs, labels, dirImages),
    classIndices: [...new Set(labels)].sort((a, b) => a - b),
    notes,
    warnings,
  };
}

export function buildImagenetV2(
  root: string,
  dirImages: Map<string, string[]>,
  classes: ClassesOption,
): BuiltItems {
  // Numeric order, so items come out as class 0, 1, 2, ... rather than 0, 1, 10, 100, ...
  const dirs = [...dirImages.keys()].sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  const notInteger = dirs.filter((d) => !/^\d+$/.test(d));
  if (notInteger.length > 0) {
    throw new DatasetError(
      'mixed-layout',
      `Layout imagenetv2 needs integer folder names (0..999), but ${root} has ` +
        `${plural(notInteger.length, 'other folder')}: ${listFew(notInteger)}.`,
    );
  }
  const labels = dirs.map((d) => Number.parseInt(d, 10));
  const seen = new Map<number, string>();
  for (const [i, d] of dirs.entries()) {
    const prev = seen.get(labels[i]);
    if (prev !== undefined) {
      throw new DatasetError(
        'mixed-layout',
        `Folders "${prev}" and "${d}" of ${root} are both class ${labels[i]}.`,
      );
    }
    seen.set(labels[i], d);
  }
  let space: ClassSpace;
  if (classes === 'auto') space = imagenetClassSpace();
  else if (classes === 'folders') {
    const max = Math.max(...labels);
    space = { kind: 'folders', names: Array.from({ length: max + 1 }, (_, i) => String(i)) };
  } else space = explicitClassSpace(classes);
  checkIndexRange(space, labels, `integer folders of ${root}`);
  const notes = [
    `labels are the integer values of the folder names (ImageNetV2), not their string ranks` +
      (space.kind === 'imagenet' ? `; class names from ImageNet-1k` : ''),
  ];
  return {
    space,
    items: itemsOf(root, dirs, labels, dirImages),
    classIndices: [...labels].sort((a, b) => a - b),
    notes,
    warnings: emptyFolderWarnings(dirs, dirImages),
  };
}
