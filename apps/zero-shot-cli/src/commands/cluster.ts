import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ClusterJob } from '../cluster/job.js';
import { kubernetesManifest } from '../cluster/kubernetes.js';
import { shellJoin } from '../cluster/shell.js';
import { slurmDriverScript } from '../cluster/slurm.js';
import { UsageError } from '../errors.js';
import { parseChoiceFlag, parseIntegerFlag } from '../flags/numbers.js';
import { SHARD_PLACEHOLDER } from '../flags/shard.js';
import type { IO } from './common.js';
import { EVAL_OPTIONS } from './eval_options.js';

export const CLUSTER_HELP = `zero-shot cluster — job files that run one evaluation as N shards on Slurm or Kubernetes

Usage:
  zero-shot cluster slurm --shards N [options] -- EVAL_ARGS...   > submit.sh && bash submit.sh
  zero-shot cluster k8s --shards N --image IMAGE [options] -- EVAL_ARGS...   > eval.yaml

EVAL_ARGS are the arguments of "zero-shot eval" (--model, --data, --templates, …) without --shard, --out
and --work-dir: every task runs "zero-shot eval EVAL_ARGS --shard auto --out WORK/results-{shard}.json",
sharing the classifier cache WORK/cache (unless EVAL_ARGS name --cache-dir or --no-cache), and a merge job
runs "zero-shot merge 'WORK/results-*.json' --wait S --out WORK/results.json".

slurm prints a driver script that submits the job array (#SBATCH --array=0-(N-1)) and the merge job
(sbatch --dependency=afterok on the array), and prints their ids. k8s prints an Indexed Job (completions
and parallelism N, MOEVL_SHARD_COUNT=N) and a merge Job that polls the shared volume.

Options:
  --shards N           number of shards (tasks, pods)
  --name NAME          job name, also in log and file names (default zero-shot-eval)
  --work-dir DIR       the shared folder as the tasks see it (default: slurm ./NAME, made absolute;
                       k8s /work, where the volume is mounted)
  --cpus N             CPUs per task (default 2)
  --mem SIZE           memory per task, e.g. 4G or 4096M (default: the scheduler's)
  --merge-wait SECONDS how long the merge polls for the shards (default: slurm 300, k8s 86400)
  --command CMD        how a task starts zero-shot (default: slurm this node and CLI, by absolute path;
                       k8s zero-shot)
Slurm:
  --partition NAME     #SBATCH --partition
  --time LIMIT         #SBATCH --time, e.g. 1:00:00
  --classifier-job     first a job that builds the classifier (eval --classifier-only); the array starts
                       after it. Without it the first task builds it and the others wait for it
Kubernetes:
  --image IMAGE        the container image with zero-shot installed (required)
  --pvc CLAIM          the ReadWriteMany PersistentVolumeClaim mounted at the work dir (default NAME-work)
  --namespace NS       metadata.namespace of both Jobs
  -h, --help           this text

Example:
  zero-shot cluster slurm --shards 8 --work-dir /shared/runs/b32 -- --model Xenova/clip-vit-base-patch32 \\
    --data /shared/imagenet/val --layout kaggle --templates openai80 > submit.sh
  bash submit.sh

Exit codes: 0 ok, 2 a usage error (also: EVAL_ARGS that eval would refuse).`;

const OPTIONS = {
  shards: { type: 'string' },
  name: { type: 'string' },
  'work-dir': { type: 'string' },
  cpus: { type: 'string' },
  mem: { type: 'string' },
  'merge-wait': { type: 'string' },
  command: { type: 'string' },
  partition: { type: 'string' },
  time: { type: 'string' },
  'classifier-job': { type: 'boolean', default: false },
  image: { type: 'string' },
  pvc: { type: 'string' },
  namespace: { type: 'string' },
} as const;

const SCHEDULERS = ['slurm', 'k8s'] as const;
/** What the job sets for every task itself. */
const OWNED_EVAL_FLAGS = ['shard', 'shards', 'out', 'work-dir', 'resume', 'classifier-only'] as const;
const SLURM_ONLY = ['partition', 'time', 'classifier-job'] as const;
const K8S_ONLY = ['image', 'pvc', 'namespace'] as const;

/** Checks the eval arguments as eval will (unknown flags, typos), without touching any file. */
function checkEvalArgs(args: string[]): { ownCache: boolean } {
  if (args.length === 0) {
    throw new UsageError(
      'cluster needs the eval arguments after --, e.g. zero-shot cluster slurm --shards 4 -- --model M --data D.',
    );
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args, strict: true, options: EVAL_OPTIONS }));
  } catch (err) {
    throw new UsageError(`the eval arguments after --: ${(err as Error).message}`);
  }
  const owned = OWNED_EVAL_FLAGS.filter((f) => values[f] !== undefined && values[f] !== false);
  if (owned.length > 0) {
    throw new UsageError(
      `the eval arguments after -- give ${owned.map((f) => `--${f}`).join(', ')}, which the job sets for each ` +
        'task (--shard auto, --out WORK/results-{shard}.json); drop them.',
    );
  }
  for (const flag of ['model', 'data'] as const) {
    if (values[flag] === undefined) throw new UsageError(`the eval arguments after -- need --${flag}.`);
  }
  const predictions = values.predictions as string | undefined;
  if (predictions !== undefined && !predictions.includes(SHARD_PLACEHOLDER)) {
    throw new UsageError(
      `--predictions ${predictions} would be written by every task; put ${SHARD_PLACEHOLDER} in it (preds-{shard}.csv).`,
    );
  }
  if (args.some((a) => /[\n\r]/.test(a)))
    throw new UsageError('the eval arguments after -- hold a line break.');
  return { ownCache: values['cache-dir'] !== undefined || values['no-cache'] === true };
}

function parseMem(value: string | undefined): ClusterJob['mem'] {
  if (value === undefined) return undefined;
  const m = /^(\d+)\s*([MG])(?:i?B)?$/i.exec(value.trim());
  if (!m || Number(m[1]) < 1)
    throw new UsageError(`--mem must be a size such as 4G or 4096M, got "${value}".`);
  return { amount: Number(m[1]), unit: m[2].toUpperCase() as 'M' | 'G' };
}

function checkName(value: string, scheduler: (typeof SCHEDULERS)[number]): string {
  // Kubernetes names are DNS labels (pods add suffixes, so shorter than 63); Slurm's go into file names.
  const ok =
    scheduler === 'k8s' ? /^[a-z0-9]([-a-z0-9]{0,44}[a-z0-9])?$/.test(value) : /^[\w.-]{1,100}$/.test(value);
  if (!ok) {
    throw new UsageError(
      scheduler === 'k8s'
        ? `--name must be lower-case letters, digits and '-' (at most 46, a Kubernetes name), got "${value}".`
        : `--name must be letters, digits, '.', '_' and '-', got "${value}".`,
    );
  }
  return value;
}

/** The running CLI by absolute paths, so every node runs this very version. */
function thisCommand(): string {
  return shellJoin([process.execPath, fileURLToPath(new URL('../bin.js', import.meta.url))]);
}

export async function runClusterCommand(argv: string[], io: IO): Promise<number> {
  const end = argv.indexOf('--');
  const own = end < 0 ? argv : argv.slice(0, end);
  const evalArgs = end < 0 ? [] : argv.slice(end + 1);
  const { values, positionals } = parseArgs({
    args: own,
    strict: true,
    allowPositionals: true,
    options: OPTIONS,
  });
  if (positionals.length !== 1) {
    throw new UsageError(
      `cluster needs one scheduler, slurm or k8s, before --, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}.`,
    );
  }
  const scheduler = parseChoiceFlag('the scheduler', positionals[0], SCHEDULERS)!;
  const wrong = (scheduler === 'slurm' ? K8S_ONLY : SLURM_ONLY).filter(
    (f) => values[f] !== undefined && values[f] !== false,
  );
  if (wrong.length > 0) {
    throw new UsageError(`${wrong.map((f) => `--${f}`).join(', ')} do not apply to ${scheduler}.`);
  }
  const shards = parseIntegerFlag('--shards', values.shards);
  if (shards === undefined) throw new UsageError('cluster needs --shards N, the number of tasks.');
  const name = checkName(values.name ?? 'zero-shot-eval', scheduler);
  const { ownCache } = checkEvalArgs(evalArgs);
  const workDirFlag = values['work-dir'] ?? (scheduler === 'k8s' ? '/work' : name);
  if (scheduler === 'k8s' && !isAbsolute(workDirFlag)) {
    throw new UsageError(
      `--work-dir is where the volume is mounted in the pods: an absolute path, got "${workDirFlag}".`,
    );
  }
  const workDir = scheduler === 'k8s' ? workDirFlag : resolve(workDirFlag);
  if (/[\s'"\\$`]/.test(workDir)) {
    throw new UsageError(
      `--work-dir ${workDir}: use a path without spaces, quotes or $ (it goes into #SBATCH lines).`,
    );
  }
  for (const flag of ['partition', 'time'] as const) {
    const v = values[flag];
    if (v !== undefined && !/^[\w.,:+-]+$/.test(v))
      throw new UsageError(`--${flag} must be one word for an #SBATCH line, got "${v}".`);
  }
  if (scheduler === 'slurm' && /[\s'"\\$`]/.test(process.cwd())) {
    throw new UsageError(
      `the current folder ${process.cwd()} has spaces or quotes, and goes into #SBATCH --chdir; run from another one.`,
    );
  }
  const job: ClusterJob = {
    name,
    shards,
    workDir,
    evalArgs,
    ownCache,
    cpus: parseIntegerFlag('--cpus', values.cpus, { max: 4096 }) ?? 2,
    mem: parseMem(values.mem),
    mergeWait:
      parseIntegerFlag('--merge-wait', values['merge-wait'], { min: 0 }) ??
      (scheduler === 'k8s' ? 86_400 : 300),
  };
  if (scheduler === 'slurm') {
    io.out.write(
      slurmDriverScript(job, {
        command: values.command ?? thisCommand(),
        chdir: process.cwd(),
        partition: values.partition,
        time: values.time,
        classifierJob: values['classifier-job'] ?? false,
      }),
    );
    return 0;
  }
  if (values.image === undefined) {
    throw new UsageError('cluster k8s needs --image IMAGE, a container image with zero-shot installed.');
  }
  io.out.write(
    kubernetesManifest(job, {
      image: values.image,
      command: (values.command ?? 'zero-shot').trim().split(/\s+/),
      claim: values.pvc ?? `${name}-work`,
      namespace: values.namespace,
    }),
  );
  return 0;
}
