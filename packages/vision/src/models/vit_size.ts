/** The shape of a ViT / V-MoE that its size depends on, with defaults already applied. */
export interface ViTShape {
  /** Patch grid `[rows, cols]` at the training resolution. */
  grid: [number, number];
  patchSize: number;
  inChannels: number;
  patchBias: boolean;
  dim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  classToken: boolean;
  preNorm: boolean;
  projectionDim: number | null;
  numClasses: number | null;
  /** Number of blocks whose MLP is an MoE layer. */
  moeBlocks: number;
  numExperts: number;
  /** Hidden width of each expert MLP. */
  expertHiddenDim: number;
}

/** The `ViTShape` of a model or of its resolved fields (a `VisionTransformer` is one). */
export function vitShapeOf(
  v: Omit<ViTShape, 'moeBlocks' | 'numExperts' | 'expertHiddenDim'> & {
    moeBlocks: readonly number[];
    moe: { numExperts: number; hiddenDim?: number } | null;
  },
): ViTShape {
  return {
    grid: v.grid,
    patchSize: v.patchSize,
    inChannels: v.inChannels,
    patchBias: v.patchBias,
    dim: v.dim,
    depth: v.depth,
    numHeads: v.numHeads,
    mlpRatio: v.mlpRatio,
    classToken: v.classToken,
    preNorm: v.preNorm,
    projectionDim: v.projectionDim,
    numClasses: v.numClasses,
    moeBlocks: v.moeBlocks.length,
    numExperts: v.moe?.numExperts ?? 0,
    expertHiddenDim: v.moe?.hiddenDim ?? Math.round(v.mlpRatio * v.dim),
  };
}

/**
 * Parameters of a ViT / V-MoE from its shapes alone (no tensor is made): patch embedding, class token,
 * position embeddings, blocks (attention, norms, dense MLPs or MoE experts + a linear router), final norm,
 * projection and head. Exact for the dense model and for V-MoE with a linear (top-k) router.
 */
export function estimateViTParameters(s: ViTShape): number {
  const d = s.dim;
  const h = Math.round(s.mlpRatio * d);
  const tokens = s.grid[0] * s.grid[1] + (s.classToken ? 1 : 0);
  const stem =
    s.inChannels * s.patchSize ** 2 * d + (s.patchBias ? d : 0) + (s.classToken ? d : 0) + tokens * d;
  const attention = 4 * d * d + 4 * d;
  const dense = 2 * d * h + h + d;
  const moe = s.numExperts * (2 * d * s.expertHiddenDim + s.expertHiddenDim + d) + d * s.numExperts;
  const blocks = s.depth * (attention + 4 * d) + s.moeBlocks * moe + (s.depth - s.moeBlocks) * dense;
  const features = s.projectionDim ?? d;
  const head = s.numClasses != null ? features * s.numClasses + s.numClasses : 0;
  return stem + (s.preNorm ? 2 * d : 0) + blocks + 2 * d + (s.projectionDim ?? 0) * d + head;
}

/** Float32 bytes of the activations of one forward pass over `batch` images (a rough upper bound). */
export function estimateViTActivationBytes(s: ViTShape, batch: number): number {
  const tokens = s.grid[0] * s.grid[1] + (s.classToken ? 1 : 0);
  const widest = Math.max(s.dim, Math.round(s.mlpRatio * s.dim), s.expertHiddenDim);
  return 4 * batch * s.depth * (8 * tokens * widest + s.numHeads * tokens * tokens);
}
