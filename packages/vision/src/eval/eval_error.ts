/** What went wrong, for callers (the CLI) that map failures to exit codes and hints. */
export type ZeroShotEvalErrorCode =
  | 'bad-option'
  | 'unreadable-image'
  | 'aborted'
  | 'work-dir-mismatch'
  | 'work-dir-locked'
  | 'merge'
  | 'bad-result-file'
  | 'non-finite'
  | 'bad-template'
  | 'failed';

export interface ZeroShotEvalErrorOptions {
  code?: ZeroShotEvalErrorCode;
  /** The file the problem is about (an image, a result file, a work-dir file), when there is one. */
  file?: string;
  cause?: unknown;
}

/**
 * Every failure of the evaluation library that the user can act on: a bad option, an unreadable image in
 * `strict` mode, a stop requested through the `AbortSignal`, a work dir holding another run, shards that
 * do not fit together, a malformed result file. The message says what and which file; `code` lets a CLI
 * choose an exit code without matching on text.
 */
export class ZeroShotEvalError extends Error {
  override readonly name = 'ZeroShotEvalError';
  readonly code: ZeroShotEvalErrorCode;
  readonly file?: string;

  constructor(message: string, options: ZeroShotEvalErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'failed';
    if (options.file !== undefined) this.file = options.file;
  }
}
