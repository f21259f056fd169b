import { ConfigReader } from '@moevl/core';

/**
 * Option validation shared by the built-in strategies and plugins: core's ConfigReader with the router's
 * name in front, so every message has the same shape:
 * `router "<name>": option <key> must be <rule>, got <value>.` Unknown options are refused on construction.
 * `config` is the ConfigReader itself, for rules this class has no method for (`config.fail(key, rule)`).
 */
export class OptionReader {
  readonly config: ConfigReader;

  constructor(router: string, options: Record<string, unknown>, known: readonly string[]) {
    this.config = new ConfigReader(options, {
      prefix: `router "${router}": `,
      label: (key) => `option ${key}`,
    });
    this.config.rejectUnknown(['inputDim', 'numExperts', 'seed', ...known], 'options');
  }

  /** An integer in [min, max]; required when `fallback` is undefined. */
  int(key: string, fallback: number | undefined, min: number, max?: number): number {
    return this.config.int(key, { fallback, min, max });
  }

  number(key: string, fallback: number, rule: { min?: number; exclusiveMin?: number } = {}): number {
    return this.config.number(key, { ...rule, fallback });
  }

  optionalNumber(key: string, rule: { min?: number } = {}): number | undefined {
    return this.config.optionalNumber(key, rule);
  }

  bool(key: string, fallback: boolean): boolean {
    return this.config.bool(key, fallback);
  }

  oneOf<T extends string>(key: string, fallback: T, values: readonly T[]): T {
    return this.config.oneOf(key, values, fallback);
  }

  /** Throws `router "<name>": option <key> must be <rule>, got <value>.` */
  fail(key: string, rule: string): never {
    return this.config.fail(key, rule);
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
