import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClipLoadError } from './clip_load_error.js';
import { clipOnnxFiles, dtypesInListing } from './dtypes.js';
import type { ClipDtype, ClipOnnxFiles } from './dtypes.js';

/** Where a model comes from: a folder on this machine, or a Hugging Face Hub repository id. */
export type ClipSource = { kind: 'local'; dir: string } | { kind: 'hub'; id: string; resolvedPath: string };

/** The metadata files every transformers.js CLIP folder has, whatever its ONNX layout. */
export const CLIP_METADATA_FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'preprocessor_config.json',
] as const;

/** transformers.js's own test for a hub id (`owner/name` or a bare legacy `name`). */
const HUB_ID = /^(\b[\w\-.]+\b\/)?\b[\w\-.]{1,96}\b$/;

/**
 * Decide whether `modelIdOrPath` is a local folder or a hub id. An existing directory always wins (so
 * `models/clip` works even though it also looks like `owner/name`); something that can only be a path
 * (absolute, `./`, `~`, more than one `/`) and does not exist is reported as a missing folder here, rather
 * than turning into a confusing download attempt.
 */
export function resolveClipSource(modelIdOrPath: string, cwd: string = process.cwd()): ClipSource {
  if (typeof modelIdOrPath !== 'string' || modelIdOrPath.trim() === '') {
    throw new ClipLoadError('loadTransformersClip: expected a model folder or a hub id, got an empty value.');
  }
  const input = modelIdOrPath.startsWith('file://') ? fileURLToPath(modelIdOrPath) : modelIdOrPath;
  const resolved = path.resolve(cwd, input);
  if (existsSync(resolved)) {
    if (!statSync(resolved).isDirectory()) {
      throw new ClipLoadError(
        `${resolved} is a file; pass the model folder that holds config.json and onnx/ instead.`,
        resolved,
      );
    }
    return { kind: 'local', dir: resolved };
  }
  const looksLikePath =
    path.isAbsolute(input) ||
    /^\.{1,2}([\\/]|$)|^~/.test(input) ||
    input.includes('\\') ||
    !HUB_ID.test(input) ||
    input.includes('..') ||
    input.includes('--');
  if (looksLikePath) {
    throw new ClipLoadError(
      `Model folder not found: ${resolved}. Pass a folder with ${CLIP_METADATA_FILES.join(', ')} and ` +
        `onnx/*.onnx, or a Hugging Face Hub id such as "Xenova/clip-vit-base-patch32".`,
      resolved,
    );
  }
  return { kind: 'hub', id: input, resolvedPath: resolved };
}

/** Which graphs a model is run with: the two towers' own files, or the combined CLIPModel graph. */
export type ClipLayout = 'separate' | 'combined';

/**
 * Check a local folder before transformers.js opens it, so a missing file is reported with the full list
 * of what is expected (transformers.js reports one path at a time) and the dtypes the folder does have.
 */
export function inspectLocalFolder(dir: string, dtype: ClipDtype, combined: 'auto' | boolean): ClipLayout {
  const files = clipOnnxFiles(dtype);
  const has = (f: string) => existsSync(path.join(dir, f));
  const missingMeta = CLIP_METADATA_FILES.filter((f) => !has(f));
  const separate = has(files.text) && has(files.vision);
  const layout: ClipLayout | undefined =
    combined === true
      ? has(files.combined)
        ? 'combined'
        : undefined
      : combined === false
        ? separate
          ? 'separate'
          : undefined
        : separate
          ? 'separate'
          : has(files.combined)
            ? 'combined'
            : undefined;
  if (missingMeta.length === 0 && layout !== undefined) return layout;

  const missing: string[] = [...missingMeta];
  if (layout === undefined) missing.push(...expectedOnnx(files, combined).filter((f) => !has(f)));
  throw new ClipLoadError(
    `Model folder ${dir} is missing ${missing.join(', ')}. ` +
      `Expected ${CLIP_METADATA_FILES.join(', ')} and ${describeOnnx(files, combined)} ` +
      `(dtype "${dtype}"). ${describeAvailable(dir)}`,
    dir,
  );
}

/**
 * The files a local CLIP folder is run from with `dtype` (metadata + the ONNX graphs of the layout chosen
 * as `loadTransformersClip` chooses it), as absolute paths: what a content hash of the model must cover.
 */
export function localClipModelFiles(
  dir: string,
  dtype: ClipDtype = 'fp32',
  combined: 'auto' | boolean = 'auto',
): string[] {
  const layout = inspectLocalFolder(dir, dtype, combined);
  const onnx = clipOnnxFiles(dtype);
  const graphs = layout === 'combined' ? [onnx.combined] : [onnx.text, onnx.vision];
  return [...CLIP_METADATA_FILES, ...graphs].map((f) => path.join(dir, f));
}

function expectedOnnx(files: ClipOnnxFiles, combined: 'auto' | boolean): string[] {
  if (combined === true) return [files.combined];
  if (combined === false) return [files.text, files.vision];
  return [files.text, files.vision, files.combined];
}

function describeOnnx(files: ClipOnnxFiles, combined: 'auto' | boolean): string {
  if (combined === true) return files.combined;
  if (combined === false) return `${files.text} + ${files.vision}`;
  return `either ${files.text} + ${files.vision} or ${files.combined}`;
}

function describeAvailable(dir: string): string {
  const onnxDir = path.join(dir, 'onnx');
  if (!existsSync(onnxDir)) return `There is no onnx/ folder in ${dir}.`;
  const names = readdirSync(onnxDir).filter((f) => f.endsWith('.onnx'));
  if (names.length === 0) return `${onnxDir} holds no .onnx files.`;
  const dtypes = dtypesInListing(names);
  return (
    `${onnxDir} holds ${names.sort().join(', ')}` +
    (dtypes.length > 0 ? ` (dtypes available: ${dtypes.join(', ')}).` : '.')
  );
}

/** Read and parse a JSON file, with errors that name the file and say what went wrong. */
export function readJsonFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ClipLoadError(`Cannot read ${file}: ${(e as Error).message}`, file, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ClipLoadError(`${file} is not valid JSON: ${(e as Error).message}`, file, { cause: e });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ClipLoadError(`${file} must hold a JSON object.`, file);
  }
  return value as Record<string, unknown>;
}
