import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUILTIN_MODEL_CATALOG, type BuiltinModelEntry } from './builtin_catalog.js';

export { BUILTIN_PREFIX } from './builtin_catalog.js';

/** A model file that ships inside this package, addressable as `builtin:<name>`. */
export interface BuiltinModel extends Omit<BuiltinModelEntry, 'file'> {
  /** Absolute path of the safetensors file (`saveLIMoE` format). */
  path: string;
}

// Resolved from the compiled module: dist/io/builtin.js → ../../checkpoints (and src/io under vitest).
const checkpoint = (file: string) => fileURLToPath(new URL(`../../checkpoints/${file}`, import.meta.url));

/** The builtin models whose files are present in this installation. */
export function builtinModels(): BuiltinModel[] {
  return BUILTIN_MODEL_CATALOG.map(({ file, ...m }) => ({ ...m, path: checkpoint(file) })).filter((m) =>
    existsSync(m.path),
  );
}

/** A builtin model by name; an unknown name lists the available ones. */
export function resolveBuiltinModel(name: string): BuiltinModel {
  const found = builtinModels().find((m) => m.name === name);
  if (found != null) return found;
  const names = builtinModels().map((m) => m.name);
  throw new Error(
    names.length > 0
      ? `Unknown builtin model "${name}"; available: ${names.join(', ')}.`
      : `No builtin models are installed with @moevl/limoe (looked for ${BUILTIN_MODEL_CATALOG.map((m) => m.file).join(', ')}).`,
  );
}
