/** Small formatters shared by the human-readable outputs (JSON output keeps raw numbers). */

/** `0.63214` → `63.21%`; null (undefined metric) → the reason given. */
export function percent(x: number | null | undefined, whenNull = 'n/a'): string {
  return x == null ? whenNull : `${(100 * x).toFixed(2)}%`;
}

/** Seconds as people read them: `0.42 s`, `12.3 s`, `6 min 53 s`, `1 h 02 min`. */
export function duration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** `1,234` */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Label/value rows with the values aligned in one column. */
export function formatRows(rows: ReadonlyArray<readonly [string, string]>, indent = '  '): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(width)}  ${v}`).join('\n');
}

/** Pretty JSON with a trailing newline: what `--json` prints and `--out` files hold. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
