import { describe, expect, it } from 'vitest';
import { ConfigReader } from './config_reader.js';

class UsageError extends Error {}

describe('ConfigReader', () => {
  const reader = (values: Record<string, unknown>) =>
    new ConfigReader(values, { prefix: 'models/a.json: ', label: (k) => `model.${k}` });

  it('reads integers, numbers, booleans and words, with fallbacks', () => {
    const r = reader({ depth: 4, rate: 0.5, bias: false, act: 'gelu', name: 'vit' });
    expect(r.int('depth', { min: 1 })).toBe(4);
    expect(r.int('width', { fallback: 8, min: 1 })).toBe(8);
    expect(r.number('rate', { exclusiveMin: 0, max: 1 })).toBe(0.5);
    expect(r.bool('bias', true)).toBe(false);
    expect(r.oneOf('act', ['gelu', 'relu'])).toBe('gelu');
    expect(r.string('name')).toBe('vit');
    expect(r.optionalInt('heads', { min: 1 })).toBeUndefined();
    expect(r.optionalNumber('dropout')).toBeUndefined();
  });

  it('names the file, the key, the rule and the value in every refusal', () => {
    const r = reader({ depth: 0, rate: -1, bias: 'yes', act: 'tanh', k: 9, rate2: Infinity });
    expect(() => r.int('depth', { min: 1 })).toThrow(
      'models/a.json: model.depth must be an integer ≥ 1, got 0.',
    );
    expect(() => r.int('k', { min: 1, max: 8 })).toThrow('model.k must be an integer in [1, 8], got 9.');
    expect(() => r.int('width', { min: 1 })).toThrow(
      'models/a.json: model.width must be an integer ≥ 1 (required), got undefined.',
    );
    expect(() => r.number('rate', { exclusiveMin: 0 })).toThrow(
      'model.rate must be a finite number > 0, got -1.',
    );
    expect(() => r.number('rate2', { min: 0, max: 1 })).toThrow(
      'model.rate2 must be a finite number ≥ 0 and ≤ 1, got Infinity.',
    );
    expect(() => r.bool('bias')).toThrow('model.bias must be true or false, got "yes".');
    expect(() => r.oneOf('act', ['gelu', 'relu'])).toThrow(
      'model.act must be one of gelu, relu, got "tanh".',
    );
    expect(() => r.fail('k', 'odd')).toThrow('models/a.json: model.k must be odd, got 9.');
  });

  it('says "a positive integer", names a missing value as asked and hands the key to the error', () => {
    class FieldError extends Error {
      constructor(
        message: string,
        readonly field?: string,
      ) {
        super(message);
      }
    }
    const r = new ConfigReader(
      { depth: 2.5 },
      {
        prefix: 'a.json: ',
        label: (k) => `field ${k}`,
        missing: 'nothing',
        error: (m, k) => new FieldError(m, k),
      },
    );
    expect(() => r.positiveInt('depth')).toThrow('a.json: field depth must be a positive integer, got 2.5.');
    expect(() => r.positiveInt('dim')).toThrow(
      'field dim must be a positive integer (required), got nothing.',
    );
    expect(r.optionalPositiveInt('heads')).toBeUndefined();
    try {
      r.positiveInt('depth');
    } catch (err) {
      expect((err as FieldError).field).toBe('depth');
    }
  });

  it('refuses unknown keys, listing the known ones', () => {
    const r = new ConfigReader({ kk: 1 }, { prefix: 'router "top-k": ', label: (k) => `option ${k}` });
    expect(() => r.rejectUnknown(['k', 'seed'], 'options')).toThrow(
      'router "top-k": unknown option kk; options are k, seed.',
    );
  });

  it('parses text (flags, environment) only when made for it, and quotes the text in messages', () => {
    const flags = new ConfigReader(
      { '--limit': '-5', '--steps': ' 12 ', '--lr': '3e-4', '--x': '1.5', '--on': 'true' },
      { error: (m) => new UsageError(m), text: true },
    );
    expect(() => flags.int('--limit', { min: 1 })).toThrow(UsageError);
    expect(() => flags.int('--limit', { min: 1 })).toThrow('--limit must be an integer ≥ 1, got "-5".');
    expect(flags.int('--steps', { min: 1 })).toBe(12);
    expect(flags.number('--lr', { exclusiveMin: 0 })).toBe(3e-4);
    expect(() => flags.int('--x')).toThrow('--x must be an integer, got "1.5".');
    expect(flags.bool('--on')).toBe(true);
    expect(() => reader({ depth: '4' }).int('depth', { min: 1 })).toThrow('got "4".');
  });
});
