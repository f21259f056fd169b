import { plural } from '../dataset_error.js';
import type { SkippedSample, SkippedSamples, SkipReason } from './types.js';

/** Examples kept in the report: enough to find the problem, bounded however many samples are skipped. */
export const MAX_SKIP_EXAMPLES = 20;

const SKIP_REASONS: readonly SkipReason[] = [
  'missing-image',
  'unreadable-image',
  'too-large',
  'corrupt-image',
  'no-image',
  'no-caption',
  'caption-not-text',
  'bad-row',
  'corrupt-shard',
];

export function emptySkips(): SkippedSamples {
  return { total: 0, byReason: {}, examples: [] };
}

/** A deep copy with `events` added, in order. */
export function addSkips(base: SkippedSamples, events: readonly SkippedSample[]): SkippedSamples {
  const out: SkippedSamples = {
    total: base.total + events.length,
    byReason: { ...base.byReason },
    examples: [...base.examples],
  };
  for (const e of events) {
    out.byReason[e.reason] = (out.byReason[e.reason] ?? 0) + 1;
    if (out.examples.length < MAX_SKIP_EXAMPLES) out.examples.push({ ...e });
  }
  return out;
}

/** True when `value` has the shape `SkippedSamples` (a restored state is checked before it is trusted). */
export function isSkippedSamples(value: unknown): value is SkippedSamples {
  const v = value as SkippedSamples;
  return (
    typeof v === 'object' &&
    v !== null &&
    Number.isInteger(v.total) &&
    typeof v.byReason === 'object' &&
    v.byReason !== null &&
    Object.entries(v.byReason).every(
      ([k, n]) => SKIP_REASONS.includes(k as SkipReason) && Number.isInteger(n),
    ) &&
    Array.isArray(v.examples) &&
    v.examples.every((e) => typeof e?.id === 'string' && typeof e?.reason === 'string')
  );
}

/** `3 missing-image, 1 corrupt-image (e.g. pairs.csv:4: file not found)`, for messages and logs. */
export function describeSkips(s: SkippedSamples): string {
  if (s.total === 0) return 'none';
  const counts = Object.entries(s.byReason).map(([k, n]) => `${(n ?? 0).toLocaleString('en-US')} ${k}`);
  const example = s.examples[0];
  return `${counts.join(', ')}${example ? ` (e.g. ${example.id}: ${example.detail})` : ''}`;
}

/**
 * The skip reason for an image the preprocessing could not use, from `ImagePreprocessError`'s reason
 * (see `read_image.ts` and `decode.ts` for the wording).
 */
export function imageSkipReason(message: string): SkipReason {
  if (/file not found/.test(message)) return 'missing-image';
  if (/over the per-image limit/.test(message)) return 'too-large';
  if (/empty input|not a supported image format|corrupt or unreadable image data/.test(message)) {
    return 'corrupt-image';
  }
  return 'unreadable-image';
}

/** The message of the error for an epoch in which every sample was skipped. */
export function noUsableSamples(where: string, epochSkips: SkippedSamples): string {
  return (
    `None of the ${plural(epochSkips.total, 'sample')} of ${where} could be used: ${describeSkips(epochSkips)}; ` +
    'check that the image paths exist (relative paths are relative to the data file) and the captions are filled in.'
  );
}
