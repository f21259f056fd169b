import { BACKEND_HELP, runBackendCommand } from './backend.js';
import { CLASSIFY_HELP, runClassifyCommand } from './classify.js';
import { CLUSTER_HELP, runClusterCommand } from './cluster.js';
import type { IO } from './common.js';
import { DEMO_HELP, runDemoCommand } from './demo.js';
import { EVAL_HELP, runEvalCommand } from './eval.js';
import { MERGE_HELP, runMergeCommand } from './merge.js';
import { MODELS_HELP, runModelsCommand } from './models.js';
import { ROUTERS_HELP, runRoutersCommand } from './routers.js';
import { SELFCHECK_HELP, runSelfcheckCommand } from './selfcheck.js';
import { TRAIN_HELP, runTrainCommand } from './train.js';
import { TRAIN_LIMOE_HELP, runTrainLimoeCommand } from './train_limoe.js';

export interface Command {
  /** One usage line for the overview. */
  usage: string;
  /** One line saying what it does. */
  summary: string;
  /** The full `zero-shot <command> --help` text. */
  help: string;
  /** Parses its own flags and returns the exit code. */
  run(argv: string[], io: IO): Promise<number>;
}

/** Every command, in the order the overview lists them. */
export const COMMANDS: Record<string, Command> = {
  eval: {
    usage: 'zero-shot eval --model MODEL --data PATH [--layout …] [--classes …] [--templates …] [--out FILE]',
    summary: 'Zero-shot accuracy (top-1, top-5, mean per-class recall) of a model on an image dataset.',
    help: EVAL_HELP,
    run: runEvalCommand,
  },
  merge: {
    usage: "zero-shot merge FILE|'GLOB'|FOLDER... [--wait SECONDS] [--out FILE] [--json]",
    summary: 'Combine the --out results of the shards of one evaluation (eval --shard I/N or auto).',
    help: MERGE_HELP,
    run: runMergeCommand,
  },
  cluster: {
    usage: 'zero-shot cluster slurm|k8s --shards N [--name NAME] [--work-dir DIR] -- EVAL_ARGS...',
    summary:
      'Print a Slurm job array script or a Kubernetes Indexed Job running eval as N shards, plus the merge.',
    help: CLUSTER_HELP,
    run: runClusterCommand,
  },
  classify: {
    usage: 'zero-shot classify IMAGE... --labels "cat,dog" | --classes WHAT [--top N] [--model MODEL]',
    summary: 'The most likely labels of some images, zero-shot.',
    help: CLASSIFY_HELP,
    run: runClassifyCommand,
  },
  models: {
    usage: 'zero-shot models [--json]',
    summary: 'List the model families (how --model is resolved) and the builtin models.',
    help: MODELS_HELP,
    run: runModelsCommand,
  },
  routers: {
    usage: 'zero-shot routers [--router-plugin SPEC]... [--json]',
    summary: 'List the router strategies (built-in and from plugins) with version and description.',
    help: ROUTERS_HELP,
    run: runRoutersCommand,
  },
  train: {
    usage:
      'zero-shot train --train-data DATA --model NAME|CONFIG.json (--steps N | --epochs E) [--val-data DATA] [--out DIR]',
    summary:
      'Train LIMoE (or a dense / two-tower baseline) on your own image–caption data (CSV, JSONL, WebDataset, folder).',
    help: TRAIN_HELP,
    run: runTrainCommand,
  },
  'train-limoe': {
    usage: 'zero-shot train-limoe [--variant limoe|dense|two-tower|limoe-no-entropy] [--steps N] [--out DIR]',
    summary: 'Train a LIMoE model (or a baseline) contrastively on Fashion-MNIST.',
    help: TRAIN_LIMOE_HELP,
    run: runTrainLimoeCommand,
  },
  demo: {
    usage: 'zero-shot demo [--limit N] [--json]',
    summary: 'Evaluate the builtin LIMoE model on the Fashion-MNIST test set, offline.',
    help: DEMO_HELP,
    run: runDemoCommand,
  },
  selfcheck: {
    usage: 'zero-shot selfcheck [--steps N] [--json]',
    summary: 'Check the engine: train a tiny transformer end to end on the chosen backend.',
    help: SELFCHECK_HELP,
    run: runSelfcheckCommand,
  },
  backend: {
    usage: 'zero-shot backend [--backend NAME] [--json]',
    summary: 'Print which TensorFlow.js backend runs and why the others were skipped.',
    help: BACKEND_HELP,
    run: runBackendCommand,
  },
};
