/**
 * An SVG heatmap of a usage matrix (rows: modalities or tasks, columns: experts), the picture the LIMoE
 * and Mod-Squad papers use to show expert specialisation. Pure string output, no dependencies, so both
 * training packages and the CLI can write it next to the JSON metrics.
 */
export interface UsageHeatmapOptions {
  title?: string;
  rowLabels?: string[];
  colLabels?: string[];
  /** Normalise each row to shares (default true): rows then read as "where does this modality go". */
  normalizeRows?: boolean;
  /** Cell size in px. Default 28. */
  cell?: number;
}

function escapeXml(s: string): string {
  return s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );
}

/** White → dark blue; readable in print and for most colour-vision deficiencies. */
function colour(v: number): string {
  const t = Math.max(0, Math.min(1, v));
  const r = Math.round(247 - t * (247 - 8));
  const g = Math.round(251 - t * (251 - 48));
  const b = Math.round(255 - t * (255 - 107));
  return `rgb(${r},${g},${b})`;
}

export function usageHeatmapSvg(
  matrix: ReadonlyArray<ReadonlyArray<number>>,
  options: UsageHeatmapOptions = {},
): string {
  const rows = matrix.length;
  const cols = rows === 0 ? 0 : matrix[0].length;
  if (rows === 0 || cols === 0 || matrix.some((r) => r.length !== cols)) {
    throw new Error(`usageHeatmapSvg: expected a non-empty rectangular matrix, got ${rows} row(s).`);
  }
  if (matrix.some((r) => r.some((v) => !Number.isFinite(v) || v < 0))) {
    throw new Error('usageHeatmapSvg: values must be finite and ≥ 0 (counts or shares).');
  }
  const cell = options.cell ?? 28;
  const rowLabels = options.rowLabels ?? matrix.map((_, i) => `row ${i}`);
  const colLabels = options.colLabels ?? matrix[0].map((_, j) => `${j}`);
  const normalize = options.normalizeRows ?? true;
  const values = matrix.map((r) => {
    const total = r.reduce((a, b) => a + b, 0);
    return normalize ? r.map((v) => (total > 0 ? v / total : 0)) : r.slice();
  });
  const max = Math.max(...values.flat(), 1e-12);
  const left = 12 + 7 * Math.max(...rowLabels.map((l) => l.length));
  const top = options.title ? 44 : 24;
  const width = Math.max(left + cols * cell + 12, left + 8 * (options.title?.length ?? 0));
  const height = top + rows * cell + 28;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (options.title)
    parts.push(
      `<text x="${left}" y="18" font-size="13" font-weight="bold">${escapeXml(options.title)}</text>`,
    );
  values.forEach((r, i) => {
    parts.push(
      `<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(rowLabels[i] ?? '')}</text>`,
    );
    r.forEach((v, j) => {
      const shown = normalize ? `${(100 * v).toFixed(1)}%` : `${matrix[i][j]}`;
      parts.push(
        `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell - 1}" height="${cell - 1}" fill="${colour(v / max)}"><title>${escapeXml(
          `${rowLabels[i]} → ${colLabels[j]}: ${shown}`,
        )}</title></rect>`,
      );
    });
  });
  colLabels.forEach((l, j) => {
    parts.push(
      `<text x="${left + j * cell + cell / 2}" y="${top + rows * cell + 14}" text-anchor="middle">${escapeXml(l)}</text>`,
    );
  });
  parts.push(
    `<text x="${left}" y="${height - 2}" fill="#555">experts →${normalize ? ' (row shares)' : ''}</text>`,
    '</svg>',
  );
  return parts.join('\n');
}
