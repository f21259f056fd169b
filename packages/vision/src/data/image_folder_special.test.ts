import { existsSync, readdirSync, statSync } from 'node:fs';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadImageFolderDataset } from './image_folder.js';
import {
  asUnprivileged,
  datasetErrorOf,
  fakeDataset,
  imagesIn,
  makeFifo,
  removeTempFolders,
  sharedTempFolder,
  tempFolder,
  unprivilegedUnavailable,
  writeTree,
} from './fake_folders.test.helpers.js';

/**
 * Hostile data folders (issue 12): special files, folder links that loop, unreadable folders. Special
 * files and permissions are made at test time; a case the platform cannot make is skipped with a message.
 */

afterAll(removeTempFolders);

const fifoProbe = join(await tempFolder(), 'probe');
const canFifo = makeFifo(fifoProbe);
if (!canFifo) console.warn('FIFO cases skipped: mkfifo is not available on this platform.');
const canDevZero = existsSync('/dev/zero');
if (!canDevZero) console.warn('/dev/zero cases skipped: no /dev/zero on this platform.');
const blockDevice = existsSync('/dev')
  ? readdirSync('/dev')
      .map((n) => join('/dev', n))
      .find((p) => {
        try {
          return statSync(p).isBlockDevice();
        } catch {
          return false;
        }
      })
  : undefined;
if (!blockDevice) console.warn('block-device case skipped: no block device in /dev to link to.');
const noPermissions = unprivilegedUnavailable();
if (noPermissions) console.warn(`permission cases skipped: ${noPermissions}.`);

const cats = (n = 5) => imagesIn(['cat'], n, 'png');

describe('special files are never opened: skipped and counted by kind', () => {
  it.skipIf(!canFifo || !canDevZero)(
    'a FIFO named x.jpg and a link to /dev/zero named z.jpg, next to real images',
    async () => {
      const root = await fakeDataset({ ...cats(), ...imagesIn(['dog'], 2, 'png') });
      expect(makeFifo(join(root, 'cat', 'x.jpg'))).toBe(true);
      await symlink('/dev/zero', join(root, 'cat', 'z.jpg'));
      await symlink('/dev/null', join(root, 'dog', 'null.png'));
      const ds = await loadImageFolderDataset(root);
      expect(ds.items.map((it) => it.path.slice(root.length + 1))).toEqual([
        ...[0, 1, 2, 3, 4].map((i) => `cat/img_${i}.png`),
        'dog/img_0.png',
        'dog/img_1.png',
      ]);
      expect(ds.report.skipped).toMatchObject({
        special: 3,
        bySpecialKind: { FIFO: 1, 'character device': 2 },
      });
      expect(ds.summary()).toMatch(/skipped: 3 special files, not opened \(character device: 2, FIFO: 1\)/);
    },
  );

  it('a socket', async () => {
    const root = await fakeDataset(cats(2));
    const server: Server = createServer();
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(join(root, 'cat', 'socket.png'), () => resolve(true));
    });
    if (!listening) {
      console.warn('socket case skipped: cannot listen on a Unix socket in the temp folder.');
      return;
    }
    try {
      const ds = await loadImageFolderDataset(root);
      expect(ds.items).toHaveLength(2);
      expect(ds.report.skipped.bySpecialKind).toEqual({ socket: 1 });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.skipIf(blockDevice === undefined)('a link to a block device', async () => {
    const root = await fakeDataset(cats(1));
    await symlink(blockDevice!, join(root, 'cat', 'disk.jpg'));
    const ds = await loadImageFolderDataset(root);
    expect(ds.items).toHaveLength(1);
    expect(ds.report.skipped.bySpecialKind).toEqual({ 'block device': 1 });
  });

  it('links to regular files are images; broken links are counted', async () => {
    const outside = await fakeDataset({ 'photo.png': 'png' });
    const root = await fakeDataset(cats(1));
    await symlink(join(outside, 'photo.png'), join(root, 'cat', 'linked.png'));
    await symlink(join(outside, 'gone.png'), join(root, 'cat', 'gone.png'));
    const ds = await loadImageFolderDataset(root);
    expect(ds.items.map((it) => it.path)).toEqual([
      join(root, 'cat', 'img_0.png'),
      join(root, 'cat', 'linked.png'),
    ]);
    expect(ds.report.skipped.brokenLinks).toEqual(['cat/gone.png']);
    expect(ds.summary()).toContain('1 broken symbolic link (cat/gone.png)');
  });
});

describe('folder links are followed once (device + inode)', () => {
  it('`ln -s . cat/self` lists the 5 images once, and two such links do not multiply them', async () => {
    const root = await fakeDataset(cats());
    await symlink('.', join(root, 'cat', 'self'));
    await symlink('.', join(root, 'cat', 'again'));
    await symlink('..', join(root, 'cat', 'up'));
    const started = performance.now();
    const ds = await loadImageFolderDataset(root);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(ds.items).toHaveLength(5);
    expect(ds.report.skipped.folderLoops).toEqual(['cat/again', 'cat/self', 'cat/up']);
    expect(ds.summary()).toMatch(
      /3 folder links looping back to a folder above, not followed \(cat\/again, cat\/self, cat\/up\)/,
    );
  });

  it('a loop at the top level is not a class', async () => {
    const root = await fakeDataset({ ...cats(2), ...imagesIn(['dog'], 1, 'png') });
    await symlink('.', join(root, 'all'));
    const ds = await loadImageFolderDataset(root);
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(ds.items).toHaveLength(3);
    expect(ds.report.skipped.folderLoops).toEqual(['all']);
  });

  it('a link to a folder outside is followed; a second path to a class folder is not', async () => {
    const extra = await fakeDataset({ 'more/a.png': 'png', 'more/b.png': 'png' });
    const root = await fakeDataset({ ...cats(1), ...imagesIn(['dog'], 2, 'png') });
    await symlink(join(extra, 'more'), join(root, 'cat', 'more'));
    await symlink('../dog', join(root, 'cat', 'dogs-too'));
    await symlink('dog', join(root, 'puppy')); // another name for the dog class folder
    await symlink(join(extra, 'more'), join(root, 'dog', 'more-again'));
    const ds = await loadImageFolderDataset(root);
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(ds.items.map((it) => [it.path.slice(root.length + 1), it.label])).toEqual([
      ['cat/img_0.png', 0],
      ['cat/more/a.png', 0],
      ['cat/more/b.png', 0],
      ['dog/img_0.png', 1],
      ['dog/img_1.png', 1],
    ]);
    expect(ds.report.skipped.repeatedFolders.sort()).toEqual(['cat/dogs-too', 'dog/more-again', 'puppy']);
    expect(ds.summary()).toMatch(/3 folders already listed by another path, listed once/);
  });

  it('class folders that are links (a subset made of links) are classes', async () => {
    const full = await fakeDataset({ ...cats(2), ...imagesIn(['dog', 'eel'], 1, 'png') });
    const root = await tempFolder();
    await symlink(join(full, 'cat'), join(root, 'cat'));
    await symlink(join(full, 'eel'), join(root, 'eel'));
    const ds = await loadImageFolderDataset(root);
    expect(ds.classNames).toEqual(['cat', 'eel']);
    expect(ds.items).toHaveLength(3);
    expect(ds.summary()).toMatch(/skipped: none/);
  });
});

describe('unreadable folders', () => {
  it.skipIf(noPermissions !== undefined)(
    'an unreadable subfolder is skipped and counted; its class stays (ranks do not shift)',
    async () => {
      const root = await writeTree(await sharedTempFolder(), {
        ...imagesIn(['ant', 'bee', 'cat'], 2, 'png'),
        'cat/inner/x.png': 'png',
      });
      await chmod(join(root, 'bee'), 0o000);
      await chmod(join(root, 'cat', 'inner'), 0o000);
      try {
        const ds = await asUnprivileged(() => loadImageFolderDataset(root));
        expect(ds.classNames).toEqual(['ant', 'bee', 'cat']);
        expect(ds.items.map((it) => [it.path.slice(root.length + 1), it.label])).toEqual([
          ['ant/img_0.png', 0],
          ['ant/img_1.png', 0],
          ['cat/img_0.png', 2],
          ['cat/img_1.png', 2],
        ]);
        expect(ds.report.skipped.unreadable).toEqual([
          { path: 'bee', reason: 'permission denied' },
          { path: 'cat/inner', reason: 'permission denied' },
        ]);
        expect(ds.summary()).toContain(
          '2 unreadable entries (bee: permission denied, cat/inner: permission denied)',
        );
      } finally {
        await chmod(join(root, 'bee'), 0o755);
        await chmod(join(root, 'cat', 'inner'), 0o755);
      }
    },
  );

  it.skipIf(noPermissions !== undefined)('an unreadable root is a DatasetError naming it', async () => {
    const root = await writeTree(await sharedTempFolder(), cats(1));
    await chmod(root, 0o000);
    try {
      const error = await asUnprivileged(() => datasetErrorOf(loadImageFolderDataset(root)));
      expect(error.code).toBe('unreadable-folder');
      expect(error.message).toBe(`Dataset folder ${root} cannot be read (permission denied).`);
      const inside = await asUnprivileged(() => datasetErrorOf(loadImageFolderDataset(join(root, 'cat'))));
      expect(inside.message).toBe(`Dataset folder ${join(root, 'cat')} cannot be read (permission denied).`);
    } finally {
      await chmod(root, 0o755);
    }
  });

  it.skipIf(noPermissions !== undefined)(
    'a folder whose only class folders are unreadable holds no images',
    async () => {
      const root = await writeTree(await sharedTempFolder(), imagesIn(['ant', 'bee'], 1, 'png'));
      await chmod(join(root, 'ant'), 0o000);
      await chmod(join(root, 'bee'), 0o000);
      try {
        const error = await asUnprivileged(() => datasetErrorOf(loadImageFolderDataset(root)));
        expect(error.code).toBe('no-images');
        expect(error.message).toBe(
          `Dataset folder ${root} holds no images: 2 subfolders without images, skipped 2 unreadable ` +
            'entries (ant: permission denied, bee: permission denied).',
        );
      } finally {
        await chmod(join(root, 'ant'), 0o755);
        await chmod(join(root, 'bee'), 0o755);
      }
    },
  );
});

describe('--data that is not a folder of images: one sentence', () => {
  it('a FIFO or a device given as the dataset folder', async () => {
    if (canFifo) {
      const error = await datasetErrorOf(loadImageFolderDataset(fifoProbe));
      expect(error.message).toBe(`Dataset path ${fifoProbe} is a FIFO, not a folder.`);
    }
    if (canDevZero) {
      const error = await datasetErrorOf(loadImageFolderDataset('/dev/zero'));
      expect(error.message).toBe('Dataset path /dev/zero is a character device, not a folder.');
    }
  });

  it('a path below a file', async () => {
    const file = join(await fakeDataset({ 'x.png': 'png' }), 'x.png');
    const error = await datasetErrorOf(loadImageFolderDataset(join(file, 'val')));
    expect(error.code).toBe('not-a-folder');
    expect(error.message).toBe(`Dataset path ${join(file, 'val')} is inside a file, not a folder.`);
  });

  it.skipIf(!canFifo)('a folder of nothing but skipped entries says what they were', async () => {
    const root = await tempFolder();
    await mkdir(join(root, 'cat'));
    expect(makeFifo(join(root, 'cat', 'x.jpg'))).toBe(true);
    await symlink('.', join(root, 'cat', 'self'));
    await writeFile(join(root, 'cat', 'notes.png'), 'x');
    const error = await datasetErrorOf(loadImageFolderDataset(root, { extensions: ['jpg'] }));
    expect(error.code).toBe('no-images');
    expect(error.message).toBe(
      `Dataset folder ${root} holds no images: 1 subfolder without images, skipped 1 non-image file ` +
        '(.png: 1), 1 special file, not opened (FIFO: 1), 1 folder link looping back to a folder above, ' +
        'not followed (cat/self). Images are recognised by extension; pass extensions to add others.',
    );
    const onlyFifo = await tempFolder();
    expect(makeFifo(join(onlyFifo, 'x.jpg'))).toBe(true);
    const fifoError = await datasetErrorOf(loadImageFolderDataset(onlyFifo));
    expect(fifoError.message).toBe(
      `Dataset folder ${onlyFifo} holds no images: 0 subfolders without images, skipped 1 special ` +
        'file, not opened (FIFO: 1).',
    );
  });
});
