// bench/RESULTS.md holds one section per benchmark between `<!-- bench:NAME -->` markers; each benchmark
// rewrites only its own section, so running one does not erase the others' numbers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const FILE = new URL('./RESULTS.md', import.meta.url);
const TITLE = '# @moevl/core benchmarks\n';

export function writeResultsSection(name, lines) {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const block = [open, ...lines, close].join('\n');
  const text = existsSync(FILE) ? readFileSync(FILE, 'utf8') : TITLE;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + block + text.slice(end + close.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(FILE, next);
}
