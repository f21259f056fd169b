import { parseArgs } from 'node:util';
import { formatShardList, mergeZeroShotResults, shardCoverage, writeEvalResult } from '@moevl/vision';
import { InputError, UsageError } from '../errors.js';
import { parseIntegerFlag } from '../flags/numbers.js';
import { checkWritableFile } from '../flags/paths.js';
import { evalResultJson, formatEvalReport } from '../render/eval_report.js';
import { toJson } from '../render/format.js';
import { type IO, logger } from './common.js';
import { type CollectedShards, ShardCollector, isComplete } from './merge_inputs.js';

export const MERGE_HELP = `zero-shot merge — combine the results of the shards of one evaluation

Usage:
  zero-shot merge FILE|'GLOB'|FOLDER... [--wait SECONDS] [--out FILE] [--json] [--quiet]

Each input is a --out result of "zero-shot eval --shard I/N" (or --shard auto), a glob such as
'results-*.json' (quoted: merge expands it itself, also where no shell does), or a folder (its .json shard
results; other files there are skipped and listed). All N shards are needed: missing and duplicate shards
are listed by index, and shards of different runs (model, data, classes, templates, sampling) refused.
Metrics are recomputed from the union of the per-image predictions, so they equal one unsharded run exactly.

Example:
  zero-shot eval --model M --data D --shard 0/2 --out results-{shard}.json
  zero-shot eval --model M --data D --shard 1/2 --out results-{shard}.json
  zero-shot merge 'results-*.json' --out results.json

Options:
  --wait SECONDS   poll (every 2 s) until all N shards are there (N from the first shard found), then merge;
                   exit 1 listing the missing shards if they are not there in time. For a merge job that
                   runs beside or after a job array (see zero-shot cluster)
  --out FILE       write the merged result (with predictions) as JSON; never read as an input
  --json           print the merged result as JSON on stdout
  --quiet          no notes on stderr
  -h, --help       this text

Exit codes: 0 ok, 1 writing the result failed or --wait timed out, 2 a file is missing or malformed, or the
shards do not fit.`;

const POLL_MS = 2000;

export async function runMergeCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      wait: { type: 'string' },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) {
    throw new UsageError(
      "merge needs the result files of the shards, e.g. zero-shot merge 'results-*.json' or part0.json part1.json.",
    );
  }
  const log = logger(values, io);
  const waitSeconds = parseIntegerFlag('--wait', values.wait, { min: 0 });
  const out = values.out === undefined ? undefined : await checkWritableFile('--out', values.out);
  const collector = new ShardCollector(positionals, {
    exclude: out,
    missingFilesWait: waitSeconds !== undefined,
  });
  const shards =
    waitSeconds === undefined ? await collector.collect() : await waitForShards(collector, waitSeconds, log);
  for (const s of shards.skipped) log(`skipped ${s}`);
  if (shards.parts.length === 0) {
    throw new InputError(`merge: no shard result in ${shards.unmatched.join(', ')}.`);
  }
  const merged = mergeZeroShotResults(shards.parts, { names: shards.names });
  if (out !== undefined) {
    await writeEvalResult(out, merged);
    log(`wrote ${out}`);
  }
  const n = shards.parts.length;
  io.out.write(
    values.json
      ? toJson(evalResultJson(merged))
      : formatEvalReport(merged, `merged ${n} shard${n === 1 ? '' : 's'}`),
  );
  return 0;
}

/** Polls until the collection holds every shard of its run, or fails after `seconds` naming what is missing. */
async function waitForShards(
  collector: ShardCollector,
  seconds: number,
  log: (text: string) => void,
): Promise<CollectedShards> {
  const deadline = Date.now() + seconds * 1000;
  let said = '';
  for (;;) {
    const shards = await collector.collect();
    if (isComplete(shards)) return shards;
    const coverage = shardCoverage(shards.parts.map((p) => p.shard));
    const missing =
      shards.parts.length === 0
        ? `no shard result yet in ${shards.unmatched.join(', ')}`
        : `missing shard(s) ${formatShardList(coverage.missing, coverage.count)} ` +
          `(${coverage.present.length} of ${coverage.count} there)`;
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0) {
      const found = shards.names.length > 0 ? `; found ${shards.names.join(', ')}` : '';
      // Exit 1, not 2: the command was right, the tasks that should have written the shards did not.
      throw new Error(
        `merge --wait ${seconds}: timed out, ${missing}${found}. Check the logs of those tasks, rerun them, ` +
          'and merge again.',
      );
    }
    if (missing !== said) log(`waiting up to ${left} s: ${missing}…`);
    said = missing;
    await new Promise((done) => setTimeout(done, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
  }
}
