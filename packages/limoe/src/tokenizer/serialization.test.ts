import { describe, expect, it } from 'vitest';
import { BpeTokenizer } from './bpe_tokenizer.js';
import type { BpeTokenizerJSON } from './serialization.js';
import { trainBpe } from './train.js';

const corpus = Array.from(
  { length: 30 },
  (_, i) => `a photo of a ${['cat', 'dog', 'bird'][i % 3]}, number ${i}`,
);
const tok = trainBpe(corpus, { vocabSize: 200, contextLength: 12 });
const probe = ['a photo of a cat', 'A blurry photo of a DOG!', 'zebra 123', 'ünïcödé 🙂', ''];

const mutate = (f: (j: BpeTokenizerJSON) => void): BpeTokenizerJSON => {
  const j = structuredClone(tok.toJSON());
  f(j);
  return j;
};

describe('toJSON / fromJSON', () => {
  it('round-trips to identical JSON and identical encodings (object and string form)', () => {
    const json = tok.toJSON();
    expect(json.type).toBe('bpe');
    expect(json.version).toBe(1);
    expect(json.contextLength).toBe(12);
    for (const restored of [BpeTokenizer.fromJSON(json), BpeTokenizer.fromJSON(JSON.stringify(json))]) {
      expect(restored.toJSON()).toEqual(json);
      for (const text of probe) expect(restored.encode(text)).toEqual(tok.encode(text));
      const a = tok.encodeBatch(probe);
      const b = restored.encodeBatch(probe);
      expect(b.ids).toEqual(a.ids);
      expect(b.mask).toEqual(a.mask);
    }
  });

  it('is JSON-only and compact', () => {
    const text = JSON.stringify(tok.toJSON());
    expect(JSON.parse(text)).toEqual(tok.toJSON());
    expect(text.length).toBeLessThan(6000);
  });

  it('returns copies, so mutating the JSON does not change the tokenizer', () => {
    const before = tok.encode('a photo');
    const json = tok.toJSON();
    json.merges.length = 0;
    json.vocab[5] = 'x';
    expect(tok.encode('a photo')).toEqual(before);
  });
});

describe('validation', () => {
  const cases: [string, unknown, RegExp][] = [
    ['non-object', 42, /expected an object/],
    [
      'wrong type',
      mutate((j) => ((j as { type: string }).type = 'wordpiece')),
      /unsupported tokenizer type "wordpiece"/,
    ],
    [
      'wrong version',
      mutate((j) => ((j as { version: number }).version = 2)),
      /unsupported version 2, expected 1/,
    ],
    ['missing lowercase', mutate((j) => delete (j as Partial<BpeTokenizerJSON>).lowercase), /lowercase/],
    [
      'duplicate vocab',
      mutate((j) => (j.vocab[10] = j.vocab[9])),
      /duplicate vocab entry .* at ids 9 and 10/,
    ],
    ['empty token', mutate((j) => (j.vocab[10] = '')), /vocab\[10\]/],
    [
      'merge with unknown token',
      mutate((j) => j.merges.push(['qq', 'a'])),
      /merges\[\d+\] references unknown token "qq"/,
    ],
    [
      'merge result missing',
      mutate((j) => j.merges.push(['a</w>', 'a'])),
      /produces "a<\/w>a", which is not in the vocab/,
    ],
    ['merge of a special', mutate((j) => j.merges.push(['<unk>', '</w>'])), /reserved token "<unk>"/],
    ['duplicate merge', mutate((j) => j.merges.push(j.merges[0])), /is a duplicate/],
    ['malformed merge', mutate((j) => (j.merges as unknown[]).push(['a'])), /\[left, right\] pair/],
    ['pad not id 0', mutate((j) => ([j.vocab[0], j.vocab[1]] = [j.vocab[1], j.vocab[0]])), /must have id 0/],
    ['special missing', mutate((j) => (j.specialTokens.unk = '<nope>')), /unk="<nope>" is not in the vocab/],
    ['no </w>', mutate((j) => (j.vocab[4] = '<eow>')), /end-of-word token/],
    ['bad contextLength', mutate((j) => (j.contextLength = 1)), /contextLength must be an integer ≥ 2/],
  ];
  it.each(cases)('rejects %s', (_name, json, message) => {
    expect(() => BpeTokenizer.fromJSON(json)).toThrow(message);
    expect(() => BpeTokenizer.fromJSON(json)).toThrow(/^BpeTokenizer\.fromJSON: /);
  });

  it('rejects invalid JSON text', () => {
    expect(() => BpeTokenizer.fromJSON('{not json')).toThrow(SyntaxError);
  });
});
