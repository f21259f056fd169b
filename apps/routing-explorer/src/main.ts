// The routing explorer page: wiring only (DOM events → explorer.ts → render.ts).
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { PilImage } from '@moevl/vision';
import { decodeImageFile, grayPilImage } from './decode.js';
import { type Explorer, type ExplorerResult, loadExplorer, parseClassNames } from './explorer.js';
import type { PageState } from './page_state.js';
import { renderLabels, renderLegend, renderRouting } from './render.js';

declare global {
  interface Window {
    routingExplorer: PageState;
  }
}

const page: PageState = { state: 'loading', runs: 0 };
window.routingExplorer = page;

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = byId<HTMLParagraphElement>('status');
const classes = byId<HTMLTextAreaElement>('classes');
const template = byId<HTMLSelectElement>('template');
const fileInput = byId<HTMLInputElement>('file');
const drop = byId<HTMLDivElement>('drop');
const preview = byId<HTMLImageElement>('preview');

let explorer: Explorer | undefined;
let image: { pil: PilImage; name: string } | undefined;
let queue = Promise.resolve();

function say(text: string, state?: PageState['state'], error?: string): void {
  status.textContent = text;
  status.className = state === 'error' ? 'error' : '';
  if (state !== undefined) page.state = state;
  if (error !== undefined) page.error = error;
}

const firstChoices = (layers: ExplorerResult['image']['layers']) =>
  layers.map((l) => ({ block: l.block, experts: l.tokens.map((t) => t.experts[0]) }));

async function classify(): Promise<void> {
  if (explorer === undefined || image === undefined) return;
  const classNames = parseClassNames(classes.value);
  if (classNames.length < 2) return say('Type at least two class names, separated by commas.');
  page.error = undefined;
  say(`Classifying ${image.name}…`, 'running');
  try {
    const result = await explorer.classify(image.pil, classNames, template.value);
    const { mean, std } = explorer.model.preprocess;
    byId('labels-out').replaceChildren(renderLabels(result.labels));
    byId('routing-out').replaceChildren(
      renderLegend(result.image.layers[0]?.numExperts ?? 0),
      renderRouting(result, mean, std),
    );
    page.result = {
      image: image.name,
      classNames,
      labels: result.labels,
      patches: firstChoices(result.image.layers),
      prompts: result.texts.map((t) => ({ text: t.text, pieces: t.pieces, experts: firstChoices(t.layers) })),
      milliseconds: result.milliseconds,
    };
    page.runs += 1;
    const best = result.labels[0];
    say(
      `${image.name}: ${best.label} (${(100 * best.probability).toFixed(1)}%), ${result.milliseconds.toFixed(0)} ms`,
      'done',
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    say(`Could not classify ${image.name}: ${message}`, 'error', message);
  }
}

/** Runs classifications one after another, so a quick second drop waits for the first. */
const schedule = () => (queue = queue.then(classify));

async function useFile(file: File): Promise<void> {
  try {
    image = { pil: await decodeImageFile(file), name: file.name };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return say(`${file.name}: ${message}`, 'error', message);
  }
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  schedule();
}

fileInput.addEventListener('change', () => {
  const file = fileInput.files?.[0];
  if (file) void useFile(file);
});
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer?.files[0];
  if (file) void useFile(file);
});
byId('run').addEventListener('click', schedule);
template.addEventListener('change', schedule);

/** One Fashion-MNIST test image per class (written by the build), as buttons. */
async function showSamples(): Promise<void> {
  const samples = (await (await fetch('samples.json')).json()) as Array<{
    label: string;
    side: number;
    pixels: string;
  }>;
  const row = byId('samples');
  for (const s of samples) {
    const pixels = Uint8Array.from(atob(s.pixels), (c) => c.charCodeAt(0));
    const canvas = document.createElement('canvas');
    [canvas.width, canvas.height] = [s.side, s.side];
    const img = new ImageData(s.side, s.side);
    pixels.forEach((v, i) => img.data.set([v, v, v, 255], 4 * i));
    canvas.getContext('2d')!.putImageData(img, 0, 0);
    const button = document.createElement('button');
    button.className = 'sample';
    button.title = `Fashion-MNIST test image (${s.label})`;
    button.append(canvas);
    button.addEventListener('click', () => {
      image = { pil: grayPilImage(pixels, s.side), name: `sample (${s.label})` };
      preview.src = canvas.toDataURL();
      preview.hidden = false;
      schedule();
    });
    row.append(button);
  }
}

async function start(): Promise<void> {
  // tfjs' wasm binaries are served beside the page: nothing comes from a CDN.
  setWasmPaths(new URL('wasm/', document.baseURI).href);
  explorer = await loadExplorer(new URL('model/', document.baseURI));
  const { entry, backend } = explorer;
  classes.value = entry.classNames.join(', ');
  template.replaceChildren(...entry.templates.map((t) => new Option(t, t)));
  page.backend = `${backend.backend} (tfjs ${backend.tfjsVersion}, ${backend.matmul.name})`;
  byId('model').textContent = `builtin:${entry.name} — ${entry.description}. Engine: ${page.backend}.`;
  await showSamples();
  say('Ready: drop an image, choose a file or click a sample.', 'ready');
}

start().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  say(`The model could not start: ${message}`, 'error', message);
});
