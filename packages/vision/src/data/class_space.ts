import { DatasetError, listFew, plural } from './dataset_error.js';
import { imagenetClassNames, imagenetWnids } from './imagenet_metadata.js';

/**
 * The class space a dataset's labels index into. Labels are always indices into `names`; what differs is
 * how a folder name or a labels-file entry is turned into an index:
 * - `imagenet`: the 1000 ImageNet classes; synset ids map to their rank in sorted-wnid order, so a folder
 *   `n01440764` is class 0 whether the dataset has all 1000 folders or only 200 of them;
 * - `wnids`: a user-given `{names, wnids}` list, mapped the same way;
 * - `names`: a user-given list of class names in index order; folders are matched by name;
 * - `folders`: no list at all, class = rank of the folder name in sorted order (torchvision's rule).
 */
export type ClassesOption =
  | 'auto'
  | 'imagenet'
  | 'folders'
  | readonly string[]
  | { names: readonly string[]; wnids: readonly string[] };

export type ClassSpaceKind = 'imagenet' | 'wnids' | 'names' | 'folders';

export interface ClassSpace {
  kind: ClassSpaceKind;
  names: string[];
  /** Synset ids in index order, for the `imagenet` and `wnids` kinds. */
  wnids?: string[];
}

/** `n` followed by 8 digits: the WordNet synset id format ImageNet folders and label files use. */
export function looksLikeWnid(s: string): boolean {
  return /^n\d{8}$/.test(s);
}

export function imagenetClassSpace(): ClassSpace {
  return { kind: 'imagenet', names: imagenetClassNames(), wnids: imagenetWnids() };
}

/** The explicit class spaces (everything but `auto` and `folders`, which depend on what is on disk). */
export function explicitClassSpace(option: Exclude<ClassesOption, 'auto' | 'folders'>): ClassSpace {
  if (option === 'imagenet') return imagenetClassSpace();
  if (Array.isArray(option)) {
    const names = option as readonly string[];
    if (names.length === 0)
      throw new DatasetError('bad-option', 'classes: the list of class names is empty.');
    return { kind: 'names', names: [...names] };
  }
  const { names, wnids } = option as { names: readonly string[]; wnids: readonly string[] };
  if (!Array.isArray(names) || !Array.isArray(wnids) || names.length !== wnids.length || names.length === 0) {
    throw new DatasetError(
      'bad-option',
      `classes: {names, wnids} must be two non-empty lists of the same length ` +
        `(got ${names?.length ?? 'no'} names and ${wnids?.length ?? 'no'} wnids).`,
    );
  }
  const dup = wnids.filter((w, i) => wnids.indexOf(w) !== i);
  if (dup.length > 0) throw new DatasetError('bad-option', `classes.wnids has duplicates: ${listFew(dup)}.`);
  return { kind: 'wnids', names: [...names], wnids: [...wnids] };
}

/** Index of each synset in a class space that has them. */
export function wnidIndex(space: ClassSpace): Map<string, number> {
  return new Map((space.wnids ?? []).map((w, i) => [w, i]));
}

/**
 * Maps class identifiers found on disk (folder names, labels-file wnids) to indices, failing with every
 * unknown one listed — a typo'd or foreign folder must not silently become a wrong label.
 */
export function mapByWnid(space: ClassSpace, wnids: readonly string[], where: string): number[] {
  if (!space.wnids) {
    throw new DatasetError(
      'bad-option',
      `${where} names classes by synset id, but the class space has no wnids: pass classes: 'imagenet' ` +
        `or {names, wnids}.`,
    );
  }
  const index = wnidIndex(space);
  const unknown = [...new Set(wnids.filter((w) => !index.has(w)))];
  if (unknown.length > 0) {
    const spaceName = space.kind === 'imagenet' ? 'ImageNet-1k' : 'the given classes';
    throw new DatasetError(
      'unknown-synset',
      `${where}: ${plural(unknown.length, 'synset')} not in ${spaceName} ` +
        `(${space.names.length} classes): ${listFew(unknown)}.`,
    );
  }
  return wnids.map((w) => index.get(w) as number);
}

/** Maps folder names to indices of a `names` class space; duplicated names are refused as ambiguous. */
export function mapByName(space: ClassSpace, names: readonly string[], where: string): number[] {
  const first = new Map<string, number>();
  const duplicated = new Set<string>();
  space.names.forEach((n, i) => (first.has(n) ? duplicated.add(n) : first.set(n, i)));
  const unknown = names.filter((n) => !first.has(n));
  if (unknown.length > 0) {
    throw new DatasetError(
      'unknown-class',
      `${where}: ${plural(unknown.length, 'folder')} not among the ${space.names.length} given class ` +
        `names: ${listFew(unknown)}.`,
    );
  }
  const ambiguous = names.filter((n) => duplicated.has(n));
  if (ambiguous.length > 0) {
    throw new DatasetError(
      'unknown-class',
      `${where}: class name(s) ${listFew(ambiguous)} appear more than once in classes; pass ` +
        `{names, wnids} to disambiguate.`,
    );
  }
  return names.map((n) => first.get(n) as number);
}

/** Checks that integer labels index into the class space. */
export function checkIndexRange(
  space: ClassSpace,
  indices: readonly number[],
  where: string,
  hint = '',
): void {
  const bad = [...new Set(indices.filter((i) => !Number.isInteger(i) || i < 0 || i >= space.names.length))];
  if (bad.length > 0) {
    throw new DatasetError(
      'label-out-of-range',
      `${where}: ${plural(bad.length, 'class index', 'class indices')} outside [0, ${space.names.length}) ` +
        `(${space.kind === 'imagenet' ? 'ImageNet-1k' : `${space.names.length} classes`}): ` +
        `${listFew(bad.sort((a, b) => a - b).map(String))}.${hint}`,
    );
  }
}
