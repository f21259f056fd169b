import type { LayerTokenRouting, TextTokenRouting } from '@moevl/limoe';
import type { ZeroShotLabel } from '@moevl/vision';
import type { ExplorerResult } from './explorer.js';
import { expertColour, textColourOn } from './palette.js';

/** Pixels per model-input pixel in the routing pictures (28 × 8 = 224). */
const SCALE = 8;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  children: Array<Node | string> = [],
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** The ranked labels: probability bar, probability and logit, the best first. */
export function renderLabels(labels: readonly ZeroShotLabel[]): HTMLTableElement {
  const head = el('tr', {}, [
    el('th', { textContent: 'label' }),
    el('th', { textContent: 'probability' }),
    el('th', { textContent: 'score' }),
  ]);
  const rows = labels.map((l, i) => {
    const bar = el('span', { className: 'bar' });
    bar.style.width = `${(100 * l.probability).toFixed(1)}%`;
    return el('tr', { className: i === 0 ? 'top' : '' }, [
      el('td', { textContent: l.label }),
      el('td', { className: 'prob' }, [
        bar,
        el('span', { textContent: `${(100 * l.probability).toFixed(2)}%` }),
      ]),
      el('td', { className: 'num', textContent: l.score.toFixed(4) }),
    ]);
  });
  return el('table', { id: 'labels' }, [el('thead', {}, [head]), el('tbody', {}, rows)]);
}

/** The colour key: which colour is which expert. */
export function renderLegend(numExperts: number): HTMLElement {
  const chips = Array.from({ length: numExperts }, (_, e) => {
    const chip = el('span', { className: 'chip', textContent: `expert ${e}` });
    chip.style.setProperty('--c', expertColour(e));
    return chip;
  });
  return el('div', { className: 'legend' }, chips);
}

/** The model's input, enlarged, with each patch tinted by the expert it went to and numbered. */
function imageLayerCanvas(
  result: ExplorerResult,
  layer: LayerTokenRouting,
  mean: number[],
  std: number[],
): HTMLCanvasElement {
  const [c, h, w] = result.input.shape;
  const { data } = result.input;
  const canvas = el('canvas', { width: w * SCALE, height: h * SCALE, className: 'routed' });
  const ctx = canvas.getContext('2d')!;
  const img = new ImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) {
      const ch = c === 1 ? 0 : k;
      img.data[4 * i + k] = Math.round(255 * (data[ch * h * w + i] * std[ch] + mean[ch]));
    }
    img.data[4 * i + 3] = 255;
  }
  const small = el('canvas', { width: w, height: h });
  small.getContext('2d')!.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, w * SCALE, h * SCALE);
  const [rows, cols] = result.image.grid;
  const p = result.image.patchSize * SCALE;
  ctx.font = `${Math.max(10, p / 4)}px system-ui, sans-serif`;
  layer.tokens.forEach((t, i) => {
    const [x, y] = [(i % cols) * p, Math.floor(i / cols) * p];
    const expert = t.experts[0];
    ctx.globalAlpha = 0.45;
    ctx.fillStyle = expertColour(expert);
    ctx.fillRect(x, y, p, p);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = '#ffffff';
    ctx.strokeRect(x + 0.5, y + 0.5, p - 1, p - 1);
    ctx.fillStyle = '#ffffff';
    ctx.fillText(expert < 0 ? '×' : String(expert), x + 4, y + p / 4 + 2);
  });
  canvas.dataset.grid = `${rows}x${cols}`;
  return canvas;
}

/** A prompt's tokens, each on its expert's colour. */
function tokenRow(text: TextTokenRouting, layer: number): HTMLElement {
  const chips = text.pieces.map((piece, i) => {
    const expert = text.layers[layer].tokens[i].experts[0];
    const chip = el('span', { className: 'token', title: `expert ${expert}` }, [
      piece,
      el('sub', { textContent: String(expert) }),
    ]);
    chip.style.setProperty('--c', expertColour(expert));
    chip.style.color = textColourOn(expert);
    return chip;
  });
  return el('div', { className: 'tokens' }, chips);
}

/** Per MoE layer: the image's patches and every prompt's tokens. */
export function renderRouting(result: ExplorerResult, mean: number[], std: number[]): HTMLElement {
  const layers = result.image.layers.map((layer, l) =>
    el('section', { className: 'layer' }, [
      el('h3', { textContent: `MoE layer in block ${layer.block}` }),
      el('div', { className: 'layer-body' }, [
        imageLayerCanvas(result, layer, mean, std),
        el(
          'div',
          { className: 'prompts' },
          result.texts.map((t) => tokenRow(t, l)),
        ),
      ]),
    ]),
  );
  return el('div', { id: 'layers' }, layers);
}
