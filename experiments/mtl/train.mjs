// One model of the multi-task reproduction (docs/experiments/mtl.md): trains a variant on the noisy
// Fashion-MNIST multi-task benchmark (official training set), evaluates it on the official test set, measures task×expert routing
// on test, and for Mod-Squad(+MI) extracts and evaluates a single-task model per task.
//
//   node experiments/mtl/train.mjs --variant modsquad --seed 0 --steps 600 --batch 32 --out experiments/mtl/runs/modsquad-s0
//   node experiments/mtl/train.mjs --variant single --task category --seed 0 ...
//   variants: single | dense | moe-shared | modsquad | modsquad-no-mi | adamv | adamv-no-aes
// Resume an interrupted run by repeating the command with --resume.
import { initBackend } from '@moevl/core';
import {
  FASHION_TASK_NAMES,
  MTL_VARIANTS,
  TaskMoEViT,
  evaluateMultiTask,
  extractSingleTask,
  fashionMultiTask,
  isMtlVariant,
  mtlVariantSetup,
  parameterCount,
  saveTaskMoEViT,
  taskExpertStatistics,
  trainMultiTask,
  writeTaskRoutingAnalysis,
} from '@moevl/mtl';
import { loadFashionMnist } from '@moevl/vision';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';

const usage = (msg) => {
  console.error(`train.mjs: ${msg}`);
  process.exit(2);
};
const { values } = parseArgs({
  options: {
    variant: { type: 'string', default: 'modsquad' },
    task: { type: 'string' },
    steps: { type: 'string', default: '600' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '2e-3' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string' },
    resume: { type: 'boolean', default: false },
    'train-per-class': { type: 'string' },
    'test-per-class': { type: 'string' },
    'validation-per-class': { type: 'string', default: '50' },
    'aes-every': { type: 'string', default: '50' },
    'aes-patience': { type: 'string', default: '100' },
    patch: { type: 'string', default: '7' },
  },
});
const variant = values.variant;
if (!isMtlVariant(variant)) usage(`unknown --variant "${variant}"; use one of ${MTL_VARIANTS.join(', ')}.`);
if (variant === 'single' && !FASHION_TASK_NAMES.includes(values.task ?? ''))
  usage(`--variant single needs --task, one of ${FASHION_TASK_NAMES.join(', ')}.`);
const int = (name) => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < 0)
    usage(`--${name} must be a non-negative integer, got "${values[name]}".`);
  return v;
};
const seed = int('seed');
const steps = int('steps');
const batch = int('batch');
const taskNames = variant === 'single' ? [values.task] : [...FASHION_TASK_NAMES];
const name = variant === 'single' ? `single-${values.task}` : variant;
const out = values.out ?? `experiments/mtl/runs/${name}-s${seed}`;
mkdirSync(out, { recursive: true });
const backend = await initBackend();
console.error(`backend ${backend.backend}; ${name}; seed ${seed}; out ${out}`);

const perClass = (flag) => (values[flag] ? int(flag) : undefined);
const train = await loadFashionMnist({ split: 'train', perClass: perClass('train-per-class') });
const test = await loadFashionMnist({ split: 'test', perClass: perClass('test-per-class') });
// The data seed is fixed (0): every model sees the same validation and test inputs.
const benchOf = (tasks) =>
  fashionMultiTask({ train, test, tasks, validationPerClass: int('validation-per-class'), seed: 0 });
const bench = benchOf(taskNames);
const setup = mtlVariantSetup(variant, {
  tasks: bench.taskSpecs,
  seed,
  aesEvery: int('aes-every'),
  aesPatience: int('aes-patience'),
  patchSize: int('patch'),
});
const model = new TaskMoEViT(setup.config);

const t0 = Date.now();
const result = await trainMultiTask({
  model,
  data: bench.trainStream(batch, seed),
  validation: bench.validation,
  steps,
  peakLr: Number(values.lr),
  uncertainty: setup.uncertainty,
  aes: setup.aes,
  usageEma: setup.usageEma,
  validateEvery: setup.aes ? undefined : Math.max(1, Math.round(steps / 6)),
  seed,
  dir: join(out, 'checkpoints'),
  checkpointEvery: 100,
  resume: values.resume,
});
const trainSeconds = (Date.now() - t0) / 1000;
await saveTaskMoEViT(join(out, 'model.safetensors'), model, {
  variant: name,
  steps,
  usageEma: result.usageEma?.getState() ?? null,
});

// Test metrics, and task×expert usage per MoE layer summed over the test split.
const e0 = Date.now();
const layers = new Map();
const testMetrics = evaluateMultiTask(model, bench.test, {
  batchSize: 250,
  perExample: true,
  onMetrics: (metrics) => {
    for (const b of metrics.blocks) {
      const key = b.name;
      const prev = layers.get(key);
      layers.set(
        key,
        prev ? prev.map((row, t) => row.map((x, e) => x + b.expertTaskUsage[t][e])) : b.expertTaskUsage,
      );
    }
  },
});
const evalSeconds = (Date.now() - e0) / 1000;
const routingLayers = [...layers].map(([layer, usage]) => ({ name: layer, usage }));
let routing = null;
if (routingLayers.length > 0 && taskNames.length > 1) {
  await writeTaskRoutingAnalysis(join(out, 'routing'), { taskNames, layers: routingLayers });
  routing = routingLayers.map((l) => ({ name: l.name, usage: l.usage, ...taskExpertStatistics(l.usage) }));
}

// Mod-Squad's claim: a task's experts alone keep its accuracy with a fraction of the parameters.
let extracted = null;
if (variant === 'modsquad' && result.usageEma) {
  extracted = [];
  const full = parameterCount(model);
  for (let t = 0; t < taskNames.length; t++) {
    const single = extractSingleTask(model, t, { usage: result.usageEma.usage() });
    const metrics = evaluateMultiTask(single, benchOf([taskNames[t]]).test, {
      batchSize: 250,
      perExample: true,
    })[taskNames[t]];
    extracted.push({
      task: taskNames[t],
      parameters: parameterCount(single),
      fraction: parameterCount(single) / full,
      metrics,
      full: testMetrics[taskNames[t]],
    });
    single.dispose();
  }
}

// Per test example (paired statistics in report.mjs): 0/1 correct for classification, MAE for dense tasks,
// kept out of summary.json and committed compactly as docs/experiments/mtl/runs/<set>/<name>-s<seed>.json.gz.
const perExample = (metrics) => {
  if (metrics.perExample === undefined) return undefined;
  const values = metrics.perExample;
  delete metrics.perExample;
  return metrics.accuracy !== undefined ? values.join('') : values.map((v) => Number(v.toPrecision(5)));
};
const examples = {
  name,
  seed,
  steps,
  test: Object.fromEntries(Object.entries(testMetrics).map(([task, m]) => [task, perExample(m)])),
  extracted: extracted ? Object.fromEntries(extracted.map((e) => [e.task, perExample(e.metrics)])) : null,
};
const docsRuns = new URL(`../../docs/experiments/mtl/runs/${basename(dirname(out))}/`, import.meta.url)
  .pathname;
mkdirSync(docsRuns, { recursive: true });
writeFileSync(join(docsRuns, `${basename(out)}.json.gz`), gzipSync(JSON.stringify(examples)));

const last = result.run.records.at(-1) ?? {};
const summary = {
  name,
  variant,
  task: values.task ?? null,
  tasks: taskNames,
  seed,
  steps,
  batch,
  examplesPerTask: steps * batch,
  lr: Number(values.lr),
  patchSize: setup.config.patchSize,
  tokens: (setup.config.imageSize / setup.config.patchSize) ** 2,
  aes: setup.aes ?? null,
  trainImages: bench.trainIndices.length,
  validationImages: bench.validation.count,
  testImages: bench.test.count,
  trainSeconds,
  evalSeconds,
  msPerStep: result.run.records.reduce((a, r) => a + r.ms, 0) / Math.max(1, result.run.records.length),
  parameters: parameterCount(model),
  test: testMetrics,
  finalLoss: last.loss ?? null,
  finalAux: last.aux ?? null,
  finalK: result.finalK,
  aesHistory: result.aesHistory,
  uncertaintyWeights: result.uncertaintyWeights ?? null,
  routing,
  extracted,
  backend: backend.backend,
};
writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
writeFileSync(join(docsRuns, `${basename(out)}.json`), JSON.stringify(summary) + '\n');
console.log(
  JSON.stringify({ name, seed, trainSeconds, evalSeconds, test: testMetrics, finalK: result.finalK }),
);
model.dispose();
