import { describeValue } from './describe_value.js';

/**
 * The integer checks every layer, config and op makes, with one message shape:
 * `<name> must be <rule>, got <value>.` — `name` says whose value it is (`Dense d1: units`,
 * `LIMoE config: depth`), the rule states the accepted range, the value is shown as given.
 */

/** Inclusive bounds; `note` says where a bound comes from, e.g. `the number of experts`. */
export interface IntegerRange {
  min?: number;
  max?: number;
  note?: string;
}

/**
 * The rule text of an integer range: `an integer ≥ 1`, `an integer in [1, 8]`, `an integer ≤ 3`, or
 * `an integer`; ConfigReader and the assert helpers share it so every message states a range the same way.
 */
export function integerRule({ min, max, note }: IntegerRange = {}): string {
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  const range =
    lo > -Infinity && hi < Infinity
      ? `an integer in [${lo}, ${hi}]`
      : lo > -Infinity
        ? `an integer ≥ ${lo}`
        : hi < Infinity
          ? `an integer ≤ ${hi}`
          : 'an integer';
  return note ? `${range} (${note})` : range;
}

/** Whether `value` is a safe integer within `range` (no coercion: `'3'` is not an integer). */
export function isIntegerIn(
  value: unknown,
  { min = -Infinity, max = Infinity }: IntegerRange = {},
): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/** Builds the thrown error; `RangeError` or a package's own error class where callers expect one. */
export type MakeError = (message: string) => Error;

const plainError: MakeError = (message) => new Error(message);

function check(name: string, value: unknown, range: IntegerRange, rule: string, error: MakeError): void {
  if (!isIntegerIn(value, range)) throw error(`${name} must be ${rule}, got ${describeValue(value)}.`);
}

/** Throws `<name> must be an integer in [min, max] (note), got <value>.` unless value is one. */
export function assertInteger(
  name: string,
  value: unknown,
  range: IntegerRange = {},
  error: MakeError = plainError,
): asserts value is number {
  check(name, value, range, integerRule(range), error);
}

/** Throws `<name> must be a positive integer, got <value>.` unless value is an integer ≥ 1. */
export function assertPositiveInteger(
  name: string,
  value: unknown,
  error: MakeError = plainError,
): asserts value is number {
  check(name, value, { min: 1 }, 'a positive integer', error);
}

/** Throws `<name> must be a non-negative integer, got <value>.` unless value is an integer ≥ 0. */
export function assertNonNegativeInteger(
  name: string,
  value: unknown,
  error: MakeError = plainError,
): asserts value is number {
  check(name, value, { min: 0 }, 'a non-negative integer', error);
}

/** An index into `count` things: an integer in [0, count), e.g. `task must be an integer in [0, 3)`. */
export function assertIndex(
  name: string,
  value: unknown,
  count: number,
  note?: string,
  error: MakeError = plainError,
): asserts value is number {
  const rule = `an integer in [0, ${count})${note ? ` (${note})` : ''}`;
  check(name, value, { min: 0, max: count - 1 }, rule, error);
}
