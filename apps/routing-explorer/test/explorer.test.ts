import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExplorer } from '../scripts/build.mjs';
import { serveStatic } from '../scripts/serve.mjs';
import type { PageState } from '../src/page_state.js';
import { CHROMIUM_HINT, findChromium } from './chromium.js';

/**
 * The routing explorer, end to end: the page is built (esbuild, the packages' browser entries), served
 * from a local server, and driven in a real headless Chromium with every request outside that server
 * refused; it must rank the fixture images exactly as the Node CLI does (`zero-shot classify --json`).
 */

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = join(APP, '../..');
const FIXTURES = ['fashion-mnist-test-0.png', 'fashion-mnist-test-bag.png'].map((f) =>
  join(APP, 'test/fixtures', f),
);
const CLASS_NAMES = ['t-shirt', 'trouser', 'ankle boot', 'bag', 'sneaker', 'sandal'];
const TOLERANCE = 1e-4;
/** Playwright's wait for each step: far below the test timeout, so a stuck page fails with its state. */
const STEP_MS = 20_000;

const chromium = findChromium();
if (chromium === null) console.warn(`routing explorer: the Chromium test is skipped: ${CHROMIUM_HINT}.`);
let out: string;
let meta: { inputs: Record<string, unknown> };

// Bundling the page (esbuild over four packages) takes seconds on a quiet machine, over a minute when CI runs
// every package's tests beside it on two cores.
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'moevl-routing-explorer-'));
  meta = await buildExplorer(out, { minify: false });
}, 240_000);
afterAll(() => rm(out, { recursive: true, force: true }));

describe('the page bundle', () => {
  it('holds no Node module, the packages through their browser entries, and serves everything itself', () => {
    const inputs = Object.keys(meta.inputs);
    expect(
      inputs.filter((f) => /^node:|(^|\/)(sharp|tar-stream|onnxruntime-node|native-blas)\//.test(f)),
    ).toEqual([]);
    for (const pkg of ['core', 'router', 'vision', 'limoe']) {
      const files = inputs.filter((f) => f.includes(`packages/${pkg}/dist/`));
      expect(files, pkg).toContain(`../../packages/${pkg}/dist/browser.js`);
      expect(files, pkg).not.toContain(`../../packages/${pkg}/dist/index.js`);
    }
    for (const f of ['index.html', 'app.js', 'samples.json', 'model/limoe-fashion-mnist.safetensors']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(existsSync(join(out, 'wasm/tfjs-backend-wasm-simd.wasm'))).toBe(true);
  });
});

/** `zero-shot classify --json` for the fixtures, on the kernels a browser has (wasm, no native BLAS). */
async function cliLabels(): Promise<Array<Array<{ label: string; score: number; probability: number }>>> {
  const cli = dirname(fileURLToPath(import.meta.resolve('@moevl/zero-shot-cli/package.json')));
  const bin = join(cli, 'bin/zero-shot.js');
  const args = ['classify', '--model', 'builtin:limoe-fashion-mnist', '--labels', CLASS_NAMES.join(',')];
  args.push('--top', String(CLASS_NAMES.length), '--no-cache', '--json', '--quiet', ...FIXTURES);
  const env = { ...process.env, MOEVL_BACKEND: 'wasm', MOEVL_NATIVE: '0' };
  const { stdout } = await promisify(execFile)(process.execPath, [bin, ...args], { env, timeout: STEP_MS });
  return (JSON.parse(stdout) as { results: Array<{ top: never }> }).results.map((r) => r.top);
}

/** Per fixture and MoE layer, the expert of each patch, from the Node library (same kernels as the page). */
async function nodePatchExperts(): Promise<number[][][]> {
  process.env.MOEVL_NATIVE = '0';
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('@moevl/core');
  const { LIMoEImageTextModel, imagesForModel, loadLIMoE, resolveBuiltinModel, routeImageTokens } =
    await import('@moevl/limoe');
  const { decodeImage, preprocessPilImage } = await import('@moevl/vision');
  await initBackend({ backend: 'wasm' });
  const { model, tokenizer, metadata } = await loadLIMoE(resolveBuiltinModel('limoe-fashion-mnist').path);
  const { preprocess } = new LIMoEImageTextModel(model, tokenizer, metadata);
  try {
    return await Promise.all(
      FIXTURES.map(async (f) => {
        const { data, shape } = preprocessPilImage(await decodeImage(f), preprocess);
        const pixels = tf.tensor4d(data, [1, ...shape]);
        const input = imagesForModel(model, pixels);
        const [routed] = routeImageTokens(model, input);
        tf.dispose([pixels, input]);
        return routed.layers.map((l) => l.tokens.map((t) => t.experts[0]));
      }),
    );
  } finally {
    model.dispose();
  }
}

/** The page's state object (`window.routingExplorer`). */
const pageState = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { routingExplorer: PageState }).routingExplorer);

/** Waits for `state`, or fails with what the page says (its status line, its last error). */
async function waitFor(page: Page, what: string, done: string): Promise<void> {
  try {
    await page.waitForFunction(done, null, { timeout: STEP_MS });
  } catch (err) {
    const state = await pageState(page).catch(() => undefined);
    const status = await page.textContent('#status').catch(() => null);
    throw new Error(
      `the page did not get to "${what}" in ${STEP_MS / 1000} s: status "${status}", state ${JSON.stringify(state)}`,
      {
        cause: err,
      },
    );
  }
  const { error } = await pageState(page);
  if (error !== undefined) throw new Error(`the page failed on the way to "${what}": ${error}`);
}

describe('the page in Chromium', () => {
  it.skipIf(chromium === null)(
    chromium === null
      ? `ranks the fixtures as the Node CLI does — SKIPPED: ${CHROMIUM_HINT}`
      : `ranks the fixtures as the Node CLI does (${chromium})`,
    async () => {
      const { chromium: driver } = await import('playwright-core');
      const [server, expected, experts] = await Promise.all([
        serveStatic(out),
        cliLabels(),
        nodePatchExperts(),
      ]);
      const blocked: string[] = [];
      const problems: string[] = [];
      let browser: Browser | undefined;
      try {
        browser = await driver.launch({
          executablePath: chromium!,
          // Chromium refuses to run as root with its sandbox (CI containers).
          args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
          timeout: STEP_MS,
        });
        const context = await browser.newContext({
          viewport: { width: 1200, height: 900 },
          serviceWorkers: 'block',
        });
        await context.route('**/*', (route) => {
          if (route.request().url().startsWith(server.url)) return route.continue();
          blocked.push(route.request().url());
          return route.abort();
        });
        const page = await context.newPage();
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
        await page.goto(server.url, { timeout: STEP_MS });
        await waitFor(page, 'ready', "['ready', 'error'].includes(window.routingExplorer?.state)");
        await page.fill('#classes', CLASS_NAMES.join(', '));
        for (const [i, fixture] of FIXTURES.entries()) {
          await page.setInputFiles('#file', fixture);
          await waitFor(
            page,
            `classified ${fixture}`,
            `window.routingExplorer.runs > ${i} || window.routingExplorer.state === 'error'`,
          );
          const result = (await pageState(page)).result!;
          expect(result.labels[0].label, fixture).toBe(expected[i][0].label);
          for (const want of expected[i]) {
            const got = result.labels.find((l) => l.label === want.label)!;
            expect(Math.abs(got.score - want.score), `${want.label} score`).toBeLessThanOrEqual(TOLERANCE);
            expect(
              Math.abs(got.probability - want.probability),
              `${want.label} probability`,
            ).toBeLessThanOrEqual(TOLERANCE);
          }
          const diff = Math.max(
            ...expected[i].map((w) =>
              Math.abs(result.labels.find((l) => l.label === w.label)!.score - w.score),
            ),
          );
          console.log(
            `${relative(APP, fixture)}: top-1 ${result.labels[0].label}; largest score difference to the CLI ${diff.toExponential(2)}`,
          );
          expect(result.patches.map((p) => p.block)).toEqual([1, 3]);
          // Every patch went to the expert it goes to in Node.
          expect(result.patches.map((p) => p.experts)).toEqual(experts[i]);
          expect(result.prompts).toHaveLength(CLASS_NAMES.length);
          if (i === 0) {
            await mkdir(join(APP, 'test-results'), { recursive: true });
            const shot = join(APP, 'test-results/routing-explorer.png');
            await page.screenshot({ path: shot, fullPage: true, timeout: STEP_MS });
            // MOEVL_UPDATE_SCREENSHOT=1 refreshes the picture the README shows.
            if (process.env.MOEVL_UPDATE_SCREENSHOT === '1')
              await copyFile(shot, join(REPO, 'docs/routing-explorer.png'));
          }
        }
        expect(blocked, 'requests outside the local server').toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await browser?.close();
        await server.close();
      }
    },
    60_000,
  );
});
