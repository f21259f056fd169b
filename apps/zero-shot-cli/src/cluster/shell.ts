/** Quoting for the shell scripts `zero-shot cluster slurm` prints. */

/** `word` as one POSIX shell word: bare when it is only safe characters, else single-quoted. */
export function shellQuote(word: string): string {
  if (/^[\w./:=@%+,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
