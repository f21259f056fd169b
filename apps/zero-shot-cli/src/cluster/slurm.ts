import { posix } from 'node:path';
import { type ClusterJob, classifierTaskArgs, mergeTaskArgs, resultsFile, shardTaskArgs } from './job.js';
import { shellJoin, shellQuote } from './shell.js';

export interface SlurmOptions {
  /** The shell words that start zero-shot on a compute node (`node /…/bin.js`, `zero-shot`). */
  command: string;
  /** Where the tasks start (relative paths in the eval arguments are read from here). */
  chdir: string;
  partition?: string;
  /** `#SBATCH --time`, e.g. `1:00:00`. */
  time?: string;
  /** Submit a job that builds the classifier first, and start the array after it. */
  classifierJob: boolean;
}

function sbatchHeader(job: ClusterJob, opts: SlurmOptions, name: string, cpus: number): string[] {
  return [
    '#!/usr/bin/env bash',
    `#SBATCH --job-name=${name}`,
    `#SBATCH --chdir=${opts.chdir}`,
    `#SBATCH --cpus-per-task=${cpus}`,
    ...(job.mem ? [`#SBATCH --mem=${job.mem.amount}${job.mem.unit}`] : []),
    ...(opts.partition ? [`#SBATCH --partition=${opts.partition}`] : []),
    ...(opts.time ? [`#SBATCH --time=${opts.time}`] : []),
  ];
}

/** Submits the script on stdin (`sbatch` reads it there) and keeps only the job id. */
function submit(variable: string, flags: string, script: string[], delimiter: string): string[] {
  return [
    `${variable}=$(sbatch --parsable${flags} << '${delimiter}'`,
    ...script,
    delimiter,
    ')',
    `${variable}=\${${variable}%%;*}`,
  ];
}

/**
 * A driver script for a login node: it submits the job array (one `zero-shot eval --shard auto` per
 * task), the merge as a job that starts when every task has succeeded (`--dependency=afterok`), and
 * optionally a classifier job the array waits for; then prints the job ids. The job scripts are inside it,
 * as quoted here-documents, so what runs is visible in one file.
 */
export function slurmDriverScript(job: ClusterJob, opts: SlurmOptions): string {
  const logs = posix.join(job.workDir, 'logs');
  const last = job.shards - 1;
  const task = [
    ...sbatchHeader(job, opts, job.name, job.cpus),
    `#SBATCH --array=0-${last}`,
    `#SBATCH --output=${logs}/${job.name}-%A_%a.out`,
    '#SBATCH --open-mode=append',
    '# One shard per task: --shard auto reads SLURM_ARRAY_TASK_ID, _MIN and _COUNT. A requeued task',
    '# (preemption, node failure) continues from its work dir instead of starting over.',
    'set -euo pipefail',
    'resume=()',
    'if [ "${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then resume=(--resume); fi',
    `${opts.command} ${shellJoin(shardTaskArgs(job))} "\${resume[@]}"`,
  ];
  const merge = [
    ...sbatchHeader(job, opts, `${job.name}-merge`, 1),
    `#SBATCH --output=${logs}/${job.name}-merge-%j.out`,
    '# Runs once every task has succeeded; --wait covers shared file systems that show files late.',
    'set -euo pipefail',
    `${opts.command} ${shellJoin(mergeTaskArgs(job))}`,
  ];
  const classifier = [
    ...sbatchHeader(job, opts, `${job.name}-classifier`, job.cpus),
    `#SBATCH --output=${logs}/${job.name}-classifier-%j.out`,
    '# Builds the text classifier into the shared cache, so that no task of the array waits for it.',
    'set -euo pipefail',
    `${opts.command} ${shellJoin(classifierTaskArgs(job))}`,
  ];
  const header = [
    '#!/usr/bin/env bash',
    `# zero-shot cluster slurm: ${job.name}, ${job.shards} shards. Run it where you submit jobs: bash THIS_FILE`,
    '#',
    `# Assumes ${job.workDir} (results, logs, classifier cache), the data, the model and the zero-shot command`,
    '# below are on file systems every node mounts at the same paths. Each task writes',
    `# ${job.workDir}/results-<index>.json; the merge writes ${resultsFile(job)}.`,
    'set -euo pipefail',
    `mkdir -p ${shellQuote(logs)}`,
    '',
  ];
  const lines = [...header];
  let after = '';
  if (opts.classifierJob) {
    lines.push(...submit('classifier', '', classifier, 'ZERO_SHOT_CLASSIFIER'));
    lines.push('echo "submitted classifier job $classifier"', '');
    after = ' --dependency=afterok:$classifier';
  }
  lines.push(...submit('array', after, task, 'ZERO_SHOT_ARRAY'));
  lines.push(`echo "submitted evaluation array $array (${job.shards} tasks; logs in ${logs})"`, '');
  // A task that fails leaves afterok unsatisfiable: the merge is cancelled rather than pending forever.
  lines.push(
    ...submit('merge', ' --dependency=afterok:$array --kill-on-invalid-dep=yes', merge, 'ZERO_SHOT_MERGE'),
  );
  lines.push(
    `echo "submitted merge job $merge (starts when all ${job.shards} tasks succeeded): ${resultsFile(job)}"`,
    `echo "watch: squeue -j $array,$merge"`,
  );
  return lines.join('\n') + '\n';
}
