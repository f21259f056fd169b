import { closest } from '@moevl/core';
import { type RouterSpec, defaultRouterRegistry } from '@moevl/router';
import { UsageError } from '../errors.js';

/**
 * `--router-option key=value` (repeatable) → an options object. A value that reads as JSON (numbers,
 * true/false, null, lists) is that; anything else is a string.
 */
export function parseRouterOptions(values: readonly string[]): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const item of values) {
    const m = /^([A-Za-z_][\w-]*)=(.*)$/s.exec(item);
    if (!m) {
      throw new UsageError(
        `--router-option must be key=value (e.g. --router-option capacityFactor=2), got "${item}".`,
      );
    }
    let value: unknown = m[2];
    try {
      value = JSON.parse(m[2]);
    } catch {
      // a plain word: keep the string
    }
    options[m[1]] = value;
  }
  return options;
}

/**
 * The router a training run uses: the model config's, with `--router NAME` replacing the strategy and
 * `--router-option`s on top (over the config's own options when the strategy stays the same). Checked
 * against the router registry — built-ins plus what `--router-plugin` loaded — before any work: an unknown
 * strategy gets "did you mean" and the --router-plugin flag, an option the strategy does not take is named.
 */
export function routerFromFlags(
  name: string | undefined,
  options: Record<string, unknown>,
  configured: RouterSpec | undefined,
  shape: { dim: number; numExperts: number | undefined; model: string },
): RouterSpec | undefined {
  if (name === undefined && Object.keys(options).length === 0) return undefined;
  if (shape.numExperts === undefined) {
    throw new UsageError(
      `${name !== undefined ? '--router' : '--router-option'} needs a model with MoE layers; ${shape.model} is dense (its config has moe: null).`,
    );
  }
  const strategy = name ?? configured?.name ?? 'top-k';
  if (!defaultRouterRegistry.has(strategy)) {
    const names = defaultRouterRegistry.names();
    const guess = closest(strategy, names);
    throw new UsageError(
      `--router ${strategy}: no such router strategy${guess ? ` (did you mean "${guess}"?)` : ''}; available: ` +
        `${names.join(', ')}. A router of your own is loaded with --router-plugin FILE|PACKAGE ("zero-shot routers --router-plugin FILE" lists it).`,
    );
  }
  const merged = strategy === configured?.name ? { ...configured.options, ...options } : { ...options };
  try {
    defaultRouterRegistry
      .get(strategy)
      .validateOptions({ ...merged, inputDim: shape.dim, numExperts: shape.numExperts });
  } catch (err) {
    throw new UsageError(`--router-option: ${(err as Error).message}`);
  }
  return { name: strategy, options: merged };
}
