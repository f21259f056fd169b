import * as tf from '@tensorflow/tfjs';
import { platform } from '#platform';
import { type MatmulPath, matmulPath } from './matmul_kernels.js';
import { registerWasmKernels } from './wasm_kernels.js';

/** The engines moevl can run on, fastest first. `tensorflow*` are optional packages the user installs. */
export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface InitBackendOptions {
  /** Force one backend; defaults to `process.env.MOEVL_BACKEND`, else the first that loads. */
  backend?: BackendName;
  /** Print the report to stderr. */
  print?: boolean;
}

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** Why it was chosen or skipped, in words a user can act on. */
  reason: string;
}

export interface BackendReport {
  /** The moevl name of the backend that runs. */
  backend: BackendName;
  /** The tfjs backend name (`tensorflow`, `wasm` or `cpu`). */
  tfjsBackend: string;
  /** Every backend considered, in order, with why it was used or skipped. */
  attempts: BackendAttempt[];
  tfjsVersion: string;
  /** Which kernels run matrix products (on wasm: the native BLAS or tfjs-wasm's own) and why. */
  matmul: MatmulPath;
}

const INSTALL_HINT: Record<BackendName, string> = {
  'tensorflow-gpu': 'npm i @tensorflow/tfjs-node-gpu (needs CUDA 11.2 + cuDNN 8)',
  tensorflow: 'npm i @tensorflow/tfjs-node',
  wasm: 'npm i @tensorflow/tfjs-backend-wasm',
  cpu: 'ships with @tensorflow/tfjs',
};

function isNotInstalled(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0];
}

function silenceCpuNodeBanner(): void {
  // tfjs' cpu backend prints a "install tfjs-node" banner on first use; our backend report already says
  // which accelerators exist and how to install them, so the banner is noise in every CLI run.
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu != null) cpu.firstUse = false;
}

async function tryBackend(name: BackendName): Promise<BackendAttempt> {
  try {
    if (name === 'tensorflow-gpu' || name === 'tensorflow') {
      // Resolved before loading: "not installed" is told apart from "failed to load" (e.g. missing CUDA).
      await platform.importOptional(
        name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node',
      );
      if (!(await tf.setBackend('tensorflow'))) {
        return { name, ok: false, reason: 'package loaded but the tensorflow backend failed to initialise' };
      }
      return { name, ok: true, reason: 'native TensorFlow found' };
    }
    if (name === 'wasm') {
      await platform.importOptional('@tensorflow/tfjs-backend-wasm');
      registerWasmKernels();
      if (!(await tf.setBackend('wasm'))) {
        return { name, ok: false, reason: 'wasm module failed to initialise' };
      }
      return { name, ok: true, reason: 'default engine (SIMD, XNNPACK)' };
    }
    silenceCpuNodeBanner();
    if (!(await tf.setBackend('cpu'))) return { name, ok: false, reason: 'cpu backend failed to initialise' };
    return { name, ok: true, reason: 'pure-JS fallback (~30x slower than wasm)' };
  } catch (err) {
    if (isNotInstalled(err)) return { name, ok: false, reason: `not installed (${INSTALL_HINT[name]})` };
    return { name, ok: false, reason: `failed to load: ${firstLine(err)}` };
  }
}

export function parseBackendName(value: string, source: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`${source}: unknown backend "${value}"; use one of ${BACKEND_NAMES.join(', ')}.`);
}

/**
 * Picks the fastest engine that loads: tfjs-node-gpu, tfjs-node, wasm, cpu. `MOEVL_BACKEND` or
 * `options.backend` force one, and then a failure is an error rather than a silent fallback.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendReport> {
  const env = platform.env('MOEVL_BACKEND');
  const forced =
    options.backend != null
      ? parseBackendName(options.backend, 'initBackend({backend})')
      : env != null && env !== ''
        ? parseBackendName(env, 'MOEVL_BACKEND')
        : undefined;
  const attempts: BackendAttempt[] = [];
  let chosen: BackendAttempt | undefined;
  for (const name of BACKEND_NAMES) {
    if (chosen != null) {
      attempts.push({ name, ok: false, reason: `not tried: ${chosen.name} is faster` });
      continue;
    }
    if (forced != null && name !== forced) {
      attempts.push({ name, ok: false, reason: `not tried: backend forced to ${forced}` });
      continue;
    }
    const attempt = await tryBackend(name);
    attempts.push(attempt);
    if (attempt.ok) chosen = attempt;
  }
  if (chosen == null) {
    const why = attempts.map((a) => `  ${a.name}: ${a.reason}`).join('\n');
    throw new Error(
      forced != null
        ? `Backend "${forced}" was requested but could not start:\n${why}\nUnset MOEVL_BACKEND or pick another.`
        : `No TensorFlow.js backend could start:\n${why}`,
    );
  }
  if (chosen.name === 'cpu' || tf.findBackend('cpu') != null) silenceCpuNodeBanner();
  const matmul = matmulPath(tf.getBackend());
  if (platform.env('MOEVL_NATIVE') === '1' && chosen.name === 'wasm' && matmul.kind !== 'native') {
    throw new Error(
      `MOEVL_NATIVE=1 asks for the native matmul path, but it is not available: ${matmul.reason}. ` +
        'Install a CBLAS (Debian/Ubuntu: apt-get install libopenblas-dev), then ' +
        '`npm rebuild @moevl/native-blas`; or unset MOEVL_NATIVE.',
    );
  }
  const report: BackendReport = {
    backend: chosen.name,
    tfjsBackend: tf.getBackend(),
    attempts,
    tfjsVersion: tf.version.tfjs,
    matmul,
  };
  if (options.print) platform.writeError(formatBackendReport(report) + '\n');
  return report;
}

export function formatBackendReport(report: BackendReport): string {
  const lines = [`backend: ${report.backend} (tfjs ${report.tfjsVersion})`];
  for (const a of report.attempts) lines.push(`  ${a.ok ? '✓' : '·'} ${a.name.padEnd(14)} ${a.reason}`);
  const m = report.matmul;
  lines.push(`matmul: ${m.name}${m.kind === 'wasm' ? ` (${m.reason})` : ''}`);
  return lines.join('\n');
}

/**
 * Backends that can run here, for tests and benchmarks: wasm and cpu always, tensorflow when installed.
 * Does not leave the engine switched: the caller sets the backend it wants.
 */
export async function availableBackends(): Promise<BackendName[]> {
  const previous = tf.getBackend();
  const out: BackendName[] = [];
  for (const name of ['tensorflow', 'wasm', 'cpu'] as const) {
    if ((await tryBackend(name)).ok) out.push(name);
  }
  if (previous) await tf.setBackend(previous);
  return out;
}

/** Switches the engine to a backend by its moevl name (e.g. inside a test loop). */
export async function useBackend(name: BackendName): Promise<void> {
  const attempt = await tryBackend(name);
  if (!attempt.ok) throw new Error(`Cannot use backend ${name}: ${attempt.reason}`);
}
