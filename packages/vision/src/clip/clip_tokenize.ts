import { assertInteger } from '@moevl/core';
import type { PreTrainedTokenizer } from '@huggingface/transformers';

/** A tokenised batch, laid out as the int64 `[batch, length]` tensors CLIP's text graph takes. */
export interface ClipTokenBatch {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  batch: number;
  length: number;
}

/**
 * Tokenise texts the way CLIP was trained to read them: `<|startoftext|> ... <|endoftext|>`, at most
 * `maxLength` tokens, padded to the longest text of the batch.
 *
 * Why not `tokenizer(texts, {padding: true, truncation: true})`: transformers.js truncates by cutting the
 * encoded sequence, which drops the closing `<|endoftext|>` of an over-long text. CLIP pools the text at
 * that token (HF exports take the position of the end token; open_clip writes `eot` into the last slot
 * when it truncates), so a long prompt would be read at an arbitrary word instead. We truncate the content
 * and keep the end token last, as open_clip and HF's Python tokenizer do. Padding to the batch's longest
 * text rather than to `maxLength` changes nothing for CLIP (causal mask, end-token pooling) and is faster.
 */
export function tokenizeForClip(
  tokenizer: PreTrainedTokenizer,
  texts: readonly string[],
  maxLength: number,
): ClipTokenBatch {
  return packClipTokens(encodeForClip(tokenizer, texts, maxLength), clipPadId(tokenizer));
}

/** The token ids of each text, CLIP-truncated as {@link tokenizeForClip} describes, not padded. */
export function encodeForClip(
  tokenizer: PreTrainedTokenizer,
  texts: readonly string[],
  maxLength: number,
): number[][] {
  return encodeForClipDetailed(tokenizer, texts, maxLength).ids;
}

/** {@link encodeForClip}, and which texts were longer than `maxLength` and were cut. */
export function encodeForClipDetailed(
  tokenizer: PreTrainedTokenizer,
  texts: readonly string[],
  maxLength: number,
): { ids: number[][]; truncated: boolean[] } {
  assertInteger('tokenizeForClip: maxLength', maxLength, { min: 2 });
  if (texts.length === 0) return { ids: [], truncated: [] };
  const encoded = tokenizer([...texts], { padding: false, truncation: false, return_tensor: false });
  const rows = encoded.input_ids as number[][];
  const eos = tokenizer.eos_token_id;
  const ids = rows.map((row) => {
    if (row.length <= maxLength) return row;
    const kept = row.slice(0, maxLength);
    if (eos != null && row[row.length - 1] === eos) kept[maxLength - 1] = eos;
    return kept;
  });
  return { ids, truncated: rows.map((row) => row.length > maxLength) };
}

/** The id rows are padded with: the tokenizer's pad token, else its end token, else 0. */
export function clipPadId(tokenizer: PreTrainedTokenizer): number {
  return tokenizer.pad_token_id ?? tokenizer.eos_token_id ?? 0;
}

/** Lays out encoded rows as one `[batch, longest]` batch, padded with `pad` (mask 0). */
export function packClipTokens(rows: readonly (readonly number[])[], pad: number): ClipTokenBatch {
  const length = Math.max(1, ...rows.map((r) => r.length));
  const inputIds = new BigInt64Array(rows.length * length).fill(BigInt(pad));
  const attentionMask = new BigInt64Array(rows.length * length);
  rows.forEach((ids, i) => {
    for (let j = 0; j < ids.length; j++) {
      inputIds[i * length + j] = BigInt(ids[j]);
      attentionMask[i * length + j] = 1n;
    }
  });
  return { inputIds, attentionMask, batch: rows.length, length };
}

/**
 * The longest sequence the text tower accepts: the tokenizer's `model_max_length` (77 for CLIP), capped
 * by the position table (`text_config.max_position_embeddings`), since a longer input fails inside the
 * graph. Falls back to CLIP's 77 when neither says.
 */
export function clipMaxLength(tokenizer: PreTrainedTokenizer, config: Record<string, unknown>): number {
  const textConfig = (config.text_config ?? {}) as Record<string, unknown>;
  const candidates = [tokenizer.model_max_length, textConfig.max_position_embeddings].filter(
    (v): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 2,
  );
  return candidates.length > 0 ? Math.min(...candidates) : 77;
}
