/**
 * The failures the CLI reports without a stack trace, as one sentence that names the thing and says what
 * to do. A `UsageError` is a mistake in the command line itself (exit 2, with a pointer to --help); an
 * `InputError` is a problem with what the command line names — a missing file, a model that does not
 * load, a plugin that is not a plugin (exit 2, no pointer: the help would not fix it).
 */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
}

export class InputError extends Error {
  override readonly name = 'InputError';
}

/** Error names that library packages use for mistakes in the user's input (files, folders, options). */
const INPUT_ERROR_NAMES = new Set([
  'InputError',
  'DatasetError',
  'ClipLoadError',
  'SafetensorsError',
  'PreprocessorConfigError',
  'TrainingRunExistsError',
  'TrainingRunMismatchError',
  'FileLockedError',
  'RouterContractError',
  'ModelFamilyError',
  'ModelTooLargeError',
  'ModelConfigError',
]);

/**
 * `ZeroShotEvalError` codes that describe the user's input (an option, a work dir holding another run,
 * result files that do not fit together); the others (`unreadable-image` under --strict, `aborted`,
 * `failed`) mean the evaluation itself failed.
 */
const EVAL_INPUT_CODES = new Set([
  'bad-option',
  'work-dir-mismatch',
  'work-dir-locked',
  'merge',
  'bad-result-file',
  'bad-template',
]);

export interface ClassifiedError {
  /** 2 for usage or input errors, 1 for a task that failed. */
  exitCode: 1 | 2;
  message: string;
  /** Whether to point at `--help` (only for command-line mistakes). */
  showHelpHint: boolean;
}

/**
 * Turns anything thrown by a command into an exit code and a message. Library errors are recognised by
 * their `name` (not `instanceof`), so two copies of a package in node_modules still classify alike.
 */
export function classifyError(err: unknown): ClassifiedError {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  const parseError = typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
  if (e instanceof UsageError || parseError) {
    return { exitCode: 2, message: e.message, showHelpHint: true };
  }
  if (INPUT_ERROR_NAMES.has(e.name)) return { exitCode: 2, message: e.message, showHelpHint: false };
  if (e.name === 'ZeroShotEvalError') {
    const input = EVAL_INPUT_CODES.has(String(code));
    return { exitCode: input ? 2 : 1, message: e.message, showHelpHint: false };
  }
  return { exitCode: 1, message: e.message, showHelpHint: false };
}
