/**
 * What core needs from the runtime it runs in, and nothing more: TensorFlow.js itself runs in Node and in
 * browsers, and so does everything in core except these few calls. `#platform` (package.json `imports`)
 * resolves to `node.ts` everywhere but under the `browser` condition, where bundlers pick `browser.ts` —
 * the platform split of tfjs-core's `platform_node` / `platform_browser`, done by the resolver instead of
 * at run time, so a page never contains an import of `node:module` or `node:os`.
 */
export interface CorePlatform {
  readonly name: 'node' | 'browser';
  /** An environment variable (a browser has none). */
  env(name: string): string | undefined;
  /** Logical CPU cores. */
  cores(): number;
  /** The machine's memory in bytes; null where the runtime does not tell. */
  totalMemory(): number | null;
  /** Loads a CommonJS package synchronously (the native addon); null where the runtime cannot. */
  readonly requirePackage: ((pkg: string) => unknown) | null;
  /**
   * Imports an optional package by its name. One that is not there fails with `code: 'MODULE_NOT_FOUND'`
   * before anything is loaded, so "not installed" is told apart from "installed but failed to load".
   */
  importOptional(pkg: string): Promise<unknown>;
  /** Writes text for the person running the program (stderr; the console in a browser). */
  writeError(text: string): void;
}
