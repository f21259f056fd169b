/** What `preprocessImage` and friends accept as an image: a file path or the encoded bytes. */
export type ImageSource = string | Uint8Array;

/** A short, human-readable name for a source: the path, or the size of a buffer. */
export function describeSource(source: ImageSource): string {
  return typeof source === 'string' ? source : `<buffer of ${source.length} bytes>`;
}

/**
 * An image that could not be read or decoded. The message always names the source (the path, or the
 * buffer's size) so a data loader can report and skip the file.
 */
export class ImagePreprocessError extends Error {
  override readonly name = 'ImagePreprocessError';
  /** `describeSource(source)`. */
  readonly source: string;
  /** The reason without the source prefix. */
  readonly reason: string;

  constructor(source: ImageSource, reason: string, options?: { cause?: unknown }) {
    super(`cannot preprocess image ${describeSource(source)}: ${reason}`, options);
    this.source = describeSource(source);
    this.reason = reason;
  }
}
