import { parseArgs } from 'node:util';
import { FASHION_MNIST_DATA } from '../data/resolve_data.js';
import { BUILTIN_PREFIX, installedBuiltinNames } from '../models/resolve_model.js';
import { evalResultJson, formatEvalReport } from '../render/eval_report.js';
import { toJson } from '../render/format.js';
import { COMMON_OPTIONS, type IO } from './common.js';
import { evaluate } from './eval.js';
import { planEval } from './eval_options.js';
import { selfCheck } from './selfcheck.js';

/** The model the demo evaluates when it is installed. */
export const DEMO_MODEL = 'limoe-fashion-mnist';

export const DEMO_HELP = `zero-shot demo — evaluate the builtin LIMoE model on Fashion-MNIST, offline

Usage:
  zero-shot demo [--limit N] [--no-cache] [--backend NAME] [--json] [--quiet]

Evaluates ${BUILTIN_PREFIX}${DEMO_MODEL} zero-shot on the official Fashion-MNIST test set (10,000 images,
shipped with @moevl/vision) with prompt templates never used in training, and prints the metrics and the
time taken. Needs no network. The same as:
  zero-shot eval --model ${BUILTIN_PREFIX}${DEMO_MODEL} --data fashion-mnist

When no builtin model is installed, it runs the engine self-check instead (see zero-shot selfcheck).

Options:
  --limit N        evaluate a class-balanced sample of N test images (default: all 10,000)
  --no-cache       do not cache the text classifier (default: ~/.cache/moevl/zero-shot-classifiers)
  --steps N        self-check steps, when it falls back to the self-check (default 30)
  --backend NAME   tensorflow-gpu | tensorflow | wasm | cpu (default: the fastest that loads)
  --json           print only JSON on stdout (logs go to stderr)
  --quiet          no progress output
  -h, --help       this text

Exit codes: 0 ok, 1 the evaluation or the self-check failed, 2 a usage error.`;

export async function runDemoCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...COMMON_OPTIONS,
      limit: { type: 'string' },
      steps: { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
    },
  });
  if (!installedBuiltinNames().includes(DEMO_MODEL)) {
    const note =
      `note: no builtin models are installed (${BUILTIN_PREFIX}${DEMO_MODEL} ships with @moevl/limoe once trained), ` +
      'so the demo runs the engine self-check instead.\n';
    if (!values.quiet) io.err.write(note);
    return selfCheck(values, io);
  }
  const plan = await planEval({
    model: `${BUILTIN_PREFIX}${DEMO_MODEL}`,
    data: FASHION_MNIST_DATA,
    limit: values.limit,
    backend: values.backend,
    json: values.json,
    quiet: values.quiet,
    'no-cache': values['no-cache'],
  });
  // A demo is quick and never resumed: keep nothing but the classifier cache.
  const result = await evaluate({ ...plan, workDir: undefined }, io);
  io.out.write(
    values.json
      ? toJson({ demo: DEMO_MODEL, ...evalResultJson(result) })
      : formatEvalReport(
          result,
          `demo: ${BUILTIN_PREFIX}${DEMO_MODEL} on the official Fashion-MNIST test set, held-out prompts`,
        ),
  );
  return 0;
}
