import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { loadImageFolderDataset } from './image_folder.js';
import { imagenetClassNames, imagenetWnids } from './imagenet_metadata.js';
import {
  CORRUPT_JPEG,
  fakeDataset,
  imagesIn,
  removeTempFolders,
  tempFolder,
  valName,
  writeTree,
} from './fake_folders.test.helpers.js';

afterAll(removeTempFolders);

const WNIDS = imagenetWnids();
const labelOf = (items: Array<{ path: string; label: number }>, suffix: string): number | undefined =>
  items.find((it) => it.path.endsWith(suffix))?.label;

describe('folders layout (torchvision ImageFolder)', () => {
  it('labels plain class folders by the rank of their name, code-point sorted, skipping non-images', async () => {
    const root = await fakeDataset({
      ...imagesIn(['dog', 'cat', 'Zebra'], 2),
      'cat/nested/deep.png': 'png',
      'cat/corrupt.jpg': CORRUPT_JPEG,
      'dog/notes.txt': 'not an image',
      'dog/annotation.xml': '<xml/>',
      'dog/.DS_Store': 'mac junk',
      'README.md': '# readme',
    });
    const ds = await loadImageFolderDataset(root);
    expect(ds.layout).toBe('folders');
    expect(ds.report.reason).toMatch(/3 subfolders with images/);
    // Code-point order: uppercase before lowercase, as Python's sorted().
    expect(ds.classNames).toEqual(['Zebra', 'cat', 'dog']);
    expect(ds.classIndices).toEqual([0, 1, 2]);
    expect(ds.isSubset).toBe(false);
    expect(ds.items).toHaveLength(2 + 4 + 2);
    expect(labelOf(ds.items, join('cat', 'nested', 'deep.png'))).toBe(1);
    expect(labelOf(ds.items, join('dog', 'img_0.JPEG'))).toBe(2);
    expect(ds.report.imagesPerClass).toEqual([2, 4, 2]);
    expect(ds.report.skipped).toMatchObject({
      nonImage: 3,
      hidden: 1,
      byExtension: { '.txt': 1, '.xml': 1, '.md': 1 },
    });
    expect(ds.summary()).toMatch(/8 images in 3 classes \(folder names\)/);
    expect(ds.summary()).toMatch(/skipped: 3 non-image files/);
  });

  it('lists a corrupt JPEG like any other file: decoding (and its error) is the caller’s', async () => {
    const root = await fakeDataset({ 'a/good.jpg': 'jpeg', 'a/bad.jpg': CORRUPT_JPEG, 'b/good.png': 'png' });
    const ds = await loadImageFolderDataset(root);
    const bad = ds.items.find((it) => it.path.endsWith('bad.jpg'));
    expect(bad).toEqual({ path: join(root, 'a', 'bad.jpg'), label: 0 });
    await expect(sharp(bad!.path).raw().toBuffer()).rejects.toThrow();
    await expect(
      sharp(join(root, 'a', 'good.jpg'))
        .raw()
        .toBuffer(),
    ).resolves.toHaveLength(12);
  });

  it('maps the 1000 ImageNet synset folders to global indices with readable class names', async () => {
    const root = await fakeDataset(imagesIn(WNIDS, 1));
    const ds = await loadImageFolderDataset(root);
    expect(ds.report.classSpace).toBe('imagenet');
    expect(ds.classNames).toEqual(imagenetClassNames());
    expect(ds.items.map((it) => it.label)).toEqual(WNIDS.map((_, i) => i)); // rank = global index
    expect(ds.isSubset).toBe(false);
    expect(ds.report.found.wnidFolders).toBe(1000);
  });

  it('maps a subset of synset folders to global ImageNet indices, and exposes classIndices (ImageNet-A/R)', async () => {
    const subset200 = WNIDS.filter((_, i) => i % 5 === 3); // 200 classes, like ImageNet-A/R
    const root = await fakeDataset(imagesIn(subset200, 1));
    const ds = await loadImageFolderDataset(root);
    expect(ds.items).toHaveLength(200);
    expect(ds.classNames).toHaveLength(1000);
    expect(ds.isSubset).toBe(true);
    expect(ds.classIndices).toEqual(subset200.map((w) => WNIDS.indexOf(w)));
    expect(labelOf(ds.items, join(WNIDS[3], 'img_0.JPEG'))).toBe(3); // not rank 0
    expect(labelOf(ds.items, join(WNIDS[998], 'img_0.JPEG'))).toBe(998); // not rank 199
    expect(ds.summary()).toMatch(/200 of 1000 ImageNet-1k classes \(a subset: evaluate among these only/);
  });

  it("ranks synset folders as plain names with classes: 'folders'", async () => {
    const root = await fakeDataset(imagesIn([WNIDS[10], WNIDS[500]], 1));
    const ds = await loadImageFolderDataset(root, { classes: 'folders' });
    expect(ds.classNames).toEqual([WNIDS[10], WNIDS[500]]);
    expect(ds.items.map((it) => it.label)).toEqual([0, 1]);
  });

  it('falls back to ranks, with a warning, when synset-like folders are not all ImageNet-1k', async () => {
    const root = await fakeDataset(imagesIn([WNIDS[0], 'n99999999'], 1));
    const ds = await loadImageFolderDataset(root);
    expect(ds.report.classSpace).toBe('folders');
    expect(ds.report.warnings.join('\n')).toMatch(/not ImageNet-1k synsets \(n99999999\)/);
  });

  it('matches folders by name against a given class list (order of the list, not of the folders)', async () => {
    const root = await fakeDataset(imagesIn(['cat', 'dog'], 1));
    const ds = await loadImageFolderDataset(root, { classes: ['dog', 'bird', 'cat'] });
    expect(ds.classNames).toEqual(['dog', 'bird', 'cat']);
    expect(labelOf(ds.items, join('cat', 'img_0.JPEG'))).toBe(2);
    expect(labelOf(ds.items, join('dog', 'img_0.JPEG'))).toBe(0);
    expect(ds.classIndices).toEqual([0, 2]);
    expect(ds.isSubset).toBe(true);
  });

  it('maps folders through a custom {names, wnids} class space', async () => {
    const root = await fakeDataset(imagesIn(['n00000002', 'n00000001'], 1));
    const ds = await loadImageFolderDataset(root, {
      classes: { names: ['second', 'first'], wnids: ['n00000002', 'n00000001'] },
    });
    expect(labelOf(ds.items, join('n00000001', 'img_0.JPEG'))).toBe(1);
    expect(ds.wnids).toEqual(['n00000002', 'n00000001']);
  });

  it('filters to the synsets of `subset`, counting what was dropped', async () => {
    const root = await fakeDataset(imagesIn(WNIDS.slice(0, 4), 2));
    const ds = await loadImageFolderDataset(root, { subset: [WNIDS[1], WNIDS[3], WNIDS[7]] });
    expect(ds.classIndices).toEqual([1, 3, 7]);
    expect(ds.items.map((it) => it.label)).toEqual([1, 1, 3, 3]);
    expect(ds.report.skipped.outsideSubset).toBe(4);
    expect(ds.report.warnings.join('\n')).toContain(`1 subset class not in the dataset: ${WNIDS[7]}`);
  });

  it('keeps empty class folders as classes (ranks stay aligned) and warns', async () => {
    const root = await fakeDataset({ ...imagesIn(['a', 'c'], 1), 'b/': '' });
    const ds = await loadImageFolderDataset(root);
    expect(ds.classNames).toEqual(['a', 'b', 'c']);
    expect(labelOf(ds.items, join('c', 'img_0.JPEG'))).toBe(2);
    expect(ds.report.warnings.join('\n')).toMatch(/1 class folder without images \(kept as classes\): b/);
  });
});

describe('imagenetv2 layout (integer folders)', () => {
  it('uses the integer value of the folder name: folder "10" is class 10, not class 2', async () => {
    const root = await fakeDataset(imagesIn(['0', '1', '2', '10', '100', '999'], 2));
    const ds = await loadImageFolderDataset(root);
    expect(ds.layout).toBe('imagenetv2');
    expect(ds.report.reason).toMatch(/integer names/);
    expect(labelOf(ds.items, join('10', 'img_0.JPEG'))).toBe(10);
    expect(labelOf(ds.items, join('2', 'img_1.JPEG'))).toBe(2);
    expect(labelOf(ds.items, join('999', 'img_0.JPEG'))).toBe(999);
    expect(ds.classNames[10]).toBe(imagenetClassNames()[10]);
    expect(ds.classIndices).toEqual([0, 1, 2, 10, 100, 999]);
    expect(ds.items.map((it) => it.label)).toEqual([0, 0, 1, 1, 2, 2, 10, 10, 100, 100, 999, 999]);
  });

  it('shows the trap when forced to rank integer folders as strings, and warns about it', async () => {
    const root = await fakeDataset(imagesIn(['0', '1', '2', '10'], 1));
    const ds = await loadImageFolderDataset(root, { layout: 'folders' });
    expect(labelOf(ds.items, join('10', 'img_0.JPEG'))).toBe(2); // "10" sorts before "2"
    expect(ds.report.warnings.join('\n')).toMatch(/ranked as strings \("10" before "2"\).*imagenetv2/);
  });

  it('reads integer folders against a given class list', async () => {
    const root = await fakeDataset(imagesIn(['0', '2'], 1));
    const ds = await loadImageFolderDataset(root, { classes: ['zero', 'one', 'two'] });
    expect(ds.classNames).toEqual(['zero', 'one', 'two']);
    expect(ds.items.map((it) => it.label)).toEqual([0, 2]);
  });
});

describe('kaggle layout (flat folder + LOC_val_solution.csv)', () => {
  const csv = [
    'ImageId,PredictionString',
    `ILSVRC2012_val_00000003,${WNIDS[7]} 12 34 56 78 ${WNIDS[7]} 1 2 3 4`,
    `ILSVRC2012_val_00000001,${WNIDS[65]} 1 2 3 4`,
    `ILSVRC2012_val_00000002,${WNIDS[999]} 5 6 7 8`,
  ].join('\n');
  const images = { [valName(1)]: 'jpeg', [valName(2)]: 'jpeg', [valName(3)]: CORRUPT_JPEG };

  it('detects the CSV in the folder and takes the first token of PredictionString', async () => {
    const root = await fakeDataset({ ...images, 'LOC_val_solution.csv': csv });
    const ds = await loadImageFolderDataset(root);
    expect(ds.layout).toBe('kaggle');
    expect(ds.report.labelsFormat).toBe('kaggle');
    expect(ds.items.map((it) => [it.path.slice(root.length + 1), it.label])).toEqual([
      [valName(1), 65],
      [valName(2), 999],
      [valName(3), 7],
    ]);
    expect(ds.classIndices).toHaveLength(1000); // flat: predict among all classes
    expect(ds.report.skipped.nonImage).toBe(0); // the CSV is data, not a skipped file
  });

  it("finds the CSV four levels up, where Kaggle's archive puts it", async () => {
    const base = await tempFolder();
    const root = join(base, 'ILSVRC', 'Data', 'CLS-LOC', 'val');
    await writeTree(base, { 'LOC_val_solution.csv': csv });
    await writeTree(root, images);
    const ds = await loadImageFolderDataset(root);
    expect(ds.layout).toBe('kaggle');
    expect(ds.report.labelsFile).toBe(join(base, 'LOC_val_solution.csv'));
  });
});

describe('labels layout (flat folder + filename,label file)', () => {
  const files = { 'a.jpg': 'jpeg', 'b.png': 'png', 'c.jpeg': 'jpeg', 'notes.txt': 'x' };

  it('reads "filename,wnid" with a header, found by name in the folder', async () => {
    const root = await fakeDataset({
      ...files,
      'labels.csv': `file,wnid\na.jpg,${WNIDS[3]}\nb.png,${WNIDS[0]}\nc.jpeg,${WNIDS[3]}\n`,
    });
    const ds = await loadImageFolderDataset(root);
    expect(ds.layout).toBe('labels');
    expect(ds.report.labelsFormat).toBe('filename-wnid');
    expect(ds.items.map((it) => it.label)).toEqual([3, 0, 3]);
    expect(ds.report.skipped.nonImage).toBe(1); // notes.txt (labels.csv is not counted)
  });

  it('reads "filename index" (0-based, sorted-synset order) from a given file, and counts unlabelled images', async () => {
    const root = await fakeDataset({ ...files, 'meta/val.txt': 'a.jpg 0\nc.jpeg\t999\n' });
    const ds = await loadImageFolderDataset(root, { labelsFile: 'meta/val.txt' });
    expect(ds.report.labelsFormat).toBe('filename-index');
    expect(ds.items.map((it) => [it.path.slice(root.length + 1), it.label])).toEqual([
      ['a.jpg', 0],
      ['c.jpeg', 999],
    ]);
    expect(ds.report.skipped.unlabelled).toBe(1);
    expect(ds.report.warnings.join('\n')).toMatch(/skipped 1 image the labels file does not mention: b.png/);
  });

  it('uses indices against a given class list', async () => {
    const root = await fakeDataset({ ...files, 'labels.txt': 'a.jpg,1\nb.png,0\nc.jpeg,1' });
    const ds = await loadImageFolderDataset(root, { classes: ['cat', 'dog'] });
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(ds.items.map((it) => it.label)).toEqual([1, 0, 1]);
  });

  it('with allowMissingFiles, uses only the images present (a sampled validation folder)', async () => {
    const root = await fakeDataset({ 'a.jpg': 'jpeg', 'labels.csv': `a.jpg,${WNIDS[1]}\nz.jpg,${WNIDS[2]}` });
    const ds = await loadImageFolderDataset(root, { allowMissingFiles: true });
    expect(ds.items.map((it) => it.label)).toEqual([1]);
    expect(ds.report.missingFiles).toBe(1);
  });

  it('prints a summary that says what was found and why', async () => {
    const root = await fakeDataset({
      ...files,
      'labels.csv': `a.jpg,${WNIDS[3]}\nb.png,${WNIDS[0]}\nc.jpeg,${WNIDS[3]}`,
    });
    const text = (await loadImageFolderDataset(root, { name: 'tiny-val' })).summary();
    expect(text).toMatch(/^tiny-val: 3 images in 1000 ImageNet-1k classes/);
    expect(text).toMatch(
      /layout: labels \(detected: 3 images directly in the folder and labels file .*labels.csv\)/,
    );
    expect(text).toMatch(/found: 0 folders with images .* 3 images at the top level/);
    expect(text).toMatch(/note: 2 of the 1000 classes have images/);
  });
});
