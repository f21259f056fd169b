import { describe, expect, it } from 'vitest';
import { trainBpe } from './train.js';

const CLASSES = ['cat', 'dog', 'bird', 'horse', 'sheep', 'truck', 'airplane', 'ship', 'frog', 'deer'];
const TEMPLATES = [
  (c: string) => `a photo of a ${c}.`,
  (c: string) => `a blurry picture of the ${c}`,
  (c: string) => `a close-up photo of my ${c}`,
  (c: string) => `an origami ${c}, in a bright photo.`,
];

/** Deterministic synthetic captions from templates × classes (~30 distinct words). */
function syntheticCaptions(n: number, seed = 1): string[] {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, () => {
    const template = TEMPLATES[Math.floor(rand() * TEMPLATES.length)];
    return template(CLASSES[Math.floor(rand() * CLASSES.length)]);
  });
}

/** Deterministic pseudo-language: ~6k distinct syllable words with Zipf-like frequencies. */
function pseudoCaptions(n: number, wordsPerCaption = 8): string[] {
  let s = 42;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const onsets = ['', ...'b c d f g h k l m n p r s t v w st tr ph'.split(' ')];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'ou', 'ea', 'y'];
  const codas = ['', '', 'n', 'r', 's', 't', 'ng', 'ck'];
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const syllables = Array.from({ length: 400 }, () => pick(onsets) + pick(vowels) + pick(codas));
  const lexicon = Array.from({ length: 6000 }, () => {
    const k = 1 + Math.floor(rand() * 4);
    return Array.from({ length: k }, () => syllables[Math.floor(rand() * syllables.length)]).join('');
  });
  // Squaring a uniform draw skews towards the front of the lexicon: a few very common words, a long tail.
  const zipfPick = (xs: string[]) => xs[Math.floor(xs.length * rand() ** 2)];
  return Array.from({ length: n }, () =>
    Array.from({ length: wordsPerCaption }, () => zipfPick(lexicon)).join(' '),
  );
}

/** Textbook BPE that recounts every pair each step: slow, obviously right, the oracle for the fast trainer. */
function naiveMerges(corpus: string[], numMerges: number): [string, string][] {
  const counts = new Map<string, number>();
  for (const text of corpus) for (const w of text.split(' ')) counts.set(w, (counts.get(w) ?? 0) + 1);
  let words = [...counts].map(([w, c]) => ({ symbols: [...w.slice(0, -1)].concat(w.slice(-1) + '</w>'), c }));
  const merges: [string, string][] = [];
  while (merges.length < numMerges) {
    const pairs = new Map<string, { l: string; r: string; c: number }>();
    for (const { symbols, c } of words) {
      for (let i = 0; i < symbols.length - 1; i++) {
        const k = `${symbols[i]}\u0001${symbols[i + 1]}`;
        const p = pairs.get(k) ?? { l: symbols[i], r: symbols[i + 1], c: 0 };
        p.c += c;
        pairs.set(k, p);
      }
    }
    let best: { l: string; r: string; c: number } | undefined;
    for (const p of pairs.values()) {
      if (p.c < 2) continue;
      if (!best || p.c > best.c || (p.c === best.c && (p.l < best.l || (p.l === best.l && p.r < best.r))))
        best = p;
    }
    if (best === undefined) break;
    const { l, r } = best;
    merges.push([l, r]);
    words = words.map(({ symbols, c }) => {
      const out: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i < symbols.length - 1 && symbols[i] === l && symbols[i + 1] === r) {
          out.push(l + r);
          i++;
        } else out.push(symbols[i]);
      }
      return { symbols: out, c };
    });
  }
  return merges;
}

/**
 * Process CPU time in ms: the speed checks below guard against super-linear training (minutes, not seconds),
 * and CPU time does not grow when other processes share the machine, as wall time does.
 */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

describe('trainBpe', () => {
  it('learns exactly the merges of a textbook (recount-everything) BPE', () => {
    const corpus = pseudoCaptions(400);
    const fast = trainBpe(corpus, { vocabSize: 500 }).toJSON();
    expect(fast.merges.length).toBeGreaterThan(100);
    expect(fast.merges).toEqual(naiveMerges(corpus, fast.merges.length));
  });

  it('learns whole-word tokens for frequent words', () => {
    const tok = trainBpe(syntheticCaptions(500), { vocabSize: 200 });
    expect(tok.tokenize('a photo of a cat')).toEqual(['a</w>', 'photo</w>', 'of</w>', 'a</w>', 'cat</w>']);
    expect(tok.id('photo</w>')).toBeDefined();
    // "photo" before punctuation is still the same word token (pre-tokens, not whitespace words, get </w>).
    expect(tok.tokenize('photo.')).toEqual(['photo</w>', '.</w>']);
  });

  it('takes the most frequent pair first and breaks ties lexicographically', () => {
    // Word counts: "ab" ×3 → pair (a, b</w>) ×3; "cd" ×3 → (c, d</w>) ×3; "ef" ×2 → (e, f</w>) ×2.
    const tok = trainBpe(['ab ab ab cd cd cd ef ef'], { vocabSize: 100 });
    expect(tok.toJSON().merges).toEqual([
      ['a', 'b</w>'],
      ['c', 'd</w>'],
      ['e', 'f</w>'],
    ]);
  });

  it('respects vocabSize exactly when enough pairs exist, and never exceeds it', () => {
    const corpus = pseudoCaptions(2000);
    for (const vocabSize of [100, 257, 600]) {
      const tok = trainBpe(corpus, { vocabSize });
      expect(tok.vocabSize).toBe(vocabSize);
      expect(tok.toJSON().vocab.length).toBe(vocabSize);
    }
  });

  it('stops early when no pair reaches minFrequency', () => {
    const tok = trainBpe(['xyz'], { vocabSize: 100 });
    expect(tok.numMerges).toBe(0);
    expect(trainBpe(['xyz'], { vocabSize: 100, minFrequency: 1 }).tokenize('xyz')).toEqual(['xyz</w>']);
  });

  it('is deterministic and independent of caption order', () => {
    const corpus = syntheticCaptions(3000);
    const a = trainBpe(corpus, { vocabSize: 150 }).toJSON();
    const b = trainBpe(corpus, { vocabSize: 150 }).toJSON();
    const c = trainBpe([...corpus].reverse(), { vocabSize: 150 }).toJSON();
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(c)).toBe(JSON.stringify(a));
  });

  it('puts specials first (<pad> = 0) and includes every corpus character plus extra alphabet', () => {
    const tok = trainBpe(['héllo wörld'], { vocabSize: 100, alphabet: 'Q' });
    const json = tok.toJSON();
    expect(json.vocab.slice(0, 5)).toEqual(['<pad>', '<sot>', '<eot>', '<unk>', '</w>']);
    for (const ch of 'héllowörldq') expect(json.vocab).toContain(ch);
    expect(json.vocab).toContain('q</w>');
  });

  it('drops rare characters with minCharFrequency', () => {
    const tok = trainBpe(['aaa aaa ab'], { vocabSize: 100, minCharFrequency: 2 });
    expect(tok.id('b')).toBeUndefined();
    expect(tok.tokenize('ab')).toEqual(['a', '<unk>', '</w>']);
  });

  it('throws clear errors for bad options', () => {
    expect(() => trainBpe(['abc'], { vocabSize: 5 })).toThrow(/smaller than the base vocabulary/);
    expect(() => trainBpe(['abc'], { vocabSize: 0 })).toThrow(/vocabSize/);
    expect(() => trainBpe(['abc'], { vocabSize: 100, minFrequency: 0 })).toThrow(/minFrequency/);
    expect(() => trainBpe(['abc'], { vocabSize: 100, contextLength: 1 })).toThrow(/contextLength/);
  });

  it('trains a 2000-token vocab on 20k template captions in < 10 s of CPU time', () => {
    const corpus = syntheticCaptions(20_000);
    const t0 = cpuMs();
    const tok = trainBpe(corpus, { vocabSize: 2000 });
    const ms = cpuMs() - t0;
    console.log(`trainBpe: 20k template captions → ${tok.vocabSize} tokens in ${ms.toFixed(0)} ms CPU`);
    expect(tok.vocabSize).toBeLessThanOrEqual(2000);
    expect(ms).toBeLessThan(10_000);
  });

  it('trains a 4000-token vocab on 50k captions over ~6k distinct words in < 10 s of CPU time', () => {
    const corpus = pseudoCaptions(50_000);
    const t0 = cpuMs();
    const tok = trainBpe(corpus, { vocabSize: 4000 });
    const trainMs = cpuMs() - t0;
    const t1 = cpuMs();
    const batch = tok.encodeBatch(corpus, { contextLength: 32 });
    const encodeMs = cpuMs() - t1;
    console.log(
      `trainBpe: 50k pseudo captions → ${tok.vocabSize} tokens in ${trainMs.toFixed(0)} ms CPU; ` +
        `encodeBatch 50k × 32 in ${encodeMs.toFixed(0)} ms CPU`,
    );
    expect(tok.vocabSize).toBe(4000);
    expect(batch.ids.length).toBe(50_000 * 32);
    expect(trainMs).toBeLessThan(10_000);
  });
});
