import { describe, expect, it } from 'vitest';
import { describeValue } from './describe_value.js';
import {
  assertIndex,
  assertInteger,
  assertNonNegativeInteger,
  assertPositiveInteger,
  integerRule,
  isIntegerIn,
} from './integer_checks.js';

describe('integer checks', () => {
  it('name the value, the rule and what was given', () => {
    expect(() => assertPositiveInteger('Dense d1: units', 0)).toThrow(
      'Dense d1: units must be a positive integer, got 0.',
    );
    expect(() => assertNonNegativeInteger('Rng.permutation: n', -1)).toThrow(
      'Rng.permutation: n must be a non-negative integer, got -1.',
    );
    expect(() => assertInteger('topK: k', 9, { min: 1, max: 8, note: 'the last dimension' })).toThrow(
      'topK: k must be an integer in [1, 8] (the last dimension), got 9.',
    );
    expect(() => assertIndex('head: task', 3, 3, 'numTasks')).toThrow(
      'head: task must be an integer in [0, 3) (numTasks), got 3.',
    );
  });

  it('refuse what is not an integer, without coercing', () => {
    for (const bad of [1.5, NaN, Infinity, '3', null, undefined, 2 ** 53, [1]]) {
      expect(() => assertPositiveInteger('x', bad)).toThrow(/x must be a positive integer, got /);
    }
    expect(() => assertPositiveInteger('x', '3')).toThrow('got "3".');
    expect(() => assertPositiveInteger('x', NaN)).toThrow('got NaN.');
  });

  it('accept integers in range and throw the error asked for', () => {
    expect(() => assertPositiveInteger('x', 1)).not.toThrow();
    expect(() => assertNonNegativeInteger('x', 0)).not.toThrow();
    expect(() => assertInteger('x', -4, { max: -4 })).not.toThrow();
    expect(() => assertPositiveInteger('x', 0, (m) => new RangeError(m))).toThrow(RangeError);
    expect(isIntegerIn(3, { min: 1, max: 3 })).toBe(true);
    expect(isIntegerIn(4, { min: 1, max: 3 })).toBe(false);
  });

  it('state ranges one way', () => {
    expect(integerRule({ min: 1 })).toBe('an integer ≥ 1');
    expect(integerRule({ min: 1, max: 8 })).toBe('an integer in [1, 8]');
    expect(integerRule({ max: 3 })).toBe('an integer ≤ 3');
    expect(integerRule()).toBe('an integer');
  });

  it('show values as they were given', () => {
    expect(describeValue(-0)).toBe('-0');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(describeValue('x'.repeat(200))).toHaveLength(80);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeValue(cyclic)).toBe('[object Object]');
  });
});
