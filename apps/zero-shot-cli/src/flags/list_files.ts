import { closest } from '@moevl/core';
import { extname } from 'node:path';
import { InputError } from '../errors.js';
import { describeJsonSyntaxError } from './json_syntax.js';
import { parseLines, readTextFile } from './text_lists.js';

/**
 * Files of class names, templates or synsets, in the two shapes people have them in:
 * - JSON, as CLIP_benchmark and open_clip write them: a list of strings, or an object keyed by dataset
 *   name whose values are lists of strings (CLIP_benchmark's `en_classnames.json`,
 *   `en_zeroshot_classification_templates.json`), the key chosen with `--dataset-name`;
 * - text, one entry per line (blank lines and `#` comments ignored).
 * A file that looks like JSON (a `.json` name, or a first character `[` or `{`) must be valid JSON of one of
 * those shapes: read line by line instead, it would silently become one template, or classes named `[`
 * and `"blue",`, and an evaluation that reports 0% instead of failing.
 */

export interface ListFileOptions {
  /** The flag named in error messages, e.g. `--classes`. */
  flag: string;
  /** What one entry is, in error messages: `name`, `template`, `synset` (its plural adds an s). */
  noun: string;
  /** `--dataset-name`: which list of a JSON object to read. */
  datasetName?: string;
}

export interface ListFile {
  entries: string[];
  /** How the file was read, so messages can say "line" or "template". */
  format: 'json' | 'lines';
  /** The key the entries were read from, when the file is a JSON object of lists. */
  datasetKey?: string;
}

/** The accepted formats, as the end of an error sentence. */
export function listFileFormats(noun: string): string {
  return `a JSON list of ${noun}s, a JSON object keyed by dataset name, or a text file with one ${noun} per line`;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'boolean') return 'a boolean';
  return `a ${typeof v}`;
}

class Reader {
  constructor(
    private readonly path: string,
    private readonly options: ListFileOptions,
  ) {}

  /** An error about the file's content: what is wrong, then the formats it should have. */
  bad(what: string): InputError {
    const { flag, noun } = this.options;
    return new InputError(`${flag}: ${what}; write ${listFileFormats(noun)}.`);
  }

  parse(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch (err) {
      // Node 20's messages quote the whole text and give no position; the scanner says where.
      const detail =
        describeJsonSyntaxError(text) ??
        (err as Error).message.replace(/, ".*" is not valid JSON$/s, '').split('\n')[0];
      const what =
        extname(this.path).toLowerCase() === '.json'
          ? `${this.path} is not valid JSON`
          : `${this.path} starts with '${text.trimStart()[0]}' as JSON does but is not valid JSON`;
      throw this.bad(`${what} (${detail})`);
    }
  }

  /** A non-empty list of non-empty strings; `where` names it ("the JSON in x.json"). */
  strings(value: unknown, where: string): string[] {
    if (!Array.isArray(value)) throw this.bad(`${where} is ${describeType(value)}, not a list`);
    if (value.length === 0) throw this.bad(`${where} is an empty list`);
    value.forEach((v, i) => {
      if (typeof v !== 'string')
        throw this.bad(`item ${i + 1} of ${where} is ${describeType(v)}, not a string`);
      if (v.trim() === '') throw this.bad(`item ${i + 1} of ${where} is an empty string`);
    });
    return value as string[];
  }

  /** The key of a dataset-keyed object: --dataset-name, else the only one. */
  key(keys: string[]): string {
    const { flag, datasetName } = this.options;
    if (datasetName === undefined) {
      if (keys.length === 1) return keys[0];
      throw new InputError(
        `${flag}: ${this.path} has lists for ${keys.length} datasets (${keys.join(', ')}); ` +
          'pick one with --dataset-name NAME.',
      );
    }
    if (keys.includes(datasetName)) return datasetName;
    const guess = closest(datasetName, keys);
    throw new InputError(
      `${flag}: ${this.path} has no "${datasetName}" list${guess ? ` (did you mean "${guess}"?)` : ''}; ` +
        `pass --dataset-name with one of: ${keys.join(', ')}.`,
    );
  }

  json(text: string): ListFile {
    const value = this.parse(text);
    const top = `the JSON in ${this.path}`;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      if (Array.isArray(value)) return { entries: this.strings(value, top), format: 'json' };
      throw this.bad(`${top} is ${describeType(value)}, not a list or an object of lists`);
    }
    const keys = Object.keys(value);
    if (keys.length === 0) throw this.bad(`${top} is an empty object`);
    const datasetKey = this.key(keys);
    const list = (value as Record<string, unknown>)[datasetKey];
    if (!Array.isArray(list)) {
      throw this.bad(
        `the "${datasetKey}" entry of ${this.path} is ${describeType(list)}, not a list of ${this.options.noun}s`,
      );
    }
    const entries = this.strings(list, `the "${datasetKey}" list in ${this.path}`);
    return { entries, format: 'json', datasetKey };
  }

  lines(text: string): ListFile {
    const entries = parseLines(text);
    if (entries.length === 0) throw this.bad(`the file ${this.path} has no entries`);
    return { entries, format: 'lines' };
  }
}

/** Whether a file is read as JSON: by its name, or by its first character (a text entry rarely starts so). */
export function looksLikeJson(path: string, text: string): boolean {
  return extname(path).toLowerCase() === '.json' || /^\s*[[{]/.test(text);
}

/**
 * Reads a list file (see the top of this file). Every problem — unreadable, not JSON though it looks like
 * it, the wrong shape, no such dataset — is one InputError sentence naming the flag and the file.
 */
export async function readListFile(path: string, options: ListFileOptions): Promise<ListFile> {
  const text = await readTextFile(options.flag, path, listFileFormats(options.noun));
  const reader = new Reader(path, options);
  return looksLikeJson(path, text) ? reader.json(text) : reader.lines(text);
}
