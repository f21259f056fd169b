import * as tf from '@tensorflow/tfjs';
import { deriveSeed, initialize, type InitializerSpec } from './initializers.js';

export interface LayerArgs {
  /** Name used in error messages and as the layer's key inside its parent. */
  name?: string;
  /** Initialisation seed; children and weights derive theirs from it. Random when omitted. */
  seed?: number;
  /** Whether the layer's weights are updated by training. Default true. */
  trainable?: boolean;
}

let unnamed = 0;

/**
 * Base of every moevl layer, in the shape of tfjs-layers' `Layer`: weights are created once in `build()`
 * (lazily, on first use or when weights are read), the forward pass runs inside `tidy`, and
 * `getConfig()`/`fromConfig()` round-trip through `tf.serialization`. Unlike tfjs-layers, forward methods
 * take whatever a transformer needs (masks, routing context) and may return aux losses as data, which the
 * symbolic tfjs-layers API cannot express.
 *
 * Weights are addressed by path (`attn/qkv/kernel`), the keys written to safetensors checkpoints.
 */
export abstract class Layer extends tf.serialization.Serializable {
  readonly name: string;
  readonly seed: number;
  readonly trainable: boolean;
  private readonly ownWeights = new Map<string, tf.Variable>();
  private readonly children = new Map<string, Layer>();
  private built = false;
  private disposed = false;

  constructor(args: LayerArgs = {}) {
    super();
    this.name =
      args.name ?? `${(this.constructor as { className?: string }).className ?? 'layer'}_${unnamed++}`;
    this.seed = args.seed ?? Math.floor(Math.random() * 0x7fffffff);
    this.trainable = args.trainable ?? true;
  }

  /** Creates this layer's own weights with `addWeight`. Children build themselves. */
  protected build(): void {}

  /** Builds the layer (and its children) if it has not been built yet. */
  ensureBuilt(): void {
    if (this.disposed) throw new Error(`Layer ${this.name} was disposed and cannot be used.`);
    if (!this.built) {
      this.built = true;
      this.build();
    }
    for (const child of this.children.values()) child.ensureBuilt();
  }

  /** Seed for a named weight or child, stable across runs and independent of construction order. */
  protected childSeed(name: string): number {
    return deriveSeed(this.seed, name);
  }

  protected addWeight(
    name: string,
    shape: number[],
    init: InitializerSpec,
    trainable = this.trainable,
  ): tf.Variable {
    if (this.ownWeights.has(name) || this.children.has(name)) {
      throw new Error(`Layer ${this.name}: weight "${name}" is defined twice.`);
    }
    const value = tf.tidy(() => initialize(init, shape, this.childSeed(name)));
    // Unnamed tfjs variables: tfjs requires globally unique names, our paths are only unique per model.
    const v = tf.variable(value, trainable);
    value.dispose();
    this.ownWeights.set(name, v);
    return v;
  }

  protected addChild<L extends Layer>(name: string, layer: L): L {
    if (this.ownWeights.has(name) || this.children.has(name)) {
      throw new Error(`Layer ${this.name}: child "${name}" is defined twice.`);
    }
    this.children.set(name, layer);
    return layer;
  }

  /** Every weight of this layer and its children, keyed by path. */
  namedWeights(): Record<string, tf.Variable> {
    this.ensureBuilt();
    const out: Record<string, tf.Variable> = {};
    for (const [k, v] of this.ownWeights) out[k] = v;
    for (const [name, child] of this.children) {
      for (const [k, v] of Object.entries(child.namedWeights())) out[`${name}/${k}`] = v;
    }
    return out;
  }

  /** The weights an optimiser updates. */
  trainableWeights(): Record<string, tf.Variable> {
    return Object.fromEntries(Object.entries(this.namedWeights()).filter(([, v]) => v.trainable));
  }

  countParams(): number {
    return Object.values(this.namedWeights()).reduce((n, v) => n + v.size, 0);
  }

  /**
   * Assigns weights by path (from a checkpoint). Shapes must match; with `strict` (default) missing and
   * unexpected keys are an error that lists them, so a checkpoint from another config never half-loads.
   */
  loadWeights(tensors: Record<string, tf.Tensor>, options: { strict?: boolean; source?: string } = {}): void {
    const strict = options.strict ?? true;
    const where = options.source != null ? ` from ${options.source}` : '';
    const own = this.namedWeights();
    const missing = Object.keys(own).filter((k) => !(k in tensors));
    const unexpected = Object.keys(tensors).filter((k) => !(k in own));
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      const parts = [];
      if (missing.length)
        parts.push(`missing ${missing.length} weight(s): ${missing.slice(0, 8).join(', ')}`);
      if (unexpected.length)
        parts.push(`unexpected ${unexpected.length}: ${unexpected.slice(0, 8).join(', ')}`);
      throw new Error(`Cannot load weights into ${this.name}${where}: ${parts.join('; ')}.`);
    }
    for (const [k, v] of Object.entries(own)) {
      const t = tensors[k];
      if (t == null) continue;
      if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
        throw new Error(
          `Cannot load weight "${k}" into ${this.name}${where}: shape [${t.shape}] ≠ [${v.shape}].`,
        );
      }
      // A stored dtype that differs (I32 bytes where F32 weights belong) is never cast silently: every
      // value would be garbage and the model would still evaluate.
      if (t.dtype !== v.dtype) {
        throw new Error(
          `Cannot load weight "${k}" into ${this.name}${where}: it is stored as ${t.dtype}, the layer expects ` +
            `${v.dtype}; the file is damaged or was not written for this model.`,
        );
      }
      // Assigning a variable to itself would alias its data and break it on the next read.
      if (t === v) continue;
      v.assign(t);
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { name: this.name, seed: this.seed, trainable: this.trainable };
  }

  /** Frees every weight (and those of children). The layer cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.ownWeights.values()) v.dispose();
    for (const c of this.children.values()) c.dispose();
    this.ownWeights.clear();
  }
}

export interface SerializedLayer {
  className: string;
  config: tf.serialization.ConfigDict;
}

/** `{className, config}` of a layer, the form nested layers take inside a parent's config. */
export function serializeLayer(layer: Layer): SerializedLayer {
  return { className: layer.getClassName(), config: layer.getConfig() };
}

/** Rebuilds a layer from `{className, config}`; the class must have been registered. */
export function deserializeLayer<L extends Layer = Layer>(spec: SerializedLayer): L {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  const entry = map[spec.className];
  if (entry == null) {
    const known = Object.keys(map).sort().join(', ');
    throw new Error(
      `Unknown layer class "${spec.className}". Registered classes: ${known}. Import the package that defines it.`,
    );
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, spec.config) as unknown as L;
}
