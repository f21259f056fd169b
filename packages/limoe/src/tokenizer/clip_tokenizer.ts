import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describeValue, integerRule, isIntegerIn } from '@moevl/core';
import { Tokenizer } from '@huggingface/tokenizers';
import { layoutBatch, type EncodedBatch } from './batch.js';
import type { EncodeBatchOptions } from './bpe_tokenizer.js';
import { CLIP_BPE_TOKENIZER, readShippedTokenizer } from './shipped_tokenizers.js';
import type { HfTokenizerRef, TextTokenizer } from './text_tokenizer.js';

/** CLIP's context length (OpenAI CLIP and open_clip: 77 tokens, `<sot>` and `<eot>` included). */
export const CLIP_CONTEXT_LENGTH = 77;

export interface ClipTokenizerOptions {
  /** Start / end token strings. Default CLIP's `<|startoftext|>`, `<|endoftext|>`. */
  sot?: string;
  eot?: string;
  /** Id written after `<eot>`. Default 0, as open_clip pads (the mask hides it from the model). */
  padId?: number;
  /** Default context of `encodeBatch`. Default 77. */
  contextLength?: number;
}

/** Parsed Hugging Face tokenizers, by shipped name: building one from 49k merges takes ~0.3 s. */
const parsed = new Map<string, Tokenizer>();

function fail(what: string, problem: string): never {
  throw new Error(`ClipTokenizer: ${what}: ${problem}`);
}

/**
 * CLIP's byte-level BPE through Hugging Face's tokenizers (`@huggingface/tokenizers`, pure JS), loaded from
 * a `tokenizer.json`: by default the one shipped in this package (`clip-bpe-16e6`, the OpenAI / open_clip
 * vocabulary), whose ids equal open_clip's `SimpleTokenizer` (tested on 40 captions with accents, quotes,
 * HTML entities, emoji, CJK and truncation). Rows are laid out as open_clip lays them: `<sot> … <eot>`, 0
 * after, a caption longer than the context cut with `<eot>` kept in the last slot.
 *
 * Known difference from open_clip: `ftfy.fix_text` repairs mojibake ("cafÃ©" → "café") and a few rarer
 * things (ligatures, full-width letters) that the tokenizer.json normalizer does not; quotes, HTML
 * entities, NFC, whitespace and lowercase are handled alike.
 */
export class ClipTokenizer implements TextTokenizer {
  readonly sotId: number;
  readonly eotId: number;
  readonly padId: number;
  readonly vocabSize: number;
  readonly contextLength: number | undefined;

  private constructor(
    private readonly hf: Tokenizer,
    private readonly ref: HfTokenizerRef,
    what: string,
  ) {
    const id = (token: string) => {
      const v = hf.token_to_id(token);
      if (v === undefined) fail(what, `the token ${JSON.stringify(token)} is not in its vocabulary.`);
      return v;
    };
    this.sotId = id(ref.sot);
    this.eotId = id(ref.eot);
    this.vocabSize = hf.get_vocab(true).size;
    if (!isIntegerIn(ref.padId, { min: 0, max: this.vocabSize - 1 })) {
      fail(what, `padId ${JSON.stringify(ref.padId)} is outside the vocabulary [0, ${this.vocabSize}).`);
    }
    this.padId = ref.padId;
    this.contextLength = ref.contextLength;
  }

  /**
   * A shipped tokenizer by name (default `clip-bpe-16e6`), or a `tokenizer.json` / `tokenizer.json.gz`
   * file of your own, which a model file then embeds.
   */
  static load(source: string = CLIP_BPE_TOKENIZER, options: ClipTokenizerOptions = {}): ClipTokenizer {
    const base = {
      type: 'hf-tokenizer' as const,
      version: 1 as const,
      sot: options.sot ?? '<|startoftext|>',
      eot: options.eot ?? '<|endoftext|>',
      padId: options.padId ?? 0,
      contextLength: options.contextLength ?? CLIP_CONTEXT_LENGTH,
    };
    if (!/[\\/]|\.json(\.gz)?$/i.test(source)) {
      const shipped = readShippedTokenizer(source);
      return ClipTokenizer.fromJSON({ ...base, name: source, sha256: shipped.sha256 });
    }
    const path = resolve(source);
    let tokenizer: Record<string, unknown>;
    try {
      const raw = readFileSync(path);
      tokenizer = JSON.parse((path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
    } catch (err) {
      fail(path, `cannot read it as a tokenizer.json (${(err as Error).message}).`);
    }
    return ClipTokenizer.fromJSON({ ...base, tokenizer }, path);
  }

  /** Rebuilds from `toJSON()` (as a model file stores it); a shipped tokenizer must match its sha256. */
  static fromJSON(ref: HfTokenizerRef, what = 'the stored tokenizer'): ClipTokenizer {
    if (ref?.type !== 'hf-tokenizer' || ref.version !== 1) {
      fail(what, `expected {type: "hf-tokenizer", version: 1}, got ${JSON.stringify(ref?.type)}.`);
    }
    if (typeof ref.sot !== 'string' || typeof ref.eot !== 'string') {
      fail(what, 'sot and eot must be token strings.');
    }
    if (ref.contextLength !== undefined && !isIntegerIn(ref.contextLength, { min: 2 })) {
      fail(
        what,
        `contextLength must be ${integerRule({ min: 2 })}, got ${describeValue(ref.contextLength)}.`,
      );
    }
    let hf: Tokenizer;
    if (typeof ref.name === 'string') {
      if (ref.tokenizer !== undefined) fail(what, 'give either name or tokenizer, not both.');
      const shipped = readShippedTokenizer(ref.name);
      if (ref.sha256 !== shipped.sha256) {
        fail(
          what,
          `it was made with a "${ref.name}" whose sha256 is ${String(ref.sha256)}, and this installation ships ` +
            `${shipped.sha256} (${shipped.path}); its ids would differ.`,
        );
      }
      hf = parsed.get(ref.name) ?? new Tokenizer(JSON.parse(shipped.text), {});
      parsed.set(ref.name, hf);
    } else if (ref.tokenizer !== null && typeof ref.tokenizer === 'object') {
      try {
        hf = new Tokenizer(ref.tokenizer, {});
      } catch (err) {
        fail(
          what,
          `it is not a tokenizer.json Hugging Face's tokenizers can read (${(err as Error).message}).`,
        );
      }
    } else {
      fail(what, 'it names no shipped tokenizer and embeds none.');
    }
    return new ClipTokenizer(hf, { ...ref }, what);
  }

  toJSON(): HfTokenizerRef {
    return structuredClone(this.ref);
  }

  encode(text: string): number[] {
    return this.hf.encode(text, { add_special_tokens: false }).ids;
  }

  encodeBatch(texts: readonly string[], options: EncodeBatchOptions = {}): EncodedBatch {
    const contextLength = options.contextLength ?? this.contextLength;
    if (contextLength === undefined) {
      throw new Error('ClipTokenizer.encodeBatch: no contextLength given and the tokenizer has no default.');
    }
    return layoutBatch(
      texts.map((t) => this.encode(t)),
      contextLength,
      { sot: this.sotId, eot: this.eotId, pad: this.padId },
    );
  }

  decode(ids: Iterable<number>): string {
    const content = [...ids].filter((id) => id !== this.sotId && id !== this.eotId);
    return this.hf.decode(content, { skip_special_tokens: true }).replaceAll('</w>', ' ').trim();
  }
}
