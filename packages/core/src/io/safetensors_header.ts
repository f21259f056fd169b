import { SafetensorsError } from './safetensors_error.js';
import type { SafetensorsDtype } from './safetensors_dtypes.js';
import { isSafetensorsDtype, SAFETENSORS_DTYPE_BYTES } from './safetensors_dtypes.js';

/** The reserved header key holding free-form string metadata rather than a tensor. */
export const METADATA_KEY = '__metadata__';

/** One validated tensor entry; `begin`/`end` are byte offsets into the data buffer (after the header). */
export interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface ValidatedHeader {
  /** Entries in data order (sorted by offset). */
  entries: TensorEntry[];
  metadata: Record<string, string>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function validateMetadata(value: unknown, source: string): Record<string, string> {
  // The reference implementation reads `__metadata__` as an optional map, so `null` means "none".
  if (value === null) return {};
  if (!isPlainObject(value)) {
    throw new SafetensorsError(
      source,
      `"${METADATA_KEY}" must be an object of strings, got ${describe(value)}`,
    );
  }
  const entries = Object.entries(value);
  for (const [key, v] of entries) {
    if (typeof v !== 'string') {
      throw new SafetensorsError(
        source,
        `"${METADATA_KEY}" value for key "${key}" must be a string, got ${describe(v)}`,
      );
    }
  }
  // fromEntries defines own properties, so a key such as "__proto__" cannot touch the prototype.
  return Object.fromEntries(entries) as Record<string, string>;
}

function validateEntry(name: string, value: unknown, source: string): TensorEntry {
  const fail = (problem: string): SafetensorsError =>
    new SafetensorsError(source, `tensor "${name}": ${problem}`);
  if (!isPlainObject(value)) throw fail(`entry must be an object, got ${describe(value)}`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') throw fail(`"dtype" must be a string, got ${describe(dtype)}`);
  if (!Array.isArray(shape)) throw fail(`"shape" must be an array, got ${describe(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    throw fail(`"data_offsets" must be an array [begin, end], got ${describe(offsets)}`);
  }
  if (!isSafetensorsDtype(dtype)) {
    const known = Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ');
    throw fail(`unknown or unsupported dtype "${dtype}" (supported: ${known})`);
  }
  for (const dim of shape) {
    if (!isNonNegativeInteger(dim)) {
      throw fail(
        `shape ${describe(shape)} has dimension ${describe(dim)}; dimensions must be non-negative integers`,
      );
    }
  }
  const [begin, end] = offsets;
  if (!isNonNegativeInteger(begin) || !isNonNegativeInteger(end)) {
    throw fail(`data_offsets ${describe(offsets)} must be non-negative integers`);
  }
  if (begin > end) throw fail(`data_offsets [${begin}, ${end}] begin after they end`);
  return { name, dtype, shape: shape as number[], begin, end };
}

/**
 * Checks one entry's byte length against its shape. The element count is computed in BigInt so the
 * comparison stays exact (and the message truthful) for any shape a hostile header declares, however large.
 */
function checkByteLength(entry: TensorEntry, source: string): void {
  const elementBytes = SAFETENSORS_DTYPE_BYTES[entry.dtype];
  const expected = entry.shape.reduce((n, dim) => n * BigInt(dim), 1n) * BigInt(elementBytes);
  const actual = entry.end - entry.begin;
  if (BigInt(actual) !== expected) {
    throw new SafetensorsError(
      source,
      `tensor "${entry.name}": byte length ${actual} (data_offsets [${entry.begin}, ${entry.end}]) ` +
        `does not match shape [${entry.shape.join(', ')}] of ${entry.dtype} (${expected} bytes)`,
    );
  }
}

/**
 * Checks that the tensors tile the data buffer exactly: sorted by offset, each one starts where the previous
 * ended, the first at 0 and the last at the end. The reference implementation demands the same, because
 * overlapping tensors alias each other and gaps hide data no tensor accounts for; either means a corrupt or
 * tampered file. Zero-size tensors may sit at any boundary.
 */
function checkLayout(entries: TensorEntry[], dataLength: number, source: string): void {
  let covered = 0;
  let previous: TensorEntry | undefined;
  for (const entry of entries) {
    if (entry.begin < covered) {
      throw new SafetensorsError(
        source,
        `tensors "${previous?.name}" and "${entry.name}" overlap ` +
          `(bytes ${entry.begin}..${Math.min(covered, entry.end)} of the data buffer belong to both)`,
      );
    }
    if (entry.begin > covered) {
      throw new SafetensorsError(
        source,
        `hole in the data buffer: bytes ${covered}..${entry.begin} (before tensor "${entry.name}") ` +
          `belong to no tensor; the format requires the tensors to cover the data exactly`,
      );
    }
    covered = entry.end;
    previous = entry;
  }
  if (covered !== dataLength) {
    throw new SafetensorsError(
      source,
      `hole in the data buffer: bytes ${covered}..${dataLength} at the end belong to no tensor; the format ` +
        `requires the tensors to cover the data exactly`,
    );
  }
}

/**
 * Validates a parsed header against a data buffer of `dataLength` bytes: entry shapes and types, offsets in
 * range, byte lengths matching shapes, and exact coverage of the buffer. Throws `SafetensorsError` naming
 * `source` and the offending tensor.
 */
export function validateHeader(header: unknown, dataLength: number, source: string): ValidatedHeader {
  if (!isPlainObject(header)) {
    throw new SafetensorsError(source, `header must be a JSON object, got ${describe(header)}`);
  }
  let metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      metadata = validateMetadata(value, source);
      continue;
    }
    const entry = validateEntry(name, value, source);
    if (entry.end > dataLength) {
      throw new SafetensorsError(
        source,
        `tensor "${name}": data_offsets [${entry.begin}, ${entry.end}] run past the end of the data buffer ` +
          `(${dataLength} bytes)`,
      );
    }
    checkByteLength(entry, source);
    entries.push(entry);
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  checkLayout(entries, dataLength, source);
  return { entries, metadata };
}
