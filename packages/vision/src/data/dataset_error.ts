/**
 * The one error type the dataset loaders throw for problems in the user's data or options (a missing
 * folder, a labels file that does not match the images, the devkit ground-truth trap...). A CLI can catch
 * it with `isDatasetError` and print `message` alone: the message already names the path and the counts,
 * so a stack trace would add nothing but noise. Anything else that escapes the loaders is a real bug.
 */
export type DatasetErrorCode =
  | 'missing-folder'
  | 'not-a-folder'
  | 'unreadable-folder'
  | 'empty-folder'
  | 'no-images'
  | 'mixed-layout'
  | 'no-labels-file'
  | 'missing-labels-file'
  | 'bad-labels-file'
  | 'devkit-ground-truth'
  | 'missing-files'
  | 'unknown-synset'
  | 'unknown-class'
  | 'label-out-of-range'
  | 'bad-option'
  | 'bad-package-data'
  | 'bad-dataset-file';

export class DatasetError extends Error {
  override readonly name = 'DatasetError';

  constructor(
    readonly code: DatasetErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** True for errors that describe a user mistake (print the message, not the stack). */
export function isDatasetError(error: unknown): error is DatasetError {
  return error instanceof DatasetError;
}

/** `a, b, c (and 12 more)`: enough examples to find the problem without flooding the terminal. */
export function listFew(values: readonly string[], max = 5): string {
  const shown = values.slice(0, max).join(', ');
  return values.length > max ? `${shown} (and ${values.length - max} more)` : shown;
}

/** `1,000 images` / `1 image`: counts in messages are read by people. */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? noun : pluralNoun}`;
}
