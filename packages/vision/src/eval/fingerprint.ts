import { createHash } from 'node:crypto';

/**
 * sha256 (hex) of a JSON-serialisable value. Cache keys and run fingerprints hash the exact class names and
 * templates (not just their counts), so a renamed class or an edited template can never reuse a stale
 * classifier or resume someone else's partial predictions.
 */
export function sha256Json(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
