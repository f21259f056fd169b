import type { RouterStrategy } from '../routers/contract.js';

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Checks that a value is a v1 `RouterStrategy` before it is registered, so a broken plugin fails at
 * load time with a message naming the plugin and the problem, not later inside a training step.
 */
export function checkRouterStrategy(value: unknown, source = 'router plugin'): RouterStrategy {
  const fail = (problem: string): never => {
    throw new Error(
      `${source}: ${problem}. A router plugin exports { specificationVersion: 'v1', name, validateOptions, create }.`,
    );
  };
  if (value == null || typeof value !== 'object')
    fail(`expected an object, got ${value === null ? 'null' : typeof value}`);
  const s = value as Partial<RouterStrategy> & Record<string, unknown>;
  const label = typeof s.name === 'string' ? `"${s.name}"` : '(unnamed)';
  if (s.specificationVersion !== 'v1') {
    fail(
      `strategy ${label} has specificationVersion ${JSON.stringify(s.specificationVersion)}; this version of @moevl/router supports 'v1'`,
    );
  }
  if (typeof s.name !== 'string' || !NAME.test(s.name)) {
    fail(`name must be lowercase words joined by dashes (e.g. "my-router"), got ${JSON.stringify(s.name)}`);
  }
  if (typeof s.validateOptions !== 'function') fail(`strategy ${label} is missing validateOptions(options)`);
  if (typeof s.create !== 'function') fail(`strategy ${label} is missing create(options)`);
  if (s.version != null && typeof s.version !== 'string') fail(`strategy ${label}: version must be a string`);
  return s as RouterStrategy;
}
