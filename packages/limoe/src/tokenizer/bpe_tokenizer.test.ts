import { describe, expect, it } from 'vitest';
import { BpeTokenizer } from './bpe_tokenizer.js';
import { trainBpe } from './train.js';

const CORPUS = [
  'a photo of a cat.',
  'a photo of a dog',
  'a blurry photo of the cat',
  'a picture of a small dog!',
  "the dog's photo",
  'two cats and 12 dogs',
];
const corpus = Array.from({ length: 20 }, () => CORPUS).flat();
const tok = trainBpe(corpus, { vocabSize: 300, contextLength: 8 });

describe('BpeTokenizer.encode / decode', () => {
  it('round-trips seen text to its canonical normalised form', () => {
    for (const text of CORPUS) {
      expect(tok.decode(tok.encode(text))).toBe(tok.normalize(text));
    }
    expect(tok.decode(tok.encode('A Photo OF a DOG.'))).toBe('a photo of a dog .');
  });

  it('round-trips unseen words made of seen characters (split into smaller pieces)', () => {
    const text = 'a cold lab scene';
    const pieces = tok.tokenize(text);
    expect(pieces.length).toBeGreaterThan(4);
    expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it('encodes unseen characters as <unk> and keeps word boundaries', () => {
    const ids = tok.encode('a zebra');
    expect(ids).toContain(tok.unkId);
    expect(tok.decode(ids)).toBe('a <unk>ebra');
    // Unknown last character: a standalone </w> keeps the space.
    expect(tok.tokenize('catz dog')).toEqual(['cat', '<unk>', '</w>', 'dog</w>']);
    expect(tok.decode(tok.encode('catz dog'))).toBe('cat<unk> dog');
    expect(tok.decode(tok.encode('🙂 dog'))).toBe('<unk> dog');
    expect(tok.encode('🙂')).toEqual([tok.unkId, tok.endOfWordId]);
  });

  it('treats special-token strings in text as plain text', () => {
    expect(tok.encode('<eot>')).not.toContain(tok.eotId);
  });

  it('gives no ids for empty text and decode skips pad/sot/eot', () => {
    expect(tok.encode('')).toEqual([]);
    expect(tok.encode(' \n ')).toEqual([]);
    const ids = tok.encode('a cat');
    expect(tok.decode([tok.sotId, ...ids, tok.eotId, tok.padId, tok.padId])).toBe('a cat');
    expect(() => tok.decode([tok.vocabSize])).toThrow(/outside the vocabulary/);
    expect(() => tok.decode([-1])).toThrow(/outside the vocabulary/);
  });

  it('gives the same ids with and without the word cache', () => {
    const uncached = BpeTokenizer.fromJSON(tok.toJSON(), { cacheSize: 0 });
    const tiny = BpeTokenizer.fromJSON(tok.toJSON(), { cacheSize: 2 });
    for (const text of [...CORPUS, 'a cold lab scene', ...CORPUS]) {
      expect(uncached.encode(text)).toEqual(tok.encode(text));
      expect(tiny.encode(text)).toEqual(tok.encode(text));
    }
  });

  it('exposes token ↔ id lookups', () => {
    expect(tok.token(0)).toBe('<pad>');
    expect(tok.padId).toBe(0);
    expect(tok.id('<eot>')).toBe(tok.eotId);
    expect(tok.id('not a token')).toBeUndefined();
  });
});

describe('BpeTokenizer.encodeBatch', () => {
  it('lays out <sot> … <eot> <pad>… with mask, lengths and eotIndex', () => {
    const texts = ['a cat', 'a photo of a dog'];
    const b = tok.encodeBatch(texts);
    expect(b.contextLength).toBe(8);
    expect(b.ids.length).toBe(16);
    const row0 = tok.encode(texts[0]);
    expect(Array.from(b.ids.slice(0, 8))).toEqual([
      tok.sotId,
      ...row0,
      tok.eotId,
      ...new Array(6 - row0.length).fill(0),
    ]);
    expect(b.eotIndex[0]).toBe(row0.length + 1);
    expect(b.lengths[0]).toBe(row0.length + 2);
    expect(Array.from(b.mask.slice(0, 8))).toEqual(
      Array.from({ length: 8 }, (_, j) => (j < row0.length + 2 ? 1 : 0)),
    );
    for (let r = 0; r < 2; r++) expect(b.ids[r * 8 + b.eotIndex[r]]).toBe(tok.eotId);
  });

  it('truncates with <eot> kept at the last position', () => {
    const long = 'a photo of a dog and a photo of a cat and a blurry photo';
    const b = tok.encodeBatch([long], { contextLength: 6 });
    const ids = tok.encode(long);
    expect(Array.from(b.ids)).toEqual([tok.sotId, ...ids.slice(0, 4), tok.eotId]);
    expect(b.eotIndex[0]).toBe(5);
    expect(b.truncated[0]).toBe(1);
    expect(Array.from(b.mask)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('needs a context length from the call or the tokenizer', () => {
    const noDefault = trainBpe(corpus, { vocabSize: 300 });
    expect(() => noDefault.encodeBatch(['a cat'])).toThrow(/contextLength/);
    expect(noDefault.encodeBatch(['a cat'], { contextLength: 4 }).ids.length).toBe(4);
  });
});
