import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../errors.js';

/**
 * Reads a "one entry per line" file (class names, templates, synsets): blank lines and `#` comments are
 * ignored, surrounding whitespace trimmed. `flag` names the option in error messages.
 */
export async function readListFile(flag: string, path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : 'cannot be read';
    throw new InputError(`${flag}: the file ${path} ${why}; pass a text file with one entry per line.`);
  }
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  if (lines.length === 0)
    throw new InputError(`${flag}: the file ${path} has no entries; write one per line.`);
  return lines;
}

/** Whether a path names an existing file (not a folder). */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
