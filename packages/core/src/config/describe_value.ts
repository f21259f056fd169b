/**
 * A value as an error message shows it after "got": numbers as written (`NaN`, `Infinity`, `-0` stay
 * visible, where JSON would print `null` or `0`), text in quotes so `"3"` is told from `3`, and anything
 * else as JSON (cut at 80 characters) so a config's mistake reads as the config spelled it.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json === undefined) return String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}
