import { extname } from 'node:path';
import { listFew, plural } from './dataset_error.js';

/**
 * What the folder scan left out, by reason, so that a summary (and the error for a folder without
 * images) can say exactly what was there. Paths are relative to the dataset root.
 */

/** Entries that are neither files nor folders; they are never opened (see `scan.ts`). */
export type SpecialFileKind = 'FIFO' | 'socket' | 'character device' | 'block device' | 'unknown type';

/** A folder or link that could not be read, and why (`permission denied`). */
export interface UnreadableEntry {
  path: string;
  reason: string;
}

/** Files skipped while listing, by cause. */
export interface SkippedFiles {
  /** Files whose extension is not an image extension, e.g. `README.txt`, annotation `.xml`. */
  nonImage: number;
  /** Counts of skipped non-image files by extension (`(none)` for no extension). */
  byExtension: Record<string, number>;
  /** Hidden files and folders (name starting with `.`). */
  hidden: number;
  /** FIFOs, sockets and devices, directly or behind a symbolic link: never opened. */
  special: number;
  /** Counts of `special` by kind. */
  bySpecialKind: Partial<Record<SpecialFileKind, number>>;
  /** Symbolic links whose target does not exist (or that loop among themselves). */
  brokenLinks: string[];
  /** Folders that could not be listed, and links whose target could not be looked at. */
  unreadable: UnreadableEntry[];
  /** Links to a folder that contains them (`ln -s . self`, `ln -s .. up`): following them never ends. */
  folderLoops: string[];
  /** Second paths to a folder already listed (two links to one folder): it is listed once. */
  repeatedFolders: string[];
}

export function emptySkipped(): SkippedFiles {
  return {
    nonImage: 0,
    byExtension: {},
    hidden: 0,
    special: 0,
    bySpecialKind: {},
    brokenLinks: [],
    unreadable: [],
    folderLoops: [],
    repeatedFolders: [],
  };
}

/** A deep copy, for a report that adjusts the counts (`image_folder.ts` un-skips the labels file). */
export function copySkipped(s: SkippedFiles): SkippedFiles {
  return {
    ...s,
    byExtension: { ...s.byExtension },
    bySpecialKind: { ...s.bySpecialKind },
    brokenLinks: [...s.brokenLinks],
    unreadable: s.unreadable.map((u) => ({ ...u })),
    folderLoops: [...s.folderLoops],
    repeatedFolders: [...s.repeatedFolders],
  };
}

export function skipNonImage(skipped: SkippedFiles, name: string): void {
  const ext = extname(name).toLowerCase() || '(none)';
  skipped.nonImage++;
  skipped.byExtension[ext] = (skipped.byExtension[ext] ?? 0) + 1;
}

export function skipSpecial(skipped: SkippedFiles, kind: SpecialFileKind): void {
  skipped.special++;
  skipped.bySpecialKind[kind] = (skipped.bySpecialKind[kind] ?? 0) + 1;
}

/** Skipped entries of every reason together. */
export function skippedCount(s: SkippedFiles): number {
  return (
    s.nonImage +
    s.hidden +
    s.special +
    s.brokenLinks.length +
    s.unreadable.length +
    s.folderLoops.length +
    s.repeatedFolders.length
  );
}

const byCount = (counts: Record<string, number | undefined>): string =>
  Object.entries(counts)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');

/**
 * `3 non-image files (.txt: 2, .xml: 1), 1 hidden entry, 1 special file, not opened (FIFO: 1), ...` — or
 * `none`.
 */
export function describeSkipped(s: SkippedFiles): string {
  const parts: string[] = [];
  if (s.nonImage > 0) parts.push(`${plural(s.nonImage, 'non-image file')} (${byCount(s.byExtension)})`);
  if (s.hidden > 0) parts.push(plural(s.hidden, 'hidden entry', 'hidden entries'));
  if (s.special > 0) {
    parts.push(`${plural(s.special, 'special file')}, not opened (${byCount(s.bySpecialKind)})`);
  }
  if (s.brokenLinks.length > 0) {
    parts.push(`${plural(s.brokenLinks.length, 'broken symbolic link')} (${listFew(s.brokenLinks, 3)})`);
  }
  if (s.unreadable.length > 0) {
    const which = s.unreadable.map((u) => `${u.path}: ${u.reason}`);
    parts.push(
      `${plural(s.unreadable.length, 'unreadable entry', 'unreadable entries')} (${listFew(which, 3)})`,
    );
  }
  if (s.folderLoops.length > 0) {
    parts.push(
      `${plural(s.folderLoops.length, 'folder link')} looping back to a folder above, not followed ` +
        `(${listFew(s.folderLoops, 3)})`,
    );
  }
  if (s.repeatedFolders.length > 0) {
    parts.push(
      `${plural(s.repeatedFolders.length, 'folder')} already listed by another path, listed once ` +
        `(${listFew(s.repeatedFolders, 3)})`,
    );
  }
  return parts.length > 0 ? parts.join(', ') : 'none';
}
