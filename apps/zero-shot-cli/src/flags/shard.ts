import { ConfigReader } from '@moevl/core';
import { UsageError } from '../errors.js';
import { type Shard, parseIntegerFlag, parseShardFlag } from './numbers.js';

/**
 * `--shard I/N | auto`: which part of an evaluation this process runs. `auto` reads it from the scheduler
 * that started the process — a Slurm job array, a Kubernetes Indexed Job, or a plain `MOEVL_SHARD=I/N` —
 * so one command line serves every task of an array. The result records where the shard came from.
 */

/** Where a shard came from: `--shard I/N`, or what `--shard auto` found. */
export type ShardSource = 'flag' | 'slurm' | 'kubernetes' | 'env';

export interface ResolvedShard extends Shard {
  source: ShardSource;
}

/** The environment variable a Kubernetes manifest sets to the Job's `completions` (`zero-shot cluster k8s`). */
export const SHARD_COUNT_ENV = 'MOEVL_SHARD_COUNT';
/** A shard given as `I/N` in the environment, for schedulers without an index of their own. */
export const SHARD_ENV = 'MOEVL_SHARD';

const SOURCES_HELP =
  'a Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT), a Kubernetes ' +
  `Indexed Job (JOB_COMPLETION_INDEX, with --shards N or ${SHARD_COUNT_ENV}), or ${SHARD_ENV}=I/N`;

type Env = Readonly<Record<string, string | undefined>>;

function envInteger(env: Env, name: string, min: number): number {
  const reader = new ConfigReader(env, {
    prefix: '--shard auto: ',
    text: true,
    error: (message) => new UsageError(message),
  });
  return reader.int(name, { min });
}

/**
 * A Slurm array task: index = (TASK_ID − TASK_MIN) / TASK_STEP, count = TASK_COUNT. Arrays are often not
 * 0-based (`--array=1-8`), hence the offset; a list with gaps (`--array=1,4,9`) has no dense index, and is
 * refused rather than shards silently missing.
 */
function slurmShard(env: Env): ResolvedShard {
  const id = envInteger(env, 'SLURM_ARRAY_TASK_ID', 0);
  if (env.SLURM_ARRAY_TASK_COUNT === undefined || env.SLURM_ARRAY_TASK_MIN === undefined) {
    throw new UsageError(
      `--shard auto: SLURM_ARRAY_TASK_ID=${id} is set but SLURM_ARRAY_TASK_MIN or SLURM_ARRAY_TASK_COUNT is ` +
        'not (Slurm sets all three in every task of a job array); run inside an sbatch --array job.',
    );
  }
  const min = envInteger(env, 'SLURM_ARRAY_TASK_MIN', 0);
  const count = envInteger(env, 'SLURM_ARRAY_TASK_COUNT', 1);
  const step = env.SLURM_ARRAY_TASK_STEP === undefined ? 1 : envInteger(env, 'SLURM_ARRAY_TASK_STEP', 1);
  const max = env.SLURM_ARRAY_TASK_MAX === undefined ? undefined : envInteger(env, 'SLURM_ARRAY_TASK_MAX', 0);
  const described =
    `SLURM_ARRAY_TASK_MIN=${min}, SLURM_ARRAY_TASK_MAX=${max ?? '?'}, SLURM_ARRAY_TASK_STEP=${step}, ` +
    `SLURM_ARRAY_TASK_COUNT=${count}`;
  if (max !== undefined && (max - min) / step + 1 !== count) {
    throw new UsageError(
      `--shard auto: the job array is not a range (${described}), so its task ids are no shard indices; ` +
        `submit it as --array=0-${count - 1}.`,
    );
  }
  const offset = id - min;
  if (offset < 0 || offset % step !== 0 || offset / step >= count) {
    throw new UsageError(`--shard auto: SLURM_ARRAY_TASK_ID=${id} is not a task of the array ${described}.`);
  }
  return { index: offset / step, count, source: 'slurm' };
}

/** A Kubernetes Indexed Job pod: index = JOB_COMPLETION_INDEX, count from `--shards` or MOEVL_SHARD_COUNT. */
function kubernetesShard(env: Env, shards: number | undefined): ResolvedShard {
  const index = envInteger(env, 'JOB_COMPLETION_INDEX', 0);
  const fromEnv = env[SHARD_COUNT_ENV] === undefined ? undefined : envInteger(env, SHARD_COUNT_ENV, 1);
  if (shards !== undefined && fromEnv !== undefined && shards !== fromEnv) {
    throw new UsageError(
      `--shard auto: --shards ${shards} contradicts ${SHARD_COUNT_ENV}=${fromEnv}; pass one of them.`,
    );
  }
  const count = shards ?? fromEnv;
  if (count === undefined) {
    throw new UsageError(
      `--shard auto: JOB_COMPLETION_INDEX=${index} is set but not the shard count (Kubernetes does not ` +
        `pass the Job's completions to its pods); pass --shards N or set ${SHARD_COUNT_ENV} in the manifest.`,
    );
  }
  if (index >= count) {
    throw new UsageError(
      `--shard auto: JOB_COMPLETION_INDEX=${index} is not below the shard count ${count}; the Job's ` +
        'completions and the shard count must be equal.',
    );
  }
  return { index, count, source: 'kubernetes' };
}

function envShard(env: Env): ResolvedShard {
  const value = env[SHARD_ENV]!;
  try {
    return { ...parseShardFlag(value)!, source: 'env' };
  } catch {
    throw new UsageError(`--shard auto: ${SHARD_ENV} must be "i/n" with 0 ≤ i < n, got "${value}".`);
  }
}

/**
 * The shard `--shard auto` stands for in `env`: every source present is read (Slurm, Kubernetes,
 * MOEVL_SHARD), and where two are present they must agree, since a process that would evaluate one
 * shard for one scheduler and another for the other is a mistake worth hearing about.
 */
export function shardFromEnvironment(env: Env, shards?: number): ResolvedShard {
  const found: ResolvedShard[] = [];
  if (env.SLURM_ARRAY_TASK_ID !== undefined) found.push(slurmShard(env));
  if (env.JOB_COMPLETION_INDEX !== undefined) found.push(kubernetesShard(env, shards));
  if (env[SHARD_ENV] !== undefined) found.push(envShard(env));
  if (found.length === 0) {
    const hint =
      env.SLURM_JOB_ID !== undefined
        ? ` (SLURM_JOB_ID is set but not SLURM_ARRAY_TASK_ID: this is a Slurm job, not a job array; ` +
          'submit it with sbatch --array=0-<N-1>)'
        : '';
    throw new UsageError(
      `--shard auto found no shard in the environment${hint}; it reads ${SOURCES_HELP}. ` +
        'Outside a scheduler, pass --shard I/N.',
    );
  }
  const differs = found.find((s) => s.index !== found[0].index || s.count !== found[0].count);
  if (differs !== undefined) {
    throw new UsageError(
      `--shard auto: the environment names two different shards, ${found.map((s) => `${s.index}/${s.count} (${s.source})`).join(' and ')}; ` +
        'unset the variables of the scheduler that did not start this process.',
    );
  }
  const [shard] = found;
  if (shards !== undefined && shards !== shard.count) {
    throw new UsageError(
      `--shard auto: --shards ${shards} contradicts the ${shard.count} shards of ${shard.source === 'env' ? SHARD_ENV : `the ${shard.source} job`}; drop --shards or fix the job.`,
    );
  }
  return shard;
}

/** `--shard` and `--shards` together: undefined when the run is not sharded. */
export function resolveShardFlags(
  flags: { shard?: string; shards?: string },
  env: Env = process.env,
): ResolvedShard | undefined {
  const shards = parseIntegerFlag('--shards', flags.shards);
  if (flags.shard?.trim() === 'auto') return shardFromEnvironment(env, shards);
  if (shards !== undefined) {
    throw new UsageError(
      '--shards N is the shard count for --shard auto under Kubernetes; with --shard I/N the count is N.',
    );
  }
  const shard = parseShardFlag(flags.shard);
  return shard === undefined ? undefined : { ...shard, source: 'flag' };
}

/** The text `{shard}` in a path: the shard index, zero-padded to the width of the largest index. */
export const SHARD_PLACEHOLDER = '{shard}';

/** `results-{shard}.json` → `results-07.json` for shard 7 of 12. */
export function formatShardIndex(shard: Shard): string {
  return String(shard.index).padStart(String(shard.count - 1).length, '0');
}

/**
 * Fills `{shard}` in a path flag's value; a placeholder without a shard is a usage error (every shard
 * would otherwise write `results-{shard}.json` literally).
 */
export function fillShardPlaceholder(
  flag: string,
  value: string | undefined,
  shard: Shard | undefined,
): string | undefined {
  if (value === undefined || !value.includes(SHARD_PLACEHOLDER)) return value;
  if (shard === undefined) {
    throw new UsageError(
      `${flag} ${value} holds ${SHARD_PLACEHOLDER}, which stands for the shard index; pass --shard I/N or --shard auto.`,
    );
  }
  return value.split(SHARD_PLACEHOLDER).join(formatShardIndex(shard));
}
