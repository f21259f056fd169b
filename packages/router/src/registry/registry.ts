import type { Router, RouterOptions, RouterSpec, RouterStrategy } from '../routers/contract.js';
import { BUILTIN_ROUTERS } from '../routers/builtins.js';
import { checkRouterStrategy } from './check_strategy.js';
import { closest } from '@moevl/core';

export interface RouterRegistry {
  /** Adds a strategy; a name that is already taken is an error. */
  register(strategy: RouterStrategy): void;
  has(name: string): boolean;
  /** The strategy by name; an unknown name lists the available ones and suggests the closest. */
  get(name: string): RouterStrategy;
  names(): string[];
  /** Validates the options (messages name the router and the option) and creates a router. */
  create(spec: RouterSpec): Router;
}

export interface CreateRouterRegistryOptions {
  /** Pre-register the built-in strategies. Default true. */
  builtins?: boolean;
}

/** A registry of router strategies, with the built-ins (`top-k`, `expert-choice`, …) pre-registered. */
export function createRouterRegistry(options: CreateRouterRegistryOptions = {}): RouterRegistry {
  const strategies = new Map<string, RouterStrategy>();
  const registry: RouterRegistry = {
    register(strategy) {
      const s = checkRouterStrategy(strategy);
      if (strategies.has(s.name)) {
        throw new Error(
          `Router "${s.name}" is already registered${strategies.get(s.name) === s ? '' : ' by another strategy'}; ` +
            'pick another name for your plugin or use a separate registry.',
        );
      }
      strategies.set(s.name, s);
    },
    has: (name) => strategies.has(name),
    get(name) {
      const s = strategies.get(name);
      if (s != null) return s;
      const names = [...strategies.keys()].sort();
      const guess = closest(name, names);
      throw new Error(
        `Unknown router "${name}".${guess ? ` Did you mean "${guess}"?` : ''} Available: ${names.join(', ')}. ` +
          'A third-party router must be loaded first (loadRouterPlugin).',
      );
    },
    names: () => [...strategies.keys()].sort(),
    create(spec) {
      if (spec == null || typeof spec.name !== 'string') {
        throw new Error('Router spec must be { name, options }, e.g. { name: "top-k", options: { k: 1 } }.');
      }
      const strategy = registry.get(spec.name);
      const validated = strategy.validateOptions({ ...(spec.options ?? {}) });
      return strategy.create(validated as RouterOptions);
    },
  };
  if (options.builtins ?? true) for (const s of BUILTIN_ROUTERS) registry.register(s);
  return registry;
}

/**
 * The registry `MoELayer` uses when it is rebuilt from a config and none was given. Plugins loaded with
 * `loadRouterPlugin` without an explicit registry land here.
 */
export const defaultRouterRegistry: RouterRegistry = createRouterRegistry();
