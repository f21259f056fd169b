import { access } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { looksLikeWnid } from './class_space.js';
import { DatasetError, listFew, plural } from './dataset_error.js';
import type { DatasetLayout, LayoutOption } from './image_dataset.js';
import { CONVENTIONAL_LABELS_NAMES, DEVKIT_GROUND_TRUTH_NAME, KAGGLE_LABELS_NAME } from './labels_file.js';
import { FolderScan } from './scan.js';
import type { DirListing } from './scan.js';
import { describeSkipped } from './skipped_files.js';
import type { SkippedFiles } from './skipped_files.js';

/**
 * Looks at a dataset folder once and decides its layout. The rules, in order, for `auto`:
 * 1. a `labelsFile` was given → a flat folder read with it (`kaggle` or `labels` by the file's format);
 * 2. images at the top level AND class subfolders → refused as mixed (force a layout to pick one);
 * 3. class subfolders whose names are all integers → `imagenetv2` (integer value = class index);
 *    integer and synset-named folders together → refused as mixed; otherwise `folders`;
 * 4. images at the top level → a flat folder with `LOC_val_solution.csv` (in the root or up to four
 *    parent folders, where Kaggle's archive puts it: `ILSVRC/Data/CLS-LOC/val/`) → `kaggle`, or a
 *    `labels.csv`/`labels.txt`/`val.txt`/`val.csv` in the root → `labels`; the devkit's ground-truth
 *    file alone → refused with the explanation of its ordering trap.
 * A forced layout skips the detection but still checks its own requirements, and images belonging to
 * the other layout are ignored with a warning rather than refused.
 */

export interface FolderSurvey {
  root: string;
  top: DirListing;
  /**
   * Every non-hidden subfolder → its images (relative paths, nested folders included), in sorted order;
   * a second name for a folder already listed is not one (it is in `skipped.repeatedFolders`).
   */
  dirImages: Map<string, string[]>;
  /** Skipped entries over the whole tree, by reason. */
  skipped: SkippedFiles;
}

/** Walks the dataset folder once (see `FolderScan`): the root's listing and every class folder's images. */
export async function surveyFolder(root: string, extensions: ReadonlySet<string>): Promise<FolderSurvey> {
  const scan = new FolderScan(root, extensions);
  const top = await scan.listRoot();
  const above = scan.rootChain();
  const dirImages = new Map<string, string[]>();
  for (const { name, key } of await scan.claimSubfolders(root, top, above))
    dirImages.set(name, await scan.imagesBelow(join(root, name), new Set(above).add(key)));
  return { root, top, dirImages, skipped: scan.skipped };
}

export interface LayoutDecision {
  layout: DatasetLayout;
  reason: string;
  /** The labels file of a flat layout. */
  labelsFile?: string;
  /** Labels files recognised by name (for the report). */
  labelsFilesFound: string[];
  /** Images of the other layout, ignored because the layout was forced. */
  otherLayoutImages: number;
  warnings: string[];
}

const isIntegerName = (n: string): boolean => /^\d+$/.test(n);

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Kaggle's CSV in the root or up to four parents (the archive nests `val/` four levels below it). */
async function findKaggleCsv(root: string): Promise<string | undefined> {
  let dir = root;
  for (let up = 0; up <= 4; up++) {
    const candidate = join(dir, KAGGLE_LABELS_NAME);
    if (await exists(candidate)) return candidate;
    if (dirname(dir) === dir) break;
    dir = dirname(dir);
  }
  return undefined;
}

/** A user-given labels path: as given (absolute or from the working directory), else under `root`. */
async function resolveLabelsPath(root: string, labelsFile: string): Promise<string> {
  if (isAbsolute(labelsFile)) return labelsFile;
  const fromCwd = resolve(labelsFile);
  if (await exists(fromCwd)) return fromCwd;
  const fromRoot = join(root, labelsFile);
  return (await exists(fromRoot)) ? fromRoot : fromCwd;
}

function imagesIn(survey: FolderSurvey): { inDirs: number; classDirs: string[]; emptyDirs: string[] } {
  const classDirs = [...survey.dirImages].filter(([, imgs]) => imgs.length > 0).map(([d]) => d);
  const emptyDirs = [...survey.dirImages].filter(([, imgs]) => imgs.length === 0).map(([d]) => d);
  const inDirs = [...survey.dirImages.values()].reduce((s, imgs) => s + imgs.length, 0);
  return { inDirs, classDirs, emptyDirs };
}

/** Refuses a folder without any image, saying what it does hold. */
function noImagesError(survey: FolderSurvey): DatasetError {
  const { top, skipped } = survey;
  if (top.entries === 0) {
    return new DatasetError('empty-folder', `Dataset folder ${survey.root} is empty.`);
  }
  const hint =
    skipped.nonImage > 0 ? ' Images are recognised by extension; pass extensions to add others.' : '';
  return new DatasetError(
    'no-images',
    `Dataset folder ${survey.root} holds no images: ${plural(survey.dirImages.size, 'subfolder')} ` +
      `without images, skipped ${describeSkipped(skipped)}.${hint}`,
  );
}

export async function chooseLayout(
  survey: FolderSurvey,
  requested: LayoutOption,
  labelsFileOption: string | undefined,
): Promise<LayoutDecision> {
  const { root, top } = survey;
  const { inDirs, classDirs } = imagesIn(survey);
  const topImages = top.images.length;
  if (topImages + inDirs === 0) throw noImagesError(survey);

  const found: string[] = top.otherFiles
    .filter((f) => [KAGGLE_LABELS_NAME, DEVKIT_GROUND_TRUTH_NAME, ...CONVENTIONAL_LABELS_NAMES].includes(f))
    .map((f) => join(root, f));
  const kaggle = topImages > 0 ? await findKaggleCsv(root) : undefined;
  if (kaggle && !found.includes(kaggle)) found.push(kaggle);
  const devkit = found.find((f) => f.endsWith(DEVKIT_GROUND_TRUTH_NAME));
  const conventional = found.find((f) => f !== kaggle && f !== devkit);
  const decision = (
    layout: DatasetLayout,
    reason: string,
    extra: Partial<LayoutDecision> = {},
  ): LayoutDecision => ({
    layout,
    reason,
    labelsFilesFound: found,
    otherLayoutImages: 0,
    warnings: [],
    ...extra,
  });
  const counts =
    `${plural(classDirs.length, 'subfolder')} with ${plural(inDirs, 'image')} and ` +
    `${plural(topImages, 'image')} directly in the folder`;

  // Folder layouts (forced, or detected from subfolders).
  const integerDirs = classDirs.filter(isIntegerName);
  const wnidDirs = classDirs.filter(looksLikeWnid);
  const folderLayout = (layout: 'folders' | 'imagenetv2', reason: string): LayoutDecision => {
    if (classDirs.length === 0) {
      throw new DatasetError(
        'no-images',
        `Layout ${layout} needs one subfolder per class, but ${root} has ${counts}; for a flat folder use ` +
          `layout 'kaggle' or 'labels' with a labelsFile.`,
      );
    }
    const warnings =
      topImages > 0
        ? [`ignored ${plural(topImages, 'image')} directly in ${root} (layout ${layout} forced)`]
        : [];
    if (labelsFileOption !== undefined)
      warnings.push(`ignored labelsFile ${labelsFileOption} (layout ${layout})`);
    return decision(layout, reason, { otherLayoutImages: topImages, warnings });
  };
  if (requested === 'folders') return folderLayout('folders', 'forced by the layout option');
  if (requested === 'imagenetv2') return folderLayout('imagenetv2', 'forced by the layout option');

  // Flat layouts need a labels file: the given one, or one recognised by name.
  const flatLayout = async (reason: string, path: string): Promise<LayoutDecision> => {
    if (topImages === 0) {
      const forced = requested === 'auto' ? 'a labelsFile was given' : `layout ${requested} was forced`;
      throw new DatasetError(
        classDirs.length > 0 ? 'mixed-layout' : 'no-images',
        `${forced}, which needs images directly in ${root}, but it has ${counts}. Drop the labels file to ` +
          `use the class folders, or point at the folder that holds the images.`,
      );
    }
    if (!(await exists(path))) {
      throw new DatasetError('missing-labels-file', `Labels file ${path} does not exist.`);
    }
    const warnings =
      inDirs > 0 ? [`ignored ${plural(inDirs, 'image')} in ${plural(classDirs.length, 'subfolder')}`] : [];
    // The format (kaggle / labels) is only known once the file is parsed; the caller sets it.
    return decision('labels', reason, { labelsFile: path, otherLayoutImages: inDirs, warnings });
  };
  if (labelsFileOption !== undefined) {
    const path = await resolveLabelsPath(root, labelsFileOption);
    if (requested === 'auto' && topImages > 0 && classDirs.length > 0) throw mixed(root, counts);
    return flatLayout(`the labels file ${path} was given`, path);
  }
  if (requested === 'kaggle' || requested === 'labels') {
    const named = requested === 'kaggle' ? kaggle : (conventional ?? kaggle ?? devkit);
    if (!named) throw noLabels(root, requested, found);
    return flatLayout(`forced by the layout option; labels from ${named}`, named);
  }

  // auto.
  if (topImages > 0 && classDirs.length > 0) throw mixed(root, counts);
  if (classDirs.length > 0) {
    if (integerDirs.length === classDirs.length) {
      return decision(
        'imagenetv2',
        `all ${plural(classDirs.length, 'subfolder')} have integer names (ImageNetV2: the integer is the class index)`,
      );
    }
    if (integerDirs.length > 0 && wnidDirs.length > 0) {
      throw new DatasetError(
        'mixed-layout',
        `${root} mixes ${plural(integerDirs.length, 'integer-named folder')} (ImageNetV2 style: ` +
          `${listFew(integerDirs, 3)}) and ${plural(wnidDirs.length, 'synset folder')} (${listFew(wnidDirs, 3)}); ` +
          `keep one kind, or force layout 'folders' to rank all folder names as strings.`,
      );
    }
    return decision(
      'folders',
      `${plural(classDirs.length, 'subfolder')} with images and none at the top level`,
    );
  }
  // The devkit file comes last: parsing it raises the explanation of its ordering trap.
  const labels = kaggle ?? conventional ?? devkit;
  if (labels)
    return flatLayout(
      `${plural(topImages, 'image')} directly in the folder and labels file ${labels}`,
      labels,
    );
  throw noLabels(root, 'auto', found);
}

function mixed(root: string, counts: string): DatasetError {
  return new DatasetError(
    'mixed-layout',
    `${root} mixes layouts: ${counts}. Move the loose images into class folders (or the folders out), or ` +
      `force one with layout 'folders' (class folders) or 'labels'/'kaggle' (flat images + labels file).`,
  );
}

function noLabels(root: string, layout: LayoutOption, found: string[]): DatasetError {
  return new DatasetError(
    'no-labels-file',
    `${root} holds images directly (a flat folder) but no labels file was ${layout === 'auto' ? 'found' : `found for layout ${layout}`}` +
      `${found.length > 0 ? ` (found only ${listFew(found)})` : ''}: pass labelsFile (Kaggle's ` +
      `${KAGGLE_LABELS_NAME}, or "filename,wnid" / "filename,index" lines), or sort the images into one folder per class.`,
  );
}
