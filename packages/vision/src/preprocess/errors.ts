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

/** Why a file-system call failed, in words (`permission denied`), for messages that already name the path. */
export function describeFsError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'file not found';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'EIO':
      return 'input/output error';
    default: {
      const message = err instanceof Error ? err.message : String(err);
      return message.split('\n')[0].trim();
    }
  }
}
