import { createHash } from 'node:crypto';

/**
 * sha256 (hex) of a JSON-serialisable value. Cache keys and run fingerprints hash the exact values (class
 * names, templates, configs — not just their counts), so a renamed class, an edited template or another
 * configuration can never reuse a stale cache entry or resume someone else's run.
 */
export function sha256Json(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
