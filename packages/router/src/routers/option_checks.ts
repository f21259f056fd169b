/**
 * Option validation shared by the built-in strategies, so every message has the same shape:
 * `router "<name>": option <key> must be <rule>, got <value>`.
 */
export class OptionReader {
  constructor(
    private readonly router: string,
    private readonly options: Record<string, unknown>,
    known: readonly string[],
  ) {
    const allowed = new Set(['inputDim', 'numExperts', 'seed', ...known]);
    for (const key of Object.keys(options)) {
      if (!allowed.has(key)) {
        throw new Error(`router "${router}": unknown option ${key}; options are ${[...allowed].join(', ')}.`);
      }
    }
  }

  private fail(key: string, rule: string): never {
    throw new Error(
      `router "${this.router}": option ${key} must be ${rule}, got ${JSON.stringify(this.options[key])}.`,
    );
  }

  int(key: string, fallback: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.options[key] ?? fallback;
    const range = `an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}]`;
    if (v === undefined) this.fail(key, `${range} (required)`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(key, range);
    return v;
  }

  number(key: string, fallback: number, rule: { min?: number; exclusiveMin?: number } = {}): number {
    const v = this.options[key] ?? fallback;
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (rule.min == null || v >= rule.min) &&
      (rule.exclusiveMin == null || v > rule.exclusiveMin);
    if (!ok) {
      const bound =
        rule.exclusiveMin != null ? ` > ${rule.exclusiveMin}` : rule.min != null ? ` ≥ ${rule.min}` : '';
      this.fail(key, `a finite number${bound}`);
    }
    return v as number;
  }

  optionalNumber(key: string, rule: { min?: number } = {}): number | undefined {
    if (this.options[key] == null) return undefined;
    return this.number(key, 0, rule);
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.options[key] ?? fallback;
    if (typeof v !== 'boolean') this.fail(key, 'true or false');
    return v as boolean;
  }

  oneOf<T extends string>(key: string, fallback: T, values: readonly T[]): T {
    const v = this.options[key] ?? fallback;
    if (typeof v !== 'string' || !values.includes(v as T)) this.fail(key, `one of ${values.join(', ')}`);
    return v as T;
  }

  /** The options every router shares: inputDim, numExperts (≥ 1), seed. */
  common(): { inputDim: number; numExperts: number; seed: number } {
    return {
      inputDim: this.int('inputDim', undefined, 1),
      numExperts: this.int('numExperts', undefined, 1),
      seed: this.int('seed', 0, 0),
    };
  }
}
