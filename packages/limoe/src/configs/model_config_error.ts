const MARKER = Symbol.for('moevl.limoe.ModelConfigError');

/**
 * A model config (a named preset or a JSON file) that does not exist or does not validate. `file` is the
 * file or name, `field` the JSON path of the offending field (null when the whole file is at fault), and
 * the message is one sentence naming both.
 */
export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
  private readonly [MARKER] = true;

  constructor(
    message: string,
    readonly file: string,
    readonly field: string | null = null,
    /** For an unknown name: the presets that exist. */
    readonly available: readonly string[] = [],
  ) {
    super(message);
  }

  static isInstance(err: unknown): err is ModelConfigError {
    return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[MARKER] === true;
  }
}
