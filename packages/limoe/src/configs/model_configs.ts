import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closest } from '@moevl/core';
import { type LIMoEModelConfig, validateModelConfigFile } from './model_config_file.js';
import { ModelConfigError } from './model_config_error.js';

// dist/configs/*.js and src/configs/*.ts are both two levels below the package root.
const CONFIG_DIR = fileURLToPath(new URL('../../model_configs/', import.meta.url));

/** The named model configs this package ships (`model_configs/NAME.json`), sorted by name. */
export function listLIMoEModelConfigs(): Array<{ name: string; description: string; path: string }> {
  if (!existsSync(CONFIG_DIR)) return [];
  return readdirSync(CONFIG_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const path = resolve(CONFIG_DIR, f);
      const name = f.slice(0, -'.json'.length);
      return { name, description: readModelConfigFile(path, name).description, path };
    });
}

/** Whether a `--model` value names a config file rather than a preset. */
export function isModelConfigPath(spec: string): boolean {
  return /\.json$/i.test(spec) || /[\\/]/.test(spec);
}

function readModelConfigFile(path: string, name: string): LIMoEModelConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelConfigError(
      code === 'ENOENT'
        ? `The model config ${path} does not exist; check the path, or name a preset (zero-shot models lists them).`
        : `Cannot read the model config ${path} (${code ?? (err as Error).message}).`,
      path,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelConfigError(`${path} is not valid JSON (${(err as Error).message}).`, path);
  }
  return validateModelConfigFile(json, path, name);
}

/**
 * A model config by preset name (`limoe-ti-16`, `dense-s-16`, `two-tower-b-16`, `limoe-cpu-tiny`, …) or
 * by the path of a JSON file in the same form. An unknown name says which preset it is closest to and
 * lists them all.
 */
export function resolveLIMoEModelConfig(spec: string): LIMoEModelConfig {
  if (isModelConfigPath(spec)) {
    const path = resolve(spec);
    return readModelConfigFile(path, path);
  }
  const names = listLIMoEModelConfigs().map((c) => c.name);
  if (!names.includes(spec)) {
    const guess = closest(spec, names);
    throw new ModelConfigError(
      `Unknown model config "${spec}"${guess ? ` (did you mean "${guess}"?)` : ''}; the presets are ` +
        `${names.join(', ')}, or pass the path of a JSON config file.`,
      spec,
      null,
      names,
    );
  }
  return readModelConfigFile(resolve(CONFIG_DIR, `${spec}.json`), spec);
}

/** The preset name or file name a config is known by in logs. */
export function modelConfigLabel(config: LIMoEModelConfig): string {
  return config.name === config.path ? basename(config.path) : config.name;
}
