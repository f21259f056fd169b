import { assertPositiveInteger } from '@moevl/core';

/** Loss of a dense (per-pixel) task. `'l1'` is the default: Mod-Squad's dense Taskonomy tasks use L1. */
export type DenseLoss = 'l1' | 'mse' | 'cosine';

/** An image-level task: one label per example, trained with softmax cross-entropy. */
export interface ClassificationTaskSpec {
  name: string;
  kind: 'classification';
  /** Number of classes C; the head outputs logits [N, C]. */
  numClasses: number;
}

/** A per-pixel task (depth, normals, edges, ...): the head outputs an image [N, H, W, outChannels]. */
export interface DenseTaskSpec {
  name: string;
  kind: 'dense';
  /** Channels of the target image (1 for depth, 3 for normals). */
  outChannels: number;
  /** Default `'l1'`. */
  loss?: DenseLoss;
}

/** One task of a multi-task model: what its head predicts and how it is scored. */
export type TaskSpec = ClassificationTaskSpec | DenseTaskSpec;

const DENSE_LOSSES: readonly DenseLoss[] = ['l1', 'mse', 'cosine'];

/**
 * Checks a list of task specs before a model is built from it: task names must be non-empty and unique
 * (they key heads, routers, losses and logs), sizes positive integers, and kinds/losses known. Throws on
 * the first problem with the task named, since a typo in a config file is the usual cause.
 */
export function validateTaskSpecs(specs: readonly TaskSpec[]): void {
  if (!Array.isArray(specs) || specs.length === 0) {
    throw new Error('Task specs: give at least one task ({ name, kind, ... }).');
  }
  const seen = new Set<string>();
  specs.forEach((spec, i) => {
    const name: unknown = spec?.name;
    if (typeof name !== 'string' || name.trim() === '') {
      throw new Error(`Task ${i}: name must be a non-empty string, got ${JSON.stringify(name)}.`);
    }
    if (seen.has(name)) {
      throw new Error(`Task "${name}" is defined twice; give every task a unique name.`);
    }
    seen.add(name);
    if (spec.kind === 'classification') {
      assertPositiveInteger(`Task "${name}": numClasses`, spec.numClasses);
    } else if (spec.kind === 'dense') {
      assertPositiveInteger(`Task "${name}": outChannels`, spec.outChannels);
      if (spec.loss !== undefined && !DENSE_LOSSES.includes(spec.loss)) {
        throw new Error(
          `Task "${name}": loss must be one of ${DENSE_LOSSES.join(', ')}, got ${JSON.stringify(spec.loss)}.`,
        );
      }
    } else {
      const kind: unknown = (spec as { kind?: unknown }).kind;
      throw new Error(
        `Task "${name}": kind must be 'classification' or 'dense', got ${JSON.stringify(kind)}.`,
      );
    }
  });
}

/** The loss a dense task is trained with (its `loss`, or `'l1'`). */
export function denseLossOf(spec: DenseTaskSpec): DenseLoss {
  return spec.loss ?? 'l1';
}
