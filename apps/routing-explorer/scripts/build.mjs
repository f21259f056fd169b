// Builds the routing explorer into a folder that any static server can serve, offline: the page, its
// bundle (esbuild, browser conditions: the packages' browser entries), tfjs' wasm binaries, the shipped
// LIMoE checkpoint and a few Fashion-MNIST test images as samples. Nothing is fetched from a CDN.
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const APP = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The shipped model the page runs (its file comes from @moevl/limoe's checkpoints/). */
export const MODEL_NAME = 'limoe-fashion-mnist';

const packageDir = (name) => dirname(fileURLToPath(import.meta.resolve(`${name}/package.json`)));

/** One test image per class, as raw 8-bit pixels, from the Fashion-MNIST test split vision ships. */
async function samples() {
  const { loadFashionMnist, FASHION_MNIST_CLASS_NAMES } = await import('@moevl/vision');
  const test = await loadFashionMnist({ split: 'test', perClass: 1 });
  const side = 28;
  return Array.from({ length: test.count }, (_, i) => ({
    label: FASHION_MNIST_CLASS_NAMES[test.labels[i]],
    side,
    pixels: Buffer.from(test.images.subarray(i * side * side, (i + 1) * side * side)).toString('base64'),
  }));
}

/**
 * Builds the page into `outDir` (emptied first). Returns esbuild's metafile, which names every module in
 * the bundle (the test checks that no Node module is among them).
 */
export async function buildExplorer(outDir = join(APP, 'dist'), { minify = true } = {}) {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(join(outDir, 'wasm'), { recursive: true });
  await mkdir(join(outDir, 'model'), { recursive: true });
  const result = await esbuild.build({
    entryPoints: [join(APP, 'src/main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: true,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'linked',
  });
  for (const file of ['index.html', 'style.css'])
    await copyFile(join(APP, 'static', file), join(outDir, file));
  const wasmDir = join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist');
  for (const file of (await readdir(wasmDir)).filter((f) => f.endsWith('.wasm'))) {
    await copyFile(join(wasmDir, file), join(outDir, 'wasm', file));
  }
  const { BUILTIN_MODEL_CATALOG } = await import('@moevl/limoe');
  const entry = BUILTIN_MODEL_CATALOG.find((m) => m.name === MODEL_NAME);
  if (entry === undefined) throw new Error(`@moevl/limoe ships no builtin model named ${MODEL_NAME}.`);
  await copyFile(
    join(packageDir('@moevl/limoe'), 'checkpoints', entry.file),
    join(outDir, 'model', entry.file),
  );
  await writeFile(join(outDir, 'samples.json'), JSON.stringify(await samples()));
  return result.metafile;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = resolve(process.argv[2] ?? join(APP, 'dist'));
  const meta = await buildExplorer(out);
  const [, app] = Object.entries(meta.outputs).find(([file]) => file.endsWith('app.js'));
  console.error(
    `routing explorer built in ${out} (app.js ${(app.bytes / 1e6).toFixed(1)} MB); serve it with npm run serve`,
  );
}
