import { type TaskMoEViTConfig, selectBlocks } from './config.js';

/**
 * Parameters of a `TaskMoEViT` config from its shapes alone (no tensor is made): patch embedding, position
 * and task embeddings, blocks (dense or MoE attention, dense or MoE MLP with per-task or shared gates,
 * norms, after any expert extraction), the final norm and the task heads. Exact; expects a validated config.
 */
export function estimateTaskMoEViTParameters(c: TaskMoEViTConfig): number {
  const d = c.dim;
  const T = c.tasks.length;
  const patches = (c.imageSize / c.patchSize) ** 2;
  const stem = c.inChannels * c.patchSize ** 2 * d + d + patches * d + (c.taskEmbedding ? T * d : 0);
  const experts = (name: string, all: number) => c.keptExperts?.[name]?.length ?? all;
  const gates = (router: string, all: number) => (router === 'shared' ? 1 : T) * d * all;
  const attnBlocks = new Set(selectBlocks(c.moeAttention.blocks, c.depth, 'moeAttention'));
  const mlpBlocks = new Set(selectBlocks(c.moeMlp.blocks, c.depth, 'moeMlp'));
  const a = c.moeAttention;
  const m = c.moeMlp;
  const h = Math.round(c.mlpRatio * d);
  let blocks = 0;
  for (let i = 0; i < c.depth; i++) {
    blocks += 4 * d;
    if (attnBlocks.has(i)) {
      const e = experts(`block${i}/attention`, a.numExperts);
      blocks += gates(a.router, a.numExperts) + d * e * a.headDim + d * 2 * a.headDim + 2 * a.headDim;
      blocks += e * a.headDim * d + d;
    } else blocks += 4 * d * d + 4 * d;
    if (mlpBlocks.has(i)) {
      const e = experts(`block${i}/mlp`, m.numExperts);
      blocks += gates(m.router, m.numExperts) + e * (2 * d * m.hiddenDim + m.hiddenDim + d);
    } else blocks += 2 * d * h + h + d;
  }
  const heads = c.tasks.reduce(
    (n, t) =>
      n +
      (t.kind === 'classification'
        ? 2 * d + d * t.numClasses + t.numClasses
        : (d + 1) * t.outChannels * c.patchSize ** 2),
    0,
  );
  return stem + blocks + 2 * d + heads;
}

/** Float32 bytes of the activations of one forward pass over `batch` images of every task (a rough bound). */
export function estimateTaskMoEViTActivationBytes(c: TaskMoEViTConfig, batch: number): number {
  const tokens = (c.imageSize / c.patchSize) ** 2;
  const rows = batch * c.tasks.length;
  const widest = Math.max(c.dim, Math.round(c.mlpRatio * c.dim), c.moeMlp.hiddenDim * c.moeMlp.kMax);
  const attention = Math.max(c.numHeads, c.moeAttention.k) * tokens * tokens;
  return 4 * rows * c.depth * (8 * tokens * widest + attention);
}
