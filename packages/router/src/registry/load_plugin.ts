import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RouterStrategy } from '../routers/contract.js';
import { checkRouterStrategy } from './check_strategy.js';
import { type RouterRegistry, defaultRouterRegistry } from './registry.js';

export interface LoadRouterPluginOptions {
  /** Where strategies are registered. Default: `defaultRouterRegistry`. */
  registry?: RouterRegistry;
  /** Base for relative paths. Default: `process.cwd()`. */
  cwd?: string;
}

function looksLikePath(specifier: string): boolean {
  return specifier.startsWith('.') || isAbsolute(specifier) || /\.(m?js|ts)$/.test(specifier);
}

/**
 * Imports a router plugin from a file path (relative to `cwd`) or a package name, checks every strategy
 * it exports and registers them. A module may export a strategy as `default`, as `routerStrategy`, or
 * several as `routerStrategies` (an array). Returns the registered strategies.
 */
export async function loadRouterPlugin(
  specifier: string,
  options: LoadRouterPluginOptions = {},
): Promise<RouterStrategy[]> {
  if (typeof specifier !== 'string' || specifier.trim() === '') {
    throw new Error('loadRouterPlugin: expected a file path or package name.');
  }
  const registry = options.registry ?? defaultRouterRegistry;
  const target = looksLikePath(specifier)
    ? pathToFileURL(resolve(options.cwd ?? process.cwd(), specifier)).href
    : specifier;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(/* @vite-ignore */ target)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why =
      code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNSUPPORTED_DIR_IMPORT'
        ? 'not found (check the path, or npm install the package)'
        : (err as Error).message.split('\n')[0];
    throw new Error(`Cannot load router plugin "${specifier}": ${why}.`, { cause: err });
  }
  const candidates: unknown[] = [];
  if (Array.isArray(mod.routerStrategies)) candidates.push(...mod.routerStrategies);
  if (mod.routerStrategy != null) candidates.push(mod.routerStrategy);
  if (mod.default != null && !candidates.includes(mod.default)) candidates.push(mod.default);
  if (candidates.length === 0) {
    throw new Error(
      `Router plugin "${specifier}" exports no strategy: export it as default, as routerStrategy, or as routerStrategies (an array).`,
    );
  }
  const strategies = candidates.map((c) => checkRouterStrategy(c, `router plugin "${specifier}"`));
  for (const s of strategies) registry.register(s);
  return strategies;
}
