import { describeValue } from './describe_value.js';
import { type IntegerRange, integerRule, isIntegerIn } from './integer_checks.js';

/** How a ConfigReader names things in its messages and what it throws. */
export interface ConfigReaderOptions {
  /** Starts every message: `router "top-k": `, `models/a.json: `, `--shard auto: `. */
  prefix?: string;
  /** How a key is named: `option k`, `--limit`, `model.depth`; the key itself by default. */
  label?: (key: string) => string;
  /** The error thrown (a CLI's UsageError, a file's own error naming the field); `Error` by default. */
  error?: (message: string, key?: string) => Error;
  /** How a missing value reads after "got": `undefined` by default, `nothing` suits a JSON file. */
  missing?: string;
  /**
   * Values are text to parse — command-line flags, environment variables: `"8"` reads as the integer 8,
   * `"0.5"` as a number, `"true"`/`"false"` as booleans; messages quote the text as given.
   */
  text?: boolean;
}

/** Bounds of a number option; `exclusiveMin`/`exclusiveMax` for open ends (a rate > 0). */
export interface NumberRange {
  min?: number;
  max?: number;
  exclusiveMin?: number;
  exclusiveMax?: number;
}

function numberRule(r: NumberRange): string {
  const bounds = [
    r.exclusiveMin != null ? `> ${r.exclusiveMin}` : r.min != null ? `≥ ${r.min}` : '',
    r.exclusiveMax != null ? `< ${r.exclusiveMax}` : r.max != null ? `≤ ${r.max}` : '',
  ].filter((b) => b !== '');
  return `a finite number${bounds.length > 0 ? ` ${bounds.join(' and ')}` : ''}`;
}

function inRange(v: number, r: NumberRange): boolean {
  return (
    (r.min == null || v >= r.min) &&
    (r.max == null || v <= r.max) &&
    (r.exclusiveMin == null || v > r.exclusiveMin) &&
    (r.exclusiveMax == null || v < r.exclusiveMax)
  );
}

/**
 * Reads options from a plain record — a layer's args, a parsed config file, a router's options, parsed
 * command-line flags — checking each against a rule, so every refusal has one shape:
 * `<prefix><label> must be <rule>, got <value>.` A missing key takes the fallback; a missing key without
 * one is refused with `(required)` in the rule. Nothing is coerced unless the reader was made for text.
 */
export class ConfigReader {
  readonly prefix: string;
  private readonly label: (key: string) => string;
  private readonly error: (message: string, key?: string) => Error;
  private readonly text: boolean;
  private readonly missing: string;

  constructor(
    readonly values: Readonly<Record<string, unknown>>,
    options: ConfigReaderOptions = {},
  ) {
    this.prefix = options.prefix ?? '';
    this.label = options.label ?? ((key) => key);
    this.error = options.error ?? ((message) => new Error(message));
    this.text = options.text ?? false;
    this.missing = options.missing ?? 'undefined';
  }

  /** Whether the key was given (`undefined` and `null` count as not given). */
  has(key: string): boolean {
    return this.values[key] != null;
  }

  /** Throws `<prefix><label> must be <rule>, got <value>.` — for rules a caller checks itself. */
  fail(key: string, rule: string): never {
    const v = this.values[key];
    const got = v === undefined ? this.missing : describeValue(v);
    throw this.error(`${this.prefix}${this.label(key)} must be ${rule}, got ${got}.`, key);
  }

  /** Throws `<prefix><message>` with the reader's error, for refusals of another shape. */
  refuse(message: string, key?: string): never {
    throw this.error(`${this.prefix}${message}`, key);
  }

  /**
   * Refuses keys outside `known`: `<prefix>unknown <label>; <plural> are a, b, c.` (a misspelt option
   * must not be ignored silently).
   */
  rejectUnknown(known: readonly string[], plural = 'keys'): void {
    const allowed = new Set(known);
    for (const key of Object.keys(this.values)) {
      if (!allowed.has(key)) {
        this.refuse(`unknown ${this.label(key)}; ${plural} are ${[...allowed].join(', ')}.`, key);
      }
    }
  }

  private raw(key: string, fallback: unknown, rule: string): unknown {
    const v = this.values[key] ?? fallback;
    if (v == null) this.fail(key, `${rule} (required)`);
    return v;
  }

  private parsed(v: unknown, integer: boolean): unknown {
    if (!this.text || typeof v !== 'string') return v;
    const s = v.trim();
    if (integer) return /^[-+]?\d+$/.test(s) ? Number(s) : Number.NaN;
    return s === '' ? Number.NaN : Number(s);
  }

  /** An integer in `range` (both ends inclusive): `an integer ≥ 1`, `an integer in [1, 8]`. */
  int(key: string, range: IntegerRange & { fallback?: number } = {}): number {
    const rule = integerRule(range);
    const v = this.parsed(this.raw(key, range.fallback, rule), true);
    if (!isIntegerIn(v, range)) this.fail(key, rule);
    return v;
  }

  /** As `int`, or `undefined` when the key was not given. */
  optionalInt(key: string, range: IntegerRange = {}): number | undefined {
    return this.has(key) ? this.int(key, range) : undefined;
  }

  /** An integer ≥ 1, refused as `must be a positive integer`. */
  positiveInt(key: string, fallback?: number): number {
    const v = this.parsed(this.raw(key, fallback, 'a positive integer'), true);
    if (!isIntegerIn(v, { min: 1 })) this.fail(key, 'a positive integer');
    return v;
  }

  /** As `positiveInt`, or `undefined` when the key was not given. */
  optionalPositiveInt(key: string): number | undefined {
    return this.has(key) ? this.positiveInt(key) : undefined;
  }

  /** A finite number within `range`. */
  number(key: string, range: NumberRange & { fallback?: number } = {}): number {
    const rule = numberRule(range);
    const v = this.parsed(this.raw(key, range.fallback, rule), false);
    if (typeof v !== 'number' || !Number.isFinite(v) || !inRange(v, range)) this.fail(key, rule);
    return v;
  }

  /** As `number`, or `undefined` when the key was not given. */
  optionalNumber(key: string, range: NumberRange = {}): number | undefined {
    return this.has(key) ? this.number(key, range) : undefined;
  }

  /** `true` or `false` (from text: the words `true` and `false`). */
  bool(key: string, fallback?: boolean): boolean {
    let v = this.raw(key, fallback, 'true or false');
    if (this.text && (v === 'true' || v === 'false')) v = v === 'true';
    if (typeof v !== 'boolean') this.fail(key, 'true or false');
    return v;
  }

  /** One of a fixed set of words. */
  oneOf<T extends string>(key: string, values: readonly T[], fallback?: T): T {
    const rule = `one of ${values.join(', ')}`;
    const v = this.raw(key, fallback, rule);
    if (typeof v !== 'string' || !values.includes(v as T)) this.fail(key, rule);
    return v as T;
  }

  /** A non-empty string. */
  string(key: string, fallback?: string): string {
    const v = this.raw(key, fallback, 'a non-empty string');
    if (typeof v !== 'string' || v === '') this.fail(key, 'a non-empty string');
    return v;
  }
}
