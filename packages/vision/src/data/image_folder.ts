import { basename, dirname, extname, resolve } from 'node:path';
import { looksLikeWnid, mapByWnid } from './class_space.js';
import { DatasetError, listFew, plural } from './dataset_error.js';
import { chooseLayout, surveyFolder } from './detect_layout.js';
import { buildFlat } from './flat_layouts.js';
import { buildFolders, buildImagenetV2 } from './folder_layouts.js';
import type { BuiltItems } from './folder_layouts.js';
import type { DatasetLayout, ImageDataset, ImageFolderOptions, ImageFolderReport } from './image_dataset.js';
import { readLabelsFile } from './labels_file.js';
import type { LabelsFile } from './labels_file.js';
import { normaliseExtensions, requireFolder } from './scan.js';
import { copySkipped, describeSkipped } from './skipped_files.js';

/**
 * `loadImageFolderDataset(root, options)`: lists an image dataset in any of the layouts ImageNet-style
 * evaluation sets come in (synset folders, Kaggle's flat folder + CSV, a flat folder + labels file,
 * ImageNetV2's integer folders, 200-class subsets such as ImageNet-A/R) and returns its (file, label)
 * pairs with labels in one class space — the global ImageNet indices whenever the data names ImageNet
 * synsets — plus a report of what was found and why the layout was chosen.
 *
 * User mistakes (missing or empty folder, labels that do not match the files, unknown synsets, the
 * devkit ground-truth file, mixed layouts) throw a `DatasetError` whose message names the path and the
 * counts; see `isDatasetError`.
 */
export async function loadImageFolderDataset(
  root: string,
  options: ImageFolderOptions = {},
): Promise<ImageDataset> {
  const absRoot = resolve(root);
  const requested = options.layout ?? 'auto';
  if (!['auto', 'folders', 'kaggle', 'labels', 'imagenetv2'].includes(requested)) {
    throw new DatasetError(
      'bad-option',
      `Unknown layout "${String(requested)}"; use auto, folders, kaggle, labels or imagenetv2.`,
    );
  }
  const classes = options.classes ?? 'auto';
  const extensions = normaliseExtensions(options.extensions);
  await requireFolder(absRoot);
  const survey = await surveyFolder(absRoot, extensions);
  const decision = await chooseLayout(survey, requested, options.labelsFile);

  let layout: DatasetLayout = decision.layout;
  let built: BuiltItems;
  let labelsFile: LabelsFile | undefined;
  let unlabelled = 0;
  let missingFiles = 0;
  const warnings = [...decision.warnings];
  if (decision.labelsFile !== undefined) {
    labelsFile = await readLabelsFile(decision.labelsFile);
    layout = labelsFile.format === 'kaggle' ? 'kaggle' : 'labels';
    if (requested !== 'auto' && requested !== layout) {
      warnings.push(
        `layout ${requested} was requested but ${labelsFile.path} is in ${labelsFile.format} format`,
      );
    }
    const flat = buildFlat(
      absRoot,
      survey.top.images,
      labelsFile,
      classes,
      extensions,
      options.allowMissingFiles ?? false,
    );
    ({ unlabelled, missingFiles } = flat);
    built = flat;
  } else {
    built =
      layout === 'imagenetv2'
        ? buildImagenetV2(absRoot, survey.dirImages, classes)
        : buildFolders(absRoot, survey.dirImages, classes);
  }
  warnings.push(...built.warnings);

  let { items, classIndices } = built;
  let outsideSubset = 0;
  if (options.subset !== undefined) {
    if (options.subset.length === 0)
      throw new DatasetError('bad-option', 'subset: the list of synsets is empty.');
    const wanted = new Set(mapByWnid(built.space, options.subset, 'subset'));
    const kept = items.filter((it) => wanted.has(it.label));
    outsideSubset = items.length - kept.length;
    items = kept;
    classIndices = [...wanted].sort((a, b) => a - b);
    const declared = new Set(built.classIndices);
    const absent = classIndices.filter((c) => !declared.has(c));
    if (absent.length > 0) {
      warnings.push(
        `${plural(absent.length, 'subset class', 'subset classes')} not in the dataset: ${listFew(absent.map((c) => built.space.wnids?.[c] ?? String(c)))}`,
      );
    }
    if (items.length === 0) {
      throw new DatasetError(
        'no-images',
        `None of the ${plural(outsideSubset, 'image')} of ${absRoot} belongs to the ${plural(options.subset.length, 'subset synset')}.`,
      );
    }
  }

  // The labels file read from the root is data, not a skipped file.
  const skipped = copySkipped(survey.skipped);
  if (labelsFile && dirname(labelsFile.path) === absRoot) {
    const ext = extname(labelsFile.path).toLowerCase() || '(none)';
    skipped.nonImage--;
    if (--skipped.byExtension[ext] === 0) delete skipped.byExtension[ext];
  }
  const imagesPerClass = new Array<number>(built.space.names.length).fill(0);
  for (const it of items) imagesPerClass[it.label]++;
  const dirs = [...survey.dirImages];
  const report: ImageFolderReport = {
    root: absRoot,
    requestedLayout: requested,
    layout,
    reason: decision.reason,
    found: {
      classFolders: dirs.filter(([, imgs]) => imgs.length > 0).length,
      emptyFolders: dirs.filter(([, imgs]) => imgs.length === 0).length,
      integerFolders: dirs.filter(([d]) => /^\d+$/.test(d)).length,
      wnidFolders: dirs.filter(([d]) => looksLikeWnid(d)).length,
      topLevelImages: survey.top.images.length,
      labelsFiles: decision.labelsFilesFound,
    },
    ...(labelsFile ? { labelsFile: labelsFile.path, labelsFormat: labelsFile.format } : {}),
    classSpace: built.space.kind,
    images: items.length,
    imagesPerClass,
    skipped: { ...skipped, unlabelled, outsideSubset, otherLayout: decision.otherLayoutImages },
    missingFiles,
    notes: built.notes,
    warnings,
  };
  const dataset: ImageDataset = {
    name: options.name ?? basename(absRoot),
    root: absRoot,
    classNames: built.space.names,
    ...(built.space.wnids ? { wnids: built.space.wnids } : {}),
    classIndices,
    isSubset: classIndices.length < built.space.names.length,
    items,
    layout,
    report,
    summary: () => summarizeImageDataset(dataset),
  };
  return dataset;
}

/** A few lines describing a loaded dataset: what the loader found, decided and skipped. */
export function summarizeImageDataset(ds: ImageDataset): string {
  const r = ds.report;
  const space =
    r.classSpace === 'imagenet'
      ? 'ImageNet-1k classes'
      : r.classSpace === 'folders'
        ? 'classes (folder names)'
        : 'given classes';
  const classes = ds.isSubset
    ? `${ds.classIndices.length} of ${ds.classNames.length} ${space} (a subset: evaluate among these only; labels are global indices)`
    : `${ds.classNames.length} ${space}`;
  const counts = ds.classIndices.map((c) => r.imagesPerClass[c]);
  const f = r.found;
  const lines = [
    `${ds.name}: ${plural(r.images, 'image')} in ${classes}`,
    `  root: ${r.root}`,
    `  layout: ${r.layout} (${r.requestedLayout === 'auto' ? 'detected' : 'forced'}: ${r.reason})`,
    `  found: ${plural(f.classFolders, 'folder')} with images (${f.integerFolders} integer-named, ${f.wnidFolders} synset-named), ` +
      `${f.emptyFolders} without, ${plural(f.topLevelImages, 'image')} at the top level` +
      (f.labelsFiles.length > 0 ? `, labels files: ${f.labelsFiles.join(', ')}` : ''),
  ];
  if (r.labelsFile) lines.push(`  labels: ${r.labelsFile} (${r.labelsFormat})`);
  if (counts.length > 0)
    lines.push(
      `  images per class: min ${counts.reduce((a, b) => Math.min(a, b))}, max ${counts.reduce((a, b) => Math.max(a, b))}`,
    );
  for (const note of r.notes) lines.push(`  note: ${note}`);
  const s = r.skipped;
  const extra = [
    s.unlabelled > 0 ? `${plural(s.unlabelled, 'unlabelled image')}` : '',
    s.outsideSubset > 0 ? `${plural(s.outsideSubset, 'image')} outside the subset` : '',
    s.otherLayout > 0 ? `${plural(s.otherLayout, 'image')} of the other layout` : '',
  ].filter((x) => x.length > 0);
  lines.push(`  skipped: ${[describeSkipped(s), ...extra].filter((x) => x !== 'none').join(', ') || 'none'}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}
