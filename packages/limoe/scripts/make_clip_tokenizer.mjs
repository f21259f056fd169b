#!/usr/bin/env node
// Converts CLIP's BPE vocabulary (OpenAI CLIP / open_clip `bpe_simple_vocab_16e6.txt.gz`, MIT) into a
// Hugging Face `tokenizer.json`, written gzipped to packages/limoe/data/tokenizers/clip-bpe-16e6.json.gz:
//
//   unzip -p /opt/pypi/files/open_clip_torch-3.3.0-py3-none-any.whl open_clip/bpe_simple_vocab_16e6.txt.gz \
//     > /tmp/bpe_simple_vocab_16e6.txt.gz
//   node packages/limoe/scripts/make_clip_tokenizer.mjs /tmp/bpe_simple_vocab_16e6.txt.gz [OUT]
//
// The vocabulary is built exactly as open_clip's SimpleTokenizer builds it: the 256 byte symbols of
// `bytes_to_unicode()` (in its order), the same with `</w>`, the first 48,894 merges of the file (lines
// 1..48894 after the version header), then <|startoftext|> = 49406 and <|endoftext|> = 49407.
//
// The normalizer stands in for open_clip's `_clean_lower` (ftfy.fix_text, html.unescape twice, whitespace
// collapsed, lowercase): NFC (ftfy's normalisation), ftfy's uncurled quotes, the common HTML entities,
// whitespace runs → one space, lowercase. The pre-tokenizer is CLIP's regex (special tokens, contractions,
// letter runs, single digits, other non-space runs), then byte-level symbols; the model is BPE with the
// `</w>` end-of-word suffix. Deterministic: the same input gives the same bytes (gzip without a timestamp).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));
const [input, outArg] = process.argv.slice(2);
if (!input) {
  console.error('usage: make_clip_tokenizer.mjs bpe_simple_vocab_16e6.txt.gz [out.json.gz]');
  process.exit(2);
}
const out = resolve(outArg ?? `${HERE}/../data/tokenizers/clip-bpe-16e6.json.gz`);

/** GPT-2's / CLIP's reversible byte → printable-character table, in the order of its Python dict. */
function bytesToUnicode() {
  const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
  const bs = [...range(0x21, 0x7e), ...range(0xa1, 0xac), ...range(0xae, 0xff)];
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return bs.map((b, i) => [b, String.fromCodePoint(cs[i])]);
}

const lines = gunzipSync(readFileSync(input)).toString('utf8').split('\n');
// open_clip: merges[1 : 49152 - 256 - 2 + 1]
const merges = lines.slice(1, 49152 - 256 - 2 + 1).map((l) => l.split(' '));
if (merges.length !== 48894 || merges.some((m) => m.length !== 2)) {
  throw new Error(`${input}: expected 48,894 merges of two symbols, got ${merges.length}.`);
}
const bytes = bytesToUnicode().map(([, c]) => c);
const vocabList = [...bytes, ...bytes.map((c) => c + '</w>'), ...merges.map(([a, b]) => a + b)];
const SOT = '<|startoftext|>';
const EOT = '<|endoftext|>';
vocabList.push(SOT, EOT);
const vocab = Object.fromEntries(vocabList.map((t, i) => [t, i]));
if (Object.keys(vocab).length !== 49408) throw new Error('the CLIP vocabulary must have 49,408 tokens.');

const special = (id, content) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: true,
  special: true,
});
const replace = (pattern, content) => ({ type: 'Replace', pattern, content });
const tokenizer = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [special(49406, SOT), special(49407, EOT)],
  normalizer: {
    type: 'Sequence',
    normalizers: [
      { type: 'NFC' },
      replace({ Regex: '[\u02bc\u2018-\u201b]' }, "'"),
      replace({ Regex: '[\u201c-\u201f]' }, '"'),
      // html.unescape twice: "&amp;amp;" and "&amp;quot;" come out as "&" and '"'.
      replace({ String: '&amp;' }, '&'),
      replace({ String: '&amp;' }, '&'),
      replace({ String: '&quot;' }, '"'),
      replace({ String: '&#39;' }, "'"),
      replace({ String: '&lt;' }, '<'),
      replace({ String: '&gt;' }, '>'),
      replace({ Regex: '\\s+' }, ' '),
      { type: 'Lowercase' },
    ],
  },
  pre_tokenizer: {
    type: 'Sequence',
    pretokenizers: [
      {
        type: 'Split',
        pattern: {
          Regex:
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
        },
        behavior: 'Removed',
        invert: true,
      },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  },
  post_processor: {
    type: 'RobertaProcessing',
    sep: [EOT, 49407],
    cls: [SOT, 49406],
    trim_offsets: false,
    add_prefix_space: false,
  },
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: {
    type: 'BPE',
    dropout: null,
    unk_token: EOT,
    continuing_subword_prefix: '',
    end_of_word_suffix: '</w>',
    fuse_unk: false,
    byte_fallback: false,
    vocab,
    merges: merges.map(([a, b]) => `${a} ${b}`),
  },
};
const json = Buffer.from(JSON.stringify(tokenizer));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, gzipSync(json, { level: 9 }));
console.log(
  `wrote ${out}: ${vocabList.length} tokens, ${merges.length} merges, ${json.length} bytes of JSON`,
);
