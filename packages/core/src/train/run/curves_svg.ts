/**
 * Training curves as an SVG: panels stacked over one step axis (loss, validation metrics, …), each with
 * its own y range and a line per series. Pure string output with no dependencies, like the router's usage
 * heatmap, so any trainer can write it next to its `log.jsonl`.
 */

export interface CurveSeries {
  name: string;
  /** `[step, value]`; points whose value is not finite are left out. */
  points: ReadonlyArray<readonly [number, number]>;
}

export interface CurvePanel {
  title: string;
  series: CurveSeries[];
}

export interface CurvesSvgOptions {
  title?: string;
  /** Plot area of each panel, in px. Default 560 × 160. */
  width?: number;
  height?: number;
}

/** Colours that stay apart for the common colour-vision deficiencies (Okabe–Ito). */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

function escapeXml(s: string): string {
  return s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );
}

/** A short label: 3 significant digits, no exponent for everyday magnitudes. */
function label(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

export function trainingCurvesSvg(panels: readonly CurvePanel[], options: CurvesSvgOptions = {}): string {
  const w = options.width ?? 560;
  const h = options.height ?? 160;
  const left = 64;
  const top = options.title ? 36 : 12;
  const gap = 56;
  const all = panels.flatMap((p) => p.series.flatMap((s) => s.points.filter(([, y]) => Number.isFinite(y))));
  if (all.length === 0) throw new Error('trainingCurvesSvg: no finite point to draw.');
  const xMin = Math.min(...all.map(([x]) => x));
  const xMax = Math.max(xMin + 1, ...all.map(([x]) => x));
  const width = left + w + 24;
  const height = top + panels.length * (h + gap);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (options.title) out.push(`<text x="${left}" y="20" font-size="13">${escapeXml(options.title)}</text>`);
  panels.forEach((panel, p) => {
    const y0 = top + p * (h + gap) + 18;
    const points = panel.series.flatMap((s) => s.points.filter(([, y]) => Number.isFinite(y)));
    let yMin = Math.min(...points.map(([, y]) => y));
    let yMax = Math.max(...points.map(([, y]) => y));
    if (!(yMax > yMin)) [yMin, yMax] = [yMin - 0.5, yMax + 0.5];
    const sx = (x: number) => left + ((x - xMin) / (xMax - xMin)) * w;
    const sy = (y: number) => y0 + h - ((y - yMin) / (yMax - yMin)) * h;
    out.push(`<text x="${left}" y="${y0 - 6}">${escapeXml(panel.title)}</text>`);
    out.push(`<rect x="${left}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
    for (const v of [yMin, (yMin + yMax) / 2, yMax]) {
      out.push(`<text x="${left - 6}" y="${sy(v) + 4}" text-anchor="end">${label(v)}</text>`);
    }
    for (const x of [xMin, xMax]) {
      out.push(`<text x="${sx(x)}" y="${y0 + h + 14}" text-anchor="middle">${label(x)}</text>`);
    }
    out.push(`<text x="${left + w / 2}" y="${y0 + h + 28}" text-anchor="middle">step</text>`);
    panel.series.forEach((s, i) => {
      const colour = COLOURS[i % COLOURS.length];
      const pts = s.points.filter(([, y]) => Number.isFinite(y));
      if (pts.length === 1) {
        const [x, y] = pts[0];
        out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${colour}"/>`);
      } else if (pts.length > 1) {
        const d = pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
        out.push(`<polyline points="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
      }
      const lx = left + w - 150;
      const ly = y0 + 14 + i * 14;
      out.push(
        `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 16}" y2="${ly - 4}" stroke="${colour}" stroke-width="2"/>`,
      );
      out.push(`<text x="${lx + 20}" y="${ly}">${escapeXml(s.name)}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
