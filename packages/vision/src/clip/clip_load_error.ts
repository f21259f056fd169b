/**
 * The error every CLIP loading failure is reported as: a message that names the folder, file or hub id
 * involved and says what to do, with the underlying error kept as `cause`. Callers (a CLI, a benchmark
 * runner) can print `message` as is; `path` lets them point at the offending file.
 */
export class ClipLoadError extends Error {
  /** The folder, file or hub id the failure is about. */
  readonly path: string | undefined;

  constructor(message: string, path?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClipLoadError';
    this.path = path;
  }
}

/** Error codes Node and undici use when no connection could be made at all. */
const OFFLINE_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * Whether an error means "the network could not be reached" rather than "the server answered no".
 * Node's fetch throws `TypeError('fetch failed')` with the system error as `cause`; we walk the cause
 * chain so the distinction survives transformers.js re-throwing.
 */
export function isNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e != null && depth < 8; depth++) {
    if (typeof e !== 'object') return false;
    const { code, message, name } = e as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof code === 'string' && OFFLINE_CODES.has(code)) return true;
    if (name === 'TypeError' && message === 'fetch failed') return true;
    if (typeof message === 'string' && /fetch failed|getaddrinfo|network (is )?unreachable/i.test(message)) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The message for a hub id that could not be fetched because this machine is offline. */
export function offlineHubError(id: string, resolvedPath: string, cause: unknown): ClipLoadError {
  return new ClipLoadError(
    `Cannot load "${id}" from the Hugging Face Hub: this machine appears to be offline ` +
      `(${describeError(cause)}). Either download the model elsewhere and give its local folder as the ` +
      `model (a folder with config.json, tokenizer.json, tokenizer_config.json, preprocessor_config.json ` +
      `and onnx/*.onnx), or load it from a cache that already holds it (zero-shot: --offline ` +
      `--model-cache-dir DIR; the library: { localOnly: true, cacheDir }). ` +
      `(No local folder exists at ${resolvedPath}.)`,
    id,
    { cause },
  );
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
    return typeof code === 'string' ? `${error.message}: ${code}` : error.message;
  }
  return String(error);
}
