import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DatasetError, plural } from './dataset_error.js';

/**
 * Directory listing for the image-folder loader: which entries are images (by extension — decoding is
 * the caller's business, so a corrupt JPEG is still listed), which files were skipped and why, and
 * which subfolders exist. Hidden entries (`.DS_Store`, macOS `._x.JPEG` shadows, `.git`) are skipped
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

/** Files skipped while listing, by cause. */
export interface SkippedFiles {
  /** Files whose extension is not an image extension, e.g. `README.txt`, annotation `.xml`. */
  nonImage: number;
  /** Counts of skipped non-image files by extension (`(none)` for no extension). */
  byExtension: Record<string, number>;
  /** Hidden files and folders (name starting with `.`). */
  hidden: number;
}

export function emptySkipped(): SkippedFiles {
  return { nonImage: 0, byExtension: {}, hidden: 0 };
}

export function addSkipped(into: SkippedFiles, from: SkippedFiles): void {
  into.nonImage += from.nonImage;
  into.hidden += from.hidden;
  for (const [ext, n] of Object.entries(from.byExtension))
    into.byExtension[ext] = (into.byExtension[ext] ?? 0) + n;
}

function skipNonImage(skipped: SkippedFiles, name: string): void {
  const ext = extname(name).toLowerCase() || '(none)';
  skipped.nonImage++;
  skipped.byExtension[ext] = (skipped.byExtension[ext] ?? 0) + 1;
}

export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One directory level: image files, other files, subfolders (symlinks followed). */
export interface DirListing {
  images: string[];
  /** Non-hidden files that are not images (kept by name so a labels file can be recognised). */
  otherFiles: string[];
  dirs: string[];
  skipped: SkippedFiles;
}

async function entryKind(
  dir: string,
  name: string,
  isDir: boolean,
  isLink: boolean,
): Promise<'dir' | 'file'> {
  if (!isLink) return isDir ? 'dir' : 'file';
  try {
    return (await stat(join(dir, name))).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'file'; // a dangling link: listed as a file, so it is skipped or fails at decode time, visibly.
  }
}

/** Lists one folder. Non-image files are counted in `skipped` and also returned in `otherFiles`. */
export async function listDir(dir: string, extensions: ReadonlySet<string>): Promise<DirListing> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: DirListing = { images: [], otherFiles: [], dirs: [], skipped: emptySkipped() };
  for (const e of entries) {
    if (e.name.startsWith('.')) {
      out.skipped.hidden++;
      continue;
    }
    const kind = await entryKind(dir, e.name, e.isDirectory(), e.isSymbolicLink());
    if (kind === 'dir') out.dirs.push(e.name);
    else if (isImageName(e.name, extensions)) out.images.push(e.name);
    else {
      out.otherFiles.push(e.name);
      skipNonImage(out.skipped, e.name);
    }
  }
  out.images.sort(byCodePoint);
  out.otherFiles.sort(byCodePoint);
  out.dirs.sort(byCodePoint);
  return out;
}

/**
 * All images below a class folder, nested folders included (as torchvision's `ImageFolder` does), as
 * paths relative to `dir` in sorted order.
 */
export async function listImagesRecursive(
  dir: string,
  extensions: ReadonlySet<string>,
  skipped: SkippedFiles,
): Promise<string[]> {
  const listing = await listDir(dir, extensions);
  addSkipped(skipped, listing.skipped);
  const out = [...listing.images];
  for (const sub of listing.dirs) {
    for (const rel of await listImagesRecursive(join(dir, sub), extensions, skipped))
      out.push(join(sub, rel));
  }
  return out.sort(byCodePoint);
}

/** Fails with a clear message unless `root` is an existing folder. */
export async function requireFolder(root: string): Promise<void> {
  let info;
  try {
    info = await stat(root);
  } catch {
    throw new DatasetError('missing-folder', `Dataset folder ${root} does not exist.`);
  }
  if (!info.isDirectory()) {
    throw new DatasetError('not-a-folder', `Dataset path ${root} is a file, not a folder.`);
  }
}

/** `3 non-image files (.txt: 2, .xml: 1), 1 hidden entry` — or `none`. */
export function describeSkipped(s: SkippedFiles): string {
  const parts: string[] = [];
  if (s.nonImage > 0) {
    const exts = Object.entries(s.byExtension)
      .sort((a, b) => b[1] - a[1])
      .map(([e, n]) => `${e}: ${n}`)
      .join(', ');
    parts.push(`${plural(s.nonImage, 'non-image file')} (${exts})`);
  }
  if (s.hidden > 0) parts.push(plural(s.hidden, 'hidden entry', 'hidden entries'));
  return parts.length > 0 ? parts.join(', ') : 'none';
}
