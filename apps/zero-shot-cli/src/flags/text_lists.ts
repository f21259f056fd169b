import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../errors.js';

/**
 * Reads a file named by a flag as UTF-8 text (without a byte-order mark, which Windows editors add and
 * which would otherwise stick to the first entry). A file that cannot be read is an InputError naming the
 * flag and `formats`, the sentence saying what the file should hold.
 */
export async function readTextFile(flag: string, path: string, formats: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : 'cannot be read';
    throw new InputError(`${flag}: the file ${path} ${why}; pass ${formats}.`);
  }
}

/** "One entry per line": blank lines and `#` comments are ignored, surrounding whitespace trimmed. */
export function parseLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

/** Whether a path names an existing file (not a folder). */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
