import { describe, expect, it } from 'vitest';
import { canonicalText, normalizeText, pretokenize } from './normalize.js';

describe('normalizeText', () => {
  it('lowercases, folds apostrophes, collapses whitespace and drops invisible characters', () => {
    expect(normalizeText('  A  Photo\tof\n\nIt’s\u200b  ')).toBe("a photo of it's");
    expect(normalizeText('A Photo', false)).toBe('A Photo');
  });

  it('composes to NFC so decomposed and precomposed accents are the same character', () => {
    expect(normalizeText('cafe\u0301')).toBe('caf\u00e9');
  });
});

describe('pretokenize', () => {
  it('splits letter runs, digit runs, contractions and single punctuation', () => {
    expect(pretokenize("a dog's 3 toys, 12 balls!!")).toEqual([
      'a',
      'dog',
      "'s",
      '3',
      'toys',
      ',',
      '12',
      'balls',
      '!',
      '!',
    ]);
    expect(pretokenize('x2')).toEqual(['x', '2']);
  });

  it("only treats 's as a contraction when no letter follows", () => {
    expect(pretokenize("'start")).toEqual(["'", 'start']);
  });

  it('does not recognise special-token strings in text', () => {
    expect(pretokenize('<eot>')).toEqual(['<', 'eot', '>']);
  });

  it('gives nothing for empty or whitespace-only text', () => {
    expect(pretokenize(normalizeText('   '))).toEqual([]);
  });

  it('canonical text joins pre-tokens with single spaces', () => {
    expect(canonicalText('A cat, sleeping.')).toBe('a cat , sleeping .');
  });
});
