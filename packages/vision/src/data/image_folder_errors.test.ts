import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadImageFolderDataset } from './image_folder.js';
import { imagenetWnids } from './imagenet_metadata.js';
import {
  datasetErrorOf,
  fakeDataset,
  imagesIn,
  removeTempFolders,
  tempFolder,
  valName,
} from './fake_folders.test.helpers.js';

afterAll(removeTempFolders);

const WNIDS = imagenetWnids();
const flatImages = (n: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [valName(i + 1), 'jpeg']));

describe('image folder errors: clear messages naming the path and the counts', () => {
  it('missing folder, a file instead of a folder', async () => {
    const root = await tempFolder();
    const missing = await datasetErrorOf(loadImageFolderDataset(join(root, 'nope')));
    expect(missing.code).toBe('missing-folder');
    expect(missing.message).toBe(`Dataset folder ${join(root, 'nope')} does not exist.`);
    await fakeDataset({});
    const file = join(await fakeDataset({ 'x.jpg': 'jpeg' }), 'x.jpg');
    expect((await datasetErrorOf(loadImageFolderDataset(file))).code).toBe('not-a-folder');
  });

  it('empty folder', async () => {
    const root = await tempFolder();
    const error = await datasetErrorOf(loadImageFolderDataset(root));
    expect(error.code).toBe('empty-folder');
    expect(error.message).toBe(`Dataset folder ${root} is empty.`);
  });

  it('folder with files but no images says what it skipped', async () => {
    const root = await fakeDataset({ 'a/readme.txt': 'x', 'a/b.bmp': 'x', 'notes.md': 'x', '.hidden': 'x' });
    const error = await datasetErrorOf(loadImageFolderDataset(root));
    expect(error.code).toBe('no-images');
    expect(error.message).toContain(root);
    expect(error.message).toMatch(
      /1 subfolder without images, skipped 3 non-image files \(.*\.bmp: 1.*\), 1 hidden entry/,
    );
    // ...and the extension list is the way out.
    const ds = await loadImageFolderDataset(root, { extensions: ['bmp'] });
    expect(ds.items).toHaveLength(1);
  });

  it("unknown synset folders under classes: 'imagenet' are listed with their count", async () => {
    const root = await fakeDataset(imagesIn([WNIDS[0], 'n12345678', 'cats', WNIDS[1]], 1));
    const error = await datasetErrorOf(loadImageFolderDataset(root, { classes: 'imagenet' }));
    expect(error.code).toBe('unknown-synset');
    expect(error.message).toBe(
      `class folders of ${root}: 2 synsets not in ImageNet-1k (1000 classes): cats, n12345678.`,
    );
  });

  it('folders not among a given class list', async () => {
    const root = await fakeDataset(imagesIn(['cat', 'dgo'], 1));
    const error = await datasetErrorOf(loadImageFolderDataset(root, { classes: ['cat', 'dog'] }));
    expect(error.code).toBe('unknown-class');
    expect(error.message).toMatch(/1 folder not among the 2 given class names: dgo/);
  });

  it('labels file referencing missing files: how many, and a few of them', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => `${valName(i + 1)},${WNIDS[i]}`);
    const root = await fakeDataset({ ...flatImages(3), 'labels.csv': lines.join('\n') });
    const error = await datasetErrorOf(loadImageFolderDataset(root));
    expect(error.code).toBe('missing-files');
    expect(error.message).toContain(`lists 7 files not in ${root} (of 10 entries; 3 found)`);
    expect(error.message).toContain(
      `${valName(4)}, ${valName(5)}, ${valName(6)}, ${valName(7)}, ${valName(8)} (and 2 more)`,
    );
    expect(error.message).toMatch(/allowMissingFiles: true/);
  });

  it('labels file with unknown synsets', async () => {
    const root = await fakeDataset({
      ...flatImages(2),
      'labels.csv': `${valName(1)},n00000000\n${valName(2)},${WNIDS[5]}`,
    });
    const error = await datasetErrorOf(loadImageFolderDataset(root));
    expect(error.code).toBe('unknown-synset');
    expect(error.message).toMatch(
      /labels file .*labels.csv: 1 synset not in ImageNet-1k \(1000 classes\): n00000000/,
    );
  });

  it('labels file with out-of-range indices, hinting at 1-based ids', async () => {
    const root = await fakeDataset({ ...flatImages(2), 'labels.csv': `${valName(1)},1\n${valName(2)},1000` });
    const error = await datasetErrorOf(loadImageFolderDataset(root));
    expect(error.code).toBe('label-out-of-range');
    expect(error.message).toMatch(
      /1 class index outside \[0, 1000\) \(ImageNet-1k\): 1000\. The indices run 1\.\.1000: they look 1-based/,
    );
  });

  it('malformed and conflicting labels files', async () => {
    const root = await fakeDataset({ ...flatImages(2), 'labels.csv': `${valName(1)},cat\n${valName(2)},3` });
    const bad = await datasetErrorOf(loadImageFolderDataset(root));
    expect(bad.code).toBe('bad-labels-file');
    expect(bad.message).toMatch(
      /1 line are not "filename,wnid" or "filename,index" \(0-based\) rows: line 1/,
    );
    const conflict = await fakeDataset({
      ...flatImages(1),
      'labels.csv': `${valName(1)},3\n${valName(1)},4`,
    });
    expect((await datasetErrorOf(loadImageFolderDataset(conflict))).message).toMatch(
      /gives 1 image two different labels/,
    );
  });

  it('a labels file path that does not exist', async () => {
    const root = await fakeDataset(flatImages(1));
    const error = await datasetErrorOf(loadImageFolderDataset(root, { labelsFile: join(root, 'nope.csv') }));
    expect(error.code).toBe('missing-labels-file');
    expect(error.message).toBe(`Labels file ${join(root, 'nope.csv')} does not exist.`);
  });

  it('a flat folder without any labels file', async () => {
    const root = await fakeDataset(flatImages(2));
    const error = await datasetErrorOf(loadImageFolderDataset(root));
    expect(error.code).toBe('no-labels-file');
    expect(error.message).toMatch(
      /holds images directly \(a flat folder\) but no labels file was found: pass labelsFile/,
    );
  });

  it('mixed layouts: loose images next to class folders (and forcing a layout resolves it)', async () => {
    const root = await fakeDataset({ ...imagesIn(['cat', 'dog'], 2), ...flatImages(3) });
    const error = await datasetErrorOf(loadImageFolderDataset(root));
    expect(error.code).toBe('mixed-layout');
    expect(error.message).toContain(
      `${root} mixes layouts: 2 subfolders with 4 images and 3 images directly in the folder`,
    );
    const forced = await loadImageFolderDataset(root, { layout: 'folders' });
    expect(forced.items).toHaveLength(4);
    expect(forced.report.skipped.otherLayout).toBe(3);
    expect(forced.report.warnings[0]).toMatch(/ignored 3 images directly in/);
  });

  it('mixed layouts: integer (ImageNetV2) folders next to synset folders', async () => {
    const root = await fakeDataset(imagesIn(['0', '1', WNIDS[2]], 1));
    const error = await datasetErrorOf(loadImageFolderDataset(root));
    expect(error.code).toBe('mixed-layout');
    expect(error.message).toMatch(/mixes 2 integer-named folders .* and 1 synset folder \(n01484850\)/);
    const forced = await datasetErrorOf(loadImageFolderDataset(root, { layout: 'imagenetv2' }));
    expect(forced.message).toMatch(
      /needs integer folder names \(0\.\.999\), but .* has 1 other folder: n01484850/,
    );
  });

  it('forcing a layout the folder does not have', async () => {
    const folders = await fakeDataset(imagesIn(['a', 'b'], 1));
    const kaggle = await datasetErrorOf(loadImageFolderDataset(folders, { layout: 'kaggle' }));
    expect(kaggle.code).toBe('no-labels-file');
    const flat = await fakeDataset(flatImages(1));
    const v2 = await datasetErrorOf(loadImageFolderDataset(flat, { layout: 'imagenetv2' }));
    expect(v2.message).toMatch(/Layout imagenetv2 needs one subfolder per class, but .* has 0 subfolders/);
    const bad = await datasetErrorOf(loadImageFolderDataset(flat, { layout: 'csv' as 'labels' }));
    expect(bad.message).toMatch(/Unknown layout "csv"/);
  });

  it('ImageNetV2 folder numbers outside the class space', async () => {
    const root = await fakeDataset(imagesIn(['0', '1000'], 1));
    const error = await datasetErrorOf(loadImageFolderDataset(root));
    expect(error.code).toBe('label-out-of-range');
    expect(error.message).toMatch(/1 class index outside \[0, 1000\) \(ImageNet-1k\): 1000/);
  });

  it('an unknown synset in `subset`', async () => {
    const root = await fakeDataset(imagesIn([WNIDS[0]], 1));
    const error = await datasetErrorOf(loadImageFolderDataset(root, { subset: ['n0144076'] }));
    expect(error.message).toBe('subset: 1 synset not in ImageNet-1k (1000 classes): n0144076.');
  });
});

describe('the devkit ground-truth trap', () => {
  const devkit = '490\n361\n171\n822\n297\n';

  it('refuses a one-number-per-line labels file, explaining the meta.mat ordering and how to convert', async () => {
    const root = await fakeDataset({ ...flatImages(5), 'gt.txt': devkit });
    const error = await datasetErrorOf(loadImageFolderDataset(root, { labelsFile: join(root, 'gt.txt') }));
    expect(error.code).toBe('devkit-ground-truth');
    expect(error.message).toContain('one number per line (5 lines) and no file names');
    expect(error.message).toMatch(/meta\.mat, NOT the sorted-synset order/);
    expect(error.message).toMatch(/map each id to its WNID .* "ILSVRC2012_val_00000001\.JPEG,n01751748"/);
    expect(error.message).toMatch(/LOC_val_solution\.csv/);
  });

  it('refuses it when auto-detection only finds ILSVRC2012_validation_ground_truth.txt', async () => {
    const root = await fakeDataset({ ...flatImages(5), 'ILSVRC2012_validation_ground_truth.txt': devkit });
    const error = await datasetErrorOf(loadImageFolderDataset(root));
    expect(error.code).toBe('devkit-ground-truth');
    expect(error.message).toContain(join(root, 'ILSVRC2012_validation_ground_truth.txt'));
  });
});
