/**
 * A small YAML writer for the manifests `zero-shot cluster k8s` prints: block style, every string
 * double-quoted as JSON (JSON strings are YAML 1.2 scalars, so no value is ever read back as a number, a
 * boolean or `null`, and nothing needs a YAML library at run time).
 */

const pad = (n: number) => ' '.repeat(n);

function key(k: string): string {
  return /^[A-Za-z_][\w./-]*$/.test(k) ? k : JSON.stringify(k);
}

/** The inline form of a scalar (or an empty list or map); undefined for what needs a block. */
function inline(value: unknown): string | undefined {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`toYaml: ${value} is not a finite number`);
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined;
  if (typeof value === 'object') return Object.keys(value).length === 0 ? '{}' : undefined;
  throw new TypeError(`toYaml: cannot write a ${typeof value}`);
}

function block(value: object, indent: number): string[] {
  const out: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      const s = inline(item);
      if (s !== undefined) {
        out.push(`${pad(indent)}- ${s}`);
      } else {
        const inner = block(item as object, indent + 2);
        inner[0] = `${pad(indent)}- ${inner[0].slice(indent + 2)}`;
        out.push(...inner);
      }
    }
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const s = inline(v);
    if (s !== undefined) out.push(`${pad(indent)}${key(k)}: ${s}`);
    else out.push(`${pad(indent)}${key(k)}:`, ...block(v as object, indent + 2));
  }
  return out;
}

/** One YAML document for a map (a Kubernetes object). */
export function toYaml(value: Record<string, unknown>): string {
  return block(value, 0).join('\n') + '\n';
}
