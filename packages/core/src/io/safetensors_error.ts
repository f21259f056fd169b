/**
 * Every problem found in a safetensors file or buffer. The message always starts with the source (the file
 * path, or `<buffer>`) so that a user loading several checkpoints knows which one is broken.
 */
export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';

  constructor(
    /** The file path, or the label passed to `parseSafetensors`. */
    readonly source: string,
    /** The problem alone, without the source. */
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${problem}`, options);
  }
}
