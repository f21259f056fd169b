import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { describeFsError } from '../preprocess/errors.js';
import { DatasetError } from './dataset_error.js';
import { emptySkipped, skipNonImage, skipSpecial } from './skipped_files.js';
import type { SkippedFiles, SpecialFileKind } from './skipped_files.js';

/**
 * Directory listing for the image-folder loader: which entries are images (by extension — decoding is
 * the caller's business, so a corrupt JPEG is still listed), which entries were skipped and why (see
 * `skipped_files.ts`), and which subfolders exist. Hidden entries (`.DS_Store`, macOS `._x.JPEG` shadows, `.git`) are skipped
 * and counted separately because they are never data. Names are sorted by code point, like Python's
 * `sorted`, so class ranks match torchvision's `ImageFolder` regardless of the user's locale.
 */

/**
 * Extensions sharp can decode. BMP/PPM/PGM (which torchvision also accepts) are left out on purpose:
 * sharp cannot read them, so listing them would only move the failure to decode time. Pass
 * `extensions` to include them anyway.
 */
export const DEFAULT_IMAGE_EXTENSIONS: readonly string[] = [
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
];

/** Lower-cased, dotted extension set (`JPEG` and `.jpeg` both become `.jpeg`). */
export function normaliseExtensions(extensions: readonly string[] = DEFAULT_IMAGE_EXTENSIONS): Set<string> {
  return new Set(extensions.map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase()));
}

export function isImageName(name: string, extensions: ReadonlySet<string>): boolean {
  return extensions.has(extname(name).toLowerCase());
}

export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One folder level: image files, other files, subfolders (symbolic links to folders included). */
export interface DirListing {
  images: string[];
  /** Non-hidden regular files that are not images (kept by name so a labels file can be recognised). */
  otherFiles: string[];
  dirs: string[];
  /** The names in `dirs` that are symbolic links. */
  linkedDirs: ReadonlySet<string>;
  /** Entries of the folder, skipped ones included (0: the folder is empty). */
  entries: number;
}

type EntryKind = 'dir' | 'file' | SpecialFileKind;

function kindOf(entry: Dirent | Stats): EntryKind {
  if (entry.isDirectory()) return 'dir';
  if (entry.isFile()) return 'file';
  if (entry.isFIFO()) return 'FIFO';
  if (entry.isSocket()) return 'socket';
  if (entry.isCharacterDevice()) return 'character device';
  if (entry.isBlockDevice()) return 'block device';
  return 'unknown type';
}

/** A folder's identity: the same folder reached through links (or bind mounts) has the same key. */
async function folderKey(path: string): Promise<string> {
  const info = await stat(path, { bigint: true });
  return `${info.dev}:${info.ino}`;
}

/** Symbolic links looked at concurrently (each is a `stat` on libuv's pool). */
const LINK_STATS_IN_FLIGHT = 32;

/**
 * One walk over a dataset folder. Only what is safe to read is listed: regular files (directly or through
 * a symbolic link) and folders. FIFOs, sockets and devices are counted and never opened — reading a FIFO
 * waits for a writer forever, `/dev/zero` never ends. Each folder is listed once, recognised by device and
 * inode, so a link back to a folder above (`ln -s . self`) is a counted loop instead of the same images
 * again at every depth the kernel allows (and, with two such links, exponentially many of them); a second
 * path to a folder already listed is counted too. Folders that cannot be read are counted and the walk
 * goes on, except for the root, which the user named. `skipped` holds everything left out.
 */
export class FolderScan {
  readonly skipped: SkippedFiles = emptySkipped();
  private readonly listed = new Set<string>();
  private rootKey: string | undefined;

  constructor(
    readonly root: string,
    readonly extensions: ReadonlySet<string>,
  ) {}

  /** Lists the root folder; one that cannot be read is a `DatasetError` (`unreadable-folder`). */
  async listRoot(): Promise<DirListing> {
    try {
      this.rootKey = await folderKey(this.root);
      this.listed.add(this.rootKey);
      return await this.list(this.root);
    } catch (err) {
      throw new DatasetError(
        'unreadable-folder',
        `Dataset folder ${this.root} cannot be read (${describeFsError(err)}).`,
        { cause: err },
      );
    }
  }

  /**
   * The subfolders of `dir` (from its `listing`) not listed before, claimed all at once before any is
   * walked, real folders before links: a link from one class folder to another is then a repeat, and each
   * folder's images stay with the path that names it. Sorted by name; loops and repeats are counted.
   */
  async claimSubfolders(
    dir: string,
    listing: DirListing,
    above: ReadonlySet<string> = this.rootChain(),
  ): Promise<Array<{ name: string; key: string }>> {
    const { dirs, linkedDirs } = listing;
    const order = [...dirs.filter((d) => !linkedDirs.has(d)), ...dirs.filter((d) => linkedDirs.has(d))];
    const claimed: Array<{ name: string; key: string }> = [];
    for (const name of order) {
      const path = join(dir, name);
      let key: string;
      try {
        key = await folderKey(path);
      } catch (err) {
        this.skipped.unreadable.push({ path: this.rel(path), reason: describeFsError(err) });
        continue;
      }
      if (this.listed.has(key)) {
        (above.has(key) ? this.skipped.folderLoops : this.skipped.repeatedFolders).push(this.rel(path));
        continue;
      }
      this.listed.add(key);
      claimed.push({ name, key });
    }
    return claimed.sort((a, b) => byCodePoint(a.name, b.name));
  }

  /**
   * All images below a claimed folder, nested folders included (as torchvision's `ImageFolder` does), as
   * paths relative to `dir` in sorted order. `above` holds the keys of `dir` and the folders above it.
   */
  async imagesBelow(dir: string, above: ReadonlySet<string>): Promise<string[]> {
    let listing: DirListing;
    try {
      listing = await this.list(dir);
    } catch (err) {
      this.skipped.unreadable.push({ path: this.rel(dir), reason: describeFsError(err) });
      return [];
    }
    const out = [...listing.images];
    for (const { name, key } of await this.claimSubfolders(dir, listing, above)) {
      const below = await this.imagesBelow(join(dir, name), new Set(above).add(key));
      for (const rel of below) out.push(join(name, rel));
    }
    return out.sort(byCodePoint);
  }

  /** The keys above a class folder: the root's. */
  rootChain(): ReadonlySet<string> {
    return new Set(this.rootKey === undefined ? [] : [this.rootKey]);
  }

  private rel(path: string): string {
    return relative(this.root, path) || '.';
  }

  /** One folder; throws when it cannot be listed (the caller decides whether that is fatal). */
  private async list(dir: string): Promise<DirListing> {
    const entries = await readdir(dir, { withFileTypes: true });
    const kinds = new Map<string, EntryKind | undefined>();
    const links = entries.filter((e) => e.isSymbolicLink() && !e.name.startsWith('.'));
    for (let at = 0; at < links.length; at += LINK_STATS_IN_FLIGHT) {
      const batch = links.slice(at, at + LINK_STATS_IN_FLIGHT);
      const targets = await Promise.all(batch.map((e) => this.linkTarget(join(dir, e.name))));
      batch.forEach((e, i) => kinds.set(e.name, targets[i]));
    }
    const images: string[] = [];
    const otherFiles: string[] = [];
    const dirs: string[] = [];
    const linkedDirs = new Set<string>();
    for (const e of entries) {
      if (e.name.startsWith('.')) {
        this.skipped.hidden++;
        continue;
      }
      const kind = e.isSymbolicLink() ? kinds.get(e.name) : kindOf(e);
      if (kind === undefined) continue; // a broken or unreadable link, counted by linkTarget
      if (kind === 'dir') {
        dirs.push(e.name);
        if (e.isSymbolicLink()) linkedDirs.add(e.name);
      } else if (kind !== 'file') skipSpecial(this.skipped, kind);
      else if (isImageName(e.name, this.extensions)) images.push(e.name);
      else {
        otherFiles.push(e.name);
        skipNonImage(this.skipped, e.name);
      }
    }
    images.sort(byCodePoint);
    otherFiles.sort(byCodePoint);
    dirs.sort(byCodePoint);
    return { images, otherFiles, dirs, linkedDirs, entries: entries.length };
  }

  /** What a symbolic link points at; undefined (and counted) when that cannot be known. */
  private async linkTarget(path: string): Promise<EntryKind | undefined> {
    try {
      return kindOf(await stat(path));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') {
        this.skipped.brokenLinks.push(this.rel(path));
      } else this.skipped.unreadable.push({ path: this.rel(path), reason: describeFsError(err) });
      return undefined;
    }
  }
}

/** Fails with a clear message unless `root` is an existing folder the walk can start from. */
export async function requireFolder(root: string): Promise<void> {
  let info;
  try {
    info = await stat(root);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT') {
      throw new DatasetError('missing-folder', `Dataset folder ${root} does not exist.`, { cause: err });
    }
    if (code === 'ENOTDIR') {
      throw new DatasetError('not-a-folder', `Dataset path ${root} is inside a file, not a folder.`, {
        cause: err,
      });
    }
    throw new DatasetError(
      'unreadable-folder',
      `Dataset folder ${root} cannot be read (${describeFsError(err)}).`,
      {
        cause: err,
      },
    );
  }
  const kind = kindOf(info);
  if (kind === 'file')
    throw new DatasetError('not-a-folder', `Dataset path ${root} is a file, not a folder.`);
  if (kind !== 'dir') {
    const what = kind === 'unknown type' ? 'a file of unknown type' : `a ${kind}`;
    throw new DatasetError('not-a-folder', `Dataset path ${root} is ${what}, not a folder.`);
  }
}
