import { parseArgs } from 'node:util';
import { mergeZeroShotResults, readEvalResult, writeEvalResult } from '@moevl/vision';
import { UsageError } from '../errors.js';
import { checkWritableFile } from '../flags/paths.js';
import { evalResultJson, formatEvalReport } from '../render/eval_report.js';
import { toJson } from '../render/format.js';
import { type IO, logger } from './common.js';

export const MERGE_HELP = `zero-shot merge — combine the results of the shards of one evaluation

Usage:
  zero-shot merge FILE... [--out FILE] [--json] [--quiet]

Each FILE is a --out result of "zero-shot eval --shard I/N"; all N shards are needed. Metrics are
recomputed from the union of the per-image predictions, so they equal one unsharded run exactly.

Example:
  zero-shot eval --model M --data D --shard 0/2 --out part0.json
  zero-shot eval --model M --data D --shard 1/2 --out part1.json
  zero-shot merge part0.json part1.json --out results.json

Options:
  --out FILE     write the merged result (with predictions) as JSON
  --json         print the merged result as JSON on stdout
  --quiet        no notes on stderr
  -h, --help     this text

Exit codes: 0 ok, 1 writing the result failed, 2 a file is missing or malformed, or the shards do not fit.`;

export async function runMergeCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) {
    throw new UsageError(
      'merge needs the result files of the shards, e.g. zero-shot merge part0.json part1.json.',
    );
  }
  const out = values.out === undefined ? undefined : await checkWritableFile('--out', values.out);
  const parts = [];
  for (const file of positionals) parts.push(await readEvalResult(file));
  const merged = mergeZeroShotResults(parts);
  if (out !== undefined) {
    await writeEvalResult(out, merged);
    logger(values, io)(`wrote ${out}`);
  }
  io.out.write(
    values.json
      ? toJson(evalResultJson(merged))
      : formatEvalReport(merged, `merged ${parts.length} shard${parts.length === 1 ? '' : 's'}`),
  );
  return 0;
}
