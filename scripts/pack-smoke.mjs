// "Install individual packages" as a user would: pack each published package, install the tarballs into
// an empty project with only their declared dependencies and peers (from the registry), and run a short
// script against the installed copy. Catches missing files, wrong `exports`, and undeclared dependencies
// that a workspace hides. Each package README's quick start (its first ```ts block, a complete program) runs
// verbatim against the installed copy, and the packed CLI's `zero-shot` bin runs the root README's commands.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
// Packages that are implemented so far, in dependency order; later issues add theirs.
const PACKAGES = ['core', 'router', 'vision', 'limoe', 'mtl'];
const SMOKE = {
  core: `
import * as tf from '@tensorflow/tfjs';
import { initBackend, topK, writeSafetensors, readSafetensors, runSelfCheck } from '@moevl/core';
import { checkGradients } from '@moevl/core/testing';
const report = await initBackend();
if (report.backend !== 'wasm') throw new Error('expected the wasm default, got ' + report.backend);
const x = tf.tensor2d([[0.1, 2, -1], [3, 0.5, 1.5]]);
const { maxRelativeError } = checkGradients((a) => topK(a, 2).values, [x]);
if (!(maxRelativeError < 1e-3)) throw new Error('topK gradient check failed: ' + maxRelativeError);
const path = process.argv[2] + '/x.safetensors';
await writeSafetensors(path, { x }, { note: 'smoke' });
const back = await readSafetensors(path);
if (back.metadata.note !== 'smoke' || back.tensors.x.shape.join() !== '2,3') throw new Error('safetensors round-trip failed');
const r = runSelfCheck({ steps: 5 });
if (r.leakedTensors !== 0) throw new Error('self-check leaked tensors');
console.log('@moevl/core smoke OK on', report.backend, '- loss', r.losses[0].toFixed(3), '->', r.losses[4].toFixed(3));
`,
  router: `
import * as tf from '@tensorflow/tfjs';
import { initBackend, TransformerBlock } from '@moevl/core';
import { MoELayer, createRouterRegistry, assignTopK } from '@moevl/router';
import { runRouterConformance } from '@moevl/router/testing';
if (typeof runRouterConformance !== 'function') throw new Error('testing entry missing');
await initBackend();
const names = createRouterRegistry().names();
for (const n of ['top-k', 'expert-choice', 'soft-moe', 'hash', 'task-conditioned', 'dense']) {
  if (!names.includes(n)) throw new Error('missing built-in router ' + n);
}
const { position } = assignTopK(tf.tensor2d([[0.4, 0, 0.2], [0.5, 0.1, 0.4], [0.3, 0.2, 0.6]]), { k: 2, capacity: 2 });
if (JSON.stringify(position.arraySync()) !== '[[0,1],[1,-1],[0,-1]]') throw new Error('assignTopK golden failed');
const block = new TransformerBlock({ dim: 16, numHeads: 2, mlp: new MoELayer({ dim: 16, hiddenDim: 32, numExperts: 4 }) });
const out = block.forward(tf.randomNormal([2, 8, 16]), { training: true });
console.log('@moevl/router smoke OK:', names.length, 'routers; MoE block output', out.y.shape.join('x'), 'aux', Object.keys(out.auxLosses).join(','));
`,
  vision: `
import sharp from 'sharp';
import { mkdirSync, writeFileSync } from 'node:fs';
import { initBackend } from '@moevl/core';
import { imagenetClassNames, loadImageFolderDataset, preprocessImage, createViT } from '@moevl/vision';
await initBackend();
if (imagenetClassNames().length !== 1000) throw new Error('ImageNet class names not shipped');
const dir = process.argv[2] + '/imgs';
for (const c of ['a', 'b']) {
  mkdirSync(dir + '/' + c, { recursive: true });
  const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: c === 'a' ? '#f00' : '#00f' } }).png().toBuffer();
  writeFileSync(dir + '/' + c + '/1.png', png);
}
const ds = await loadImageFolderDataset(dir);
const x = await preprocessImage(ds.items[0].path);
if (x.shape.join() !== '3,224,224') throw new Error('preprocess shape ' + x.shape);
const vit = createViT('ti-mini');
// Without the optional @huggingface/transformers, a CLIP model says what to install.
const { loadTransformersClip } = await import('@moevl/vision');
const err = await loadTransformersClip('Xenova/clip-vit-base-patch32').then(() => null, (e) => e);
if (!/optional package @huggingface\\/transformers/.test(err?.message)) throw new Error('CLIP without transformers.js: ' + err?.message);
console.log('@moevl/vision smoke OK:', ds.summary().split('\\n')[0], '| ViT ti-mini params', vit.countParams(), '| CLIP needs the optional transformers.js');
`,
  limoe: `
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@moevl/core';
import { LIMoEModel, defaultLIMoEConfig, trainBpe } from '@moevl/limoe';
await initBackend();
const tok = trainBpe(['a photo of a shoe', 'a photo of a bag'], { vocabSize: 64, contextLength: 8 });
const model = new LIMoEModel(defaultLIMoEConfig({ imageSize: 8, patchSize: 4, dim: 16, depth: 2, numHeads: 2, embedDim: 8, vocabSize: tok.vocabSize, contextLength: 8, moe: { numExperts: 4, every: 2 } }));
const t = tok.toTensors(['a photo of a shoe']);
const out = model.forward(tf.zeros([1, 1, 8, 8]), { ids: t.ids, mask: t.mask, eotIndex: Array.from(t.eotIndex.dataSync()) }, { training: false });
console.log('@moevl/limoe smoke OK: embeddings', out.imageEmbeddings.shape.join('x'), out.textEmbeddings.shape.join('x'));
`,
  mtl: `
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@moevl/core';
import { AdaptiveExpertSelection, ExpertUsageEMA, MoEAttention, TaskMoEViT, extractSingleTask, parameterCount, taskMoEViTConfig } from '@moevl/mtl';
const aes = new AdaptiveExpertSelection({ tasks: ['a', 'b'], initialK: 2, maxK: 4, patience: 10 });
aes.update(0, { a: 1, b: 1 });
const d = aes.update(20, { a: 1, b: 0.5 });
if (d.a.k !== 3 || d.b.k !== 2) throw new Error('AES decisions wrong: ' + JSON.stringify(d));
if (typeof MoEAttention !== 'function') throw new Error('MoEAttention missing');
await initBackend();
const config = taskMoEViTConfig({
  imageSize: 8, patchSize: 4, inChannels: 1, dim: 16, depth: 2, numHeads: 2, mlpRatio: 2, seed: 1,
  tasks: [{ name: 'cls', kind: 'classification', numClasses: 3 }, { name: 'rec', kind: 'dense', outChannels: 1 }],
  moeMlp: { numExperts: 4, k: 2, hiddenDim: 8 }, moeAttention: { numExperts: 4, k: 2, headDim: 8 },
});
const model = new TaskMoEViT(config);
const ema = new ExpertUsageEMA();
const out = model.forwardTasks(tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 3), { training: false });
ema.update(out.metrics);
const small = extractSingleTask(model, 0, { usage: ema });
const shapes = out.outputs.map((o) => o.shape.join('x')).join(',');
if (shapes !== '2x3,2x8x8x1') throw new Error('TaskMoEViT outputs ' + shapes);
if (!(parameterCount(small) < parameterCount(model))) throw new Error('extracted model is not smaller');
console.log('@moevl/mtl smoke OK:', JSON.stringify(d), '| TaskMoEViT', shapes, '| extracted', parameterCount(small), '/', parameterCount(model), 'params');
`,
};

/** A README's quick start: its first ```ts block, types stripped by TypeScript's own transpiler. */
function quickStart(readmePath) {
  const block = /```ts\n([\s\S]*?)```/.exec(readFileSync(readmePath, 'utf8'));
  if (block == null) throw new Error(`${readmePath} has no \`\`\`ts quick start`);
  const { outputText, diagnostics } = ts.transpileModule(block[1], {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    reportDiagnostics: true,
  });
  if (diagnostics?.length) throw new Error(`${readmePath}: the quick start does not parse`);
  return outputText;
}

const work = mkdtempSync(join(tmpdir(), 'moevl-pack-'));
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
try {
  const tarballs = {};
  for (const name of PACKAGES) {
    const out = run('npm', ['pack', '--json', '--pack-destination', work], join(root, 'packages', name));
    const info = JSON.parse(out)[0];
    const leaked = info.files.filter((f) => /\.test\.|\/src\//.test(f.path));
    if (leaked.length > 0)
      throw new Error(
        `@moevl/${name} tarball ships test or source files: ${leaked.map((f) => f.path).join(', ')}`,
      );
    tarballs[`@moevl/${name}`] = `file:${join(work, info.filename)}`;
  }
  // The CLI, as published: its bin and its dependencies on the tarballs above (npm dedupes them).
  const cli = JSON.parse(
    run('npm', ['pack', '--json', '--pack-destination', work], join(root, 'apps/zero-shot-cli')),
  )[0];
  tarballs['@moevl/zero-shot-cli'] = `file:${join(work, cli.filename)}`;
  const project = join(work, 'project');
  execFileSync('mkdir', ['-p', project]);
  // A default npm config: the packages must install with stock npm and no flags (transformers.js, whose
  // onnxruntime-node downloads a CUDA provider at install, is an optional peer, not installed here).
  writeFileSync(
    join(project, 'package.json'),
    // vitest is the optional peer that `@moevl/*/testing` (gradient checker, per-backend suites) needs.
    JSON.stringify(
      {
        name: 'moevl-smoke',
        private: true,
        type: 'module',
        dependencies: tarballs,
        devDependencies: { vitest: '^4.1.0' },
      },
      null,
      2,
    ),
  );
  process.stdout.write(`pack-smoke: installing ${Object.keys(tarballs).join(', ')} into an empty project…\n`);
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], project);
  // Without network: the same install again from npm's cache only, so no install step downloads anything
  // (an install script fetching a binary, as onnxruntime-node's does, fails here).
  const offline = join(work, 'offline');
  execFileSync('mkdir', ['-p', offline]);
  writeFileSync(join(offline, 'package.json'), readFileSync(join(project, 'package.json')));
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', '--loglevel=error'], offline);
  process.stdout.write('pack-smoke: the same tarballs install with --offline (npm cache only)\n');
  for (const name of PACKAGES) {
    writeFileSync(join(project, `smoke-${name}.mjs`), SMOKE[name]);
    process.stdout.write(run('node', [`smoke-${name}.mjs`, project], project));
  }
  for (const name of PACKAGES) {
    const readme = join(root, 'packages', name, 'README.md');
    writeFileSync(join(project, `quickstart-${name}.mjs`), quickStart(readme));
    process.stdout.write(`pack-smoke: @moevl/${name} README quick start…\n`);
    process.stdout.write(run('node', [`quickstart-${name}.mjs`], project));
  }
  const help = run('npx', ['--no-install', 'zero-shot', '--help'], project);
  if (!/zero-shot eval --model MODEL --data PATH/.test(help)) throw new Error('zero-shot --help: ' + help);
  const evalOut = run(
    'npx',
    [
      '--no-install',
      'zero-shot',
      'eval',
      '--model',
      'builtin:limoe-fashion-mnist',
      '--data',
      'fashion-mnist',
      '--limit',
      '100',
      '--no-cache',
    ],
    project,
  );
  process.stdout.write(
    `pack-smoke: installed zero-shot eval: ${/top-1 [\d.]+%/.exec(evalOut)?.[0] ?? evalOut}\n`,
  );
  const installed = readdirSync(join(project, 'node_modules', '@moevl'));
  console.log(`pack-smoke: ${installed.length} package(s) installed and checked: ${installed.join(', ')}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
