import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/**
 * Tokenizer files that ship inside this package (`data/tokenizers/`), so a model that uses one needs no
 * download. `clip-bpe-16e6` is CLIP's BPE vocabulary (OpenAI CLIP, as open_clip ships it in
 * `bpe_simple_vocab_16e6.txt.gz`, MIT; see data/tokenizers/LICENSE-clip-bpe.txt), converted to a Hugging Face
 * tokenizer.json by scripts/make_clip_tokenizer.mjs.
 */
export const CLIP_BPE_TOKENIZER = 'clip-bpe-16e6';

const FILES: Record<string, { file: string; description: string }> = {
  [CLIP_BPE_TOKENIZER]: {
    file: 'clip-bpe-16e6.json.gz',
    description: "CLIP's byte-level BPE (OpenAI CLIP / open_clip vocabulary, 49,408 tokens)",
  },
};

// dist/tokenizer/*.js and src/tokenizer/*.ts are both two levels below the package root.
const dataFile = (file: string) => fileURLToPath(new URL(`../../data/tokenizers/${file}`, import.meta.url));

export function shippedTokenizerNames(): string[] {
  return Object.keys(FILES).filter((name) => existsSync(dataFile(FILES[name].file)));
}

export interface ShippedTokenizer {
  name: string;
  path: string;
  description: string;
  /** The tokenizer.json text. */
  text: string;
  /** sha256 (hex) of `text`. */
  sha256: string;
}

const cache = new Map<string, ShippedTokenizer>();

/** A shipped tokenizer's JSON text and hash (read once per process); an unknown name lists the known. */
export function readShippedTokenizer(name: string): ShippedTokenizer {
  const hit = cache.get(name);
  if (hit) return hit;
  const entry = FILES[name];
  if (entry === undefined) {
    throw new Error(
      `Unknown shipped tokenizer "${name}"; this @moevl/limoe has ${Object.keys(FILES).join(', ')}.`,
    );
  }
  const path = dataFile(entry.file);
  if (!existsSync(path)) {
    throw new Error(`The shipped tokenizer "${name}" is missing from this installation (${path}).`);
  }
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const sha256 = createHash('sha256').update(text).digest('hex');
  const shipped = { name, path, description: entry.description, text, sha256 };
  cache.set(name, shipped);
  return shipped;
}
