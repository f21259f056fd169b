/**
 * One colour per expert (Tableau 10, then the same hues darker), so experts keep their colour across layers,
 * patches and tokens.
 */
const BASE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

export function expertColour(expert: number): string {
  if (expert < 0) return '#000000';
  const hue = BASE[expert % BASE.length];
  return expert < BASE.length ? hue : shade(hue, 0.6);
}

function shade(hex: string, f: number): string {
  const v = Number.parseInt(hex.slice(1), 16);
  const c = [v >> 16, (v >> 8) & 255, v & 255].map((x) => Math.round(x * f));
  return `#${c.map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

/** Black or white, whichever reads better on the expert's colour. */
export function textColourOn(expert: number): string {
  const v = Number.parseInt(expertColour(expert).slice(1), 16);
  const [r, g, b] = [v >> 16, (v >> 8) & 255, v & 255];
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? '#1d1d1f' : '#ffffff';
}
