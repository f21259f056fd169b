import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BpeTokenizer } from './bpe_tokenizer.js';
import { CLIP_CONTEXT_LENGTH, ClipTokenizer } from './clip_tokenizer.js';
import { loadTextTokenizer } from './load_tokenizer.js';
import { readShippedTokenizer, shippedTokenizerNames } from './shipped_tokenizers.js';
import type { TextTokenizer } from './text_tokenizer.js';
import { trainBpe } from './train.js';

/**
 * Ids of open_clip's own `SimpleTokenizer` (open_clip_torch 3.3.0, `tok(texts, context_length=77)`), made by
 * scripts/open_clip_reference_ids.py: 40 captions with accents (precomposed and combining), curly quotes,
 * HTML entities, emoji, CJK, Cyrillic, digits, contractions, odd whitespace and two cut at 77 tokens.
 */
const FIXTURE = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../test/fixtures/open_clip_ids.json', import.meta.url)), 'utf8'),
) as { contextLength: number; captions: Array<{ text: string; ids: number[] }> };

const dir = await mkdtemp(join(tmpdir(), 'moevl-clip-tok-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

function rows(tokenizer: TextTokenizer, texts: string[], contextLength = CLIP_CONTEXT_LENGTH) {
  const b = tokenizer.encodeBatch(texts, { contextLength });
  return texts.map((_, r) => Array.from(b.ids.subarray(r * contextLength, (r + 1) * contextLength)));
}

describe('ClipTokenizer', () => {
  const clip = ClipTokenizer.load();

  it('is the shipped CLIP vocabulary: 49,408 tokens, <sot> 49406, <eot> 49407, pad 0, context 77', () => {
    expect(shippedTokenizerNames()).toContain('clip-bpe-16e6');
    expect([clip.vocabSize, clip.sotId, clip.eotId, clip.padId]).toEqual([49408, 49406, 49407, 0]);
    expect(clip.contextLength).toBe(77);
    expect(clip.encode('a photo of a cat.')).toEqual([320, 1125, 539, 320, 2368, 269]);
  });

  it("gives open_clip's ids for 40 captions, truncation included", () => {
    expect(FIXTURE.captions.length).toBe(40);
    const got = rows(
      clip,
      FIXTURE.captions.map((c) => c.text),
    );
    FIXTURE.captions.forEach((c, i) => expect(got[i], JSON.stringify(c.text)).toEqual(c.ids));
    const b = clip.encodeBatch(FIXTURE.captions.map((c) => c.text));
    const cut = FIXTURE.captions.filter((_, i) => b.truncated[i] === 1).map((c) => c.text.slice(0, 30));
    expect(cut).toEqual(['a photo of a very very very ve']);
    // <eot> stays in the last slot of a cut row, where the text tower pools; 75 content tokens just fit.
    const long = FIXTURE.captions.findIndex((c) => c.text.startsWith('a photo of a very'));
    const full = FIXTURE.captions.findIndex((c) => c.text.startsWith('a photo containing exactly'));
    expect([b.eotIndex[long], b.eotIndex[full], b.truncated[full]]).toEqual([76, 76, 0]);
  });

  it('round-trips through the JSON a model file stores (by name and sha256), to identical ids', () => {
    const json = clip.toJSON();
    expect(json).toMatchObject({ type: 'hf-tokenizer', name: 'clip-bpe-16e6', padId: 0, contextLength: 77 });
    expect(json.sha256).toBe(readShippedTokenizer('clip-bpe-16e6').sha256);
    expect(json.tokenizer).toBeUndefined(); // a reference: the file stays small and needs no download
    const back = loadTextTokenizer(JSON.stringify(json));
    const texts = FIXTURE.captions.map((c) => c.text);
    expect(rows(back, texts)).toEqual(rows(clip, texts));
    expect(back.decode(clip.encode('A photo of a Cat.'))).toBe('a photo of a cat.');
  });

  it('refuses a reference to another vocabulary, naming what differs', () => {
    const json = { ...clip.toJSON(), sha256: 'f'.repeat(64) };
    expect(() => loadTextTokenizer(json, 'm.safetensors')).toThrow(
      /ClipTokenizer: m\.safetensors: it was made with a "clip-bpe-16e6" whose sha256 is f{64}, and this installation ships [0-9a-f]{64} .*its ids would differ/,
    );
    expect(() => loadTextTokenizer({ ...clip.toJSON(), name: 'gpt-17' })).toThrow(
      /Unknown shipped tokenizer "gpt-17"; this @moevl\/limoe has clip-bpe-16e6/,
    );
  });

  it("loads a tokenizer.json of one's own (plain or gzipped) and embeds it whole", async () => {
    const text = readShippedTokenizer('clip-bpe-16e6').text;
    const plain = join(dir, 'tokenizer.json');
    await writeFile(plain, text);
    await writeFile(join(dir, 'tokenizer.json.gz'), gzipSync(text));
    for (const path of [plain, join(dir, 'tokenizer.json.gz')]) {
      const own = ClipTokenizer.load(path);
      const json = own.toJSON();
      expect(json.name).toBeUndefined();
      expect(Object.keys(json.tokenizer ?? {})).toContain('model');
      expect(rows(loadTextTokenizer(json), ['a photo of a dog'])).toEqual(rows(clip, ['a photo of a dog']));
    }
    await writeFile(join(dir, 'broken.json'), '{"model": ');
    expect(() => ClipTokenizer.load(join(dir, 'broken.json'))).toThrow(
      /ClipTokenizer: .*broken\.json: cannot read it as a tokenizer\.json/,
    );
    expect(() => ClipTokenizer.load(plain, { sot: '<s>' })).toThrow(
      /the token "<s>" is not in its vocabulary/,
    );
  });

  it("the project's BPE sits behind the same interface and JSON loader", () => {
    const bpe = trainBpe(['a photo of a cat', 'a photo of a dog'], { vocabSize: 64, contextLength: 8 });
    const back = loadTextTokenizer(bpe.toJSON());
    expect(back).toBeInstanceOf(BpeTokenizer);
    expect(rows(back, ['a photo of a cat'], 8)).toEqual(rows(bpe, ['a photo of a cat'], 8));
    expect(() => loadTextTokenizer({ type: 'wordpiece' })).toThrow(/unsupported tokenizer type "wordpiece"/);
  });
});
