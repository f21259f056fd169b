import { ConfigReader } from '@moevl/core';
import { UsageError } from '../errors.js';

/**
 * Number flags arrive as strings from parseArgs; these turn them into numbers or fail with a message
 * naming the flag, the value and the accepted range.
 */

/** A reader of one flag's text, failing with a UsageError: `--limit must be an integer ≥ 1, got "-5".` */
export function flagReader(flag: string, value: string | undefined): ConfigReader {
  return new ConfigReader({ [flag]: value }, { text: true, error: (message) => new UsageError(message) });
}

/** An integer in [min, max]; `undefined` when the flag was not given. */
export function parseIntegerFlag(
  flag: string,
  value: string | undefined,
  { min = 1, max }: { min?: number; max?: number } = {},
): number | undefined {
  return flagReader(flag, value).optionalInt(flag, { min, max });
}

/** A finite number > 0 (learning rates); `undefined` when the flag was not given. */
export function parsePositiveNumberFlag(flag: string, value: string | undefined): number | undefined {
  return flagReader(flag, value).optionalNumber(flag, { exclusiveMin: 0 });
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

/**
 * A size in bytes ≥ 1: an integer, optionally followed by K, M or G (powers of 1024; `KB`, `KiB` mean the
 * same); `undefined` when the flag was not given.
 */
export function parseByteSizeFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)\s*(?:([kmg])(?:i?b)?|b)?$/i.exec(value.trim());
  const n = m ? Number(m[1]) * BYTE_UNITS[(m[2] ?? '').toLowerCase()] : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(
      `${flag} must be a size in bytes ≥ 1, optionally with K, M or G (e.g. 512M), got "${value}".`,
    );
  }
  return n;
}

export interface Shard {
  index: number;
  count: number;
}

/** `--shard i/n`: the i-th of n disjoint parts (0-based), so n machines can each evaluate one. */
export function parseShardFlag(value: string | undefined): Shard | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || count < 1 || index >= count) {
    throw new UsageError(
      `--shard must be "i/n" with 0 ≤ i < n (e.g. --shard 0/4 for the first of 4 shards), got "${value}".`,
    );
  }
  return { index, count };
}

/** One of a fixed set of words. */
export function parseChoiceFlag<T extends string>(
  flag: string,
  value: string | undefined,
  choices: readonly T[],
): T | undefined {
  return value === undefined ? undefined : flagReader(flag, value).oneOf(flag, choices);
}
