import { AutoTokenizer, env } from '@huggingface/transformers';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipMaxLength, tokenizeForClip } from './clip_tokenize.js';
import { FIXTURE_DIR } from './tiny_clip.test.helpers.js';

describe('tokenizeForClip with the fixture tokenizer', () => {
  let tok: PreTrainedTokenizer;
  let bos: number;
  let eos: number;
  beforeAll(async () => {
    const saved = env.allowRemoteModels;
    env.allowRemoteModels = false;
    tok = await AutoTokenizer.from_pretrained(FIXTURE_DIR);
    env.allowRemoteModels = saved;
    bos = tok.convert_tokens_to_ids('<|startoftext|>');
    eos = tok.eos_token_id;
  });

  it('is a CLIP-style BPE: lowercased, one token per known word, byte symbols otherwise', () => {
    const word = (w: string) => tok.convert_tokens_to_ids(`${w}</w>`);
    const { input_ids } = tok(['A Photo of  RED.', 'xyz'], { return_tensor: false }) as {
      input_ids: number[][];
    };
    expect(input_ids[0]).toEqual([bos, word('a'), word('photo'), word('of'), word('red'), word('.'), eos]);
    expect(input_ids[1]).toEqual([
      bos,
      tok.convert_tokens_to_ids('x'),
      tok.convert_tokens_to_ids('y'),
      word('z'),
      eos,
    ]);
    expect(eos).toBe(tok.pad_token_id); // CLIP pads with <|endoftext|>
  });

  it('pads to the longest text with the pad token and masks the padding', () => {
    const t = tokenizeForClip(tok, ['red', 'a photo of red'], 16);
    expect([t.batch, t.length]).toEqual([2, 6]);
    expect(Array.from(t.attentionMask, Number)).toEqual([1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect(Number(t.inputIds[3])).toBe(tok.pad_token_id);
    expect(Number(t.inputIds[2])).toBe(eos);
  });

  it('truncates the content and keeps <|endoftext|> last (open_clip / HF Python behaviour)', () => {
    const t = tokenizeForClip(tok, [Array(30).fill('blue').join(' ')], 16);
    const ids = Array.from(t.inputIds, Number);
    expect(ids).toHaveLength(16);
    expect(ids[0]).toBe(bos);
    expect(ids[15]).toBe(eos);
    expect(new Set(ids.slice(1, 15))).toEqual(new Set([tok.convert_tokens_to_ids('blue</w>')]));
    // transformers.js's own truncation cuts the end token off: the reason this function exists.
    const theirs = tok([Array(30).fill('blue').join(' ')], {
      truncation: true,
      padding: true,
      return_tensor: false,
    });
    expect((theirs.input_ids as number[][])[0].at(-1)).not.toBe(eos);
  });

  it('takes the max length from the tokenizer, capped by the position table', () => {
    expect(clipMaxLength(tok, { text_config: { max_position_embeddings: 16 } })).toBe(16);
    expect(clipMaxLength(tok, { text_config: { max_position_embeddings: 8 } })).toBe(8);
    expect(clipMaxLength(tok, {})).toBe(16);
    expect(() => tokenizeForClip(tok, ['red'], 1)).toThrow(/maxLength/);
  });
});
