// A package's bench/RESULTS.md holds one section per benchmark between `<!-- bench:NAME -->` markers; each
// benchmark rewrites only its own section, so running one does not erase the others' numbers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const CORE = new URL('./RESULTS.md', import.meta.url);

/** Replaces (or appends) section `name` of `file` (default: @moevl/core's bench/RESULTS.md). */
export function writeResultsSection(name, lines, file = CORE, title = '# @moevl/core benchmarks') {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const block = [open, ...lines, close].join('\n');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : `${title}\n`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + block + text.slice(end + close.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}
