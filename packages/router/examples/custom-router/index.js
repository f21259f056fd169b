// An example third-party router plugin: cosine routing (X-MoE, Chi et al. 2022). Tokens are projected to a
// small space, L2-normalised, and scored against L2-normalised expert embeddings with a temperature; the
// assignment, capacity, losses and metrics come from @moevl/router's public building blocks.
//
// Load it with `loadRouterPlugin('./examples/custom-router/index.js')` or `zero-shot --router-plugin …`,
// then use it by name: `new MoELayer({ …, router: { name: 'cosine', options: { k: 1 } } })`.
import * as tf from '@tensorflow/tfjs';
import { Rng, deriveSeed, l2Normalize } from '@moevl/core';
import { OptionReader, assignTopK, computeCapacity, importanceLoss, routingMetrics } from '@moevl/router';

class CosineRouter {
  strategy = 'cosine';
  // With ctx.dropless a token's routing depends on that token alone, so MoELayer may route a whole batch
  // as one group at evaluation.
  batchIndependent = true;

  constructor(options) {
    this.options = options;
    this.numExperts = options.numExperts;
    const rng = new Rng(deriveSeed(options.seed, 'cosine'));
    const projection = rng.normalTensor(
      [options.inputDim, options.projectionDim],
      0,
      1 / Math.sqrt(options.inputDim),
    );
    const experts = rng.normalTensor([options.projectionDim, options.numExperts], 0, 1);
    this.projection = tf.variable(projection, true);
    this.experts = tf.variable(experts, true);
    tf.dispose([projection, experts]);
  }

  route(x, ctx) {
    const o = this.options;
    const [s, e] = [x.shape[0], this.numExperts];
    // At evaluation MoELayer asks for dropless routing (no prediction may depend on the batch), or gives a
    // capacity factor for capacity-limited evaluation.
    const capacity =
      ctx.dropless && !ctx.training
        ? 'dropless'
        : computeCapacity({
            tokens: s,
            experts: e,
            k: o.k,
            capacityFactor: ctx.training ? o.capacityFactor : (ctx.capacityFactor ?? o.evalCapacityFactor),
          });
    const gates = tf.tidy(() => {
      const cosine = tf.matMul(l2Normalize(tf.matMul(x, this.projection)), l2Normalize(this.experts, 0));
      return tf.softmax(tf.div(cosine, o.temperature));
    });
    const assignment = assignTopK(gates, { k: o.k, capacity, batchPriority: true, mask: ctx.mask });
    const c = assignment.capacity;
    const auxLosses =
      o.importanceWeight > 0
        ? { importance: tf.tidy(() => tf.mul(importanceLoss(gates, { mask: ctx.mask }), o.importanceWeight)) }
        : {};
    const metrics = routingMetrics({ ...assignment, gates, numExperts: e, capacity: c, mask: ctx.mask });
    return {
      kind: 'sparse',
      numExperts: e,
      gates,
      auxLosses,
      metrics: { ...metrics },
      ...assignment,
    };
  }

  namedWeights() {
    return { projection: this.projection, experts: this.experts };
  }

  getOptions() {
    return { ...this.options };
  }

  dispose() {
    this.projection.dispose();
    this.experts.dispose();
  }
}

/** @type {import('@moevl/router').RouterStrategy} */
export const cosineRouter = {
  specificationVersion: 'v1',
  name: 'cosine',
  version: '1.0.0',
  description: 'Cosine-similarity top-k routing with a learned temperature-scaled expert embedding (X-MoE)',
  validateOptions(raw) {
    const r = new OptionReader('cosine', raw, [
      'k',
      'projectionDim',
      'temperature',
      'capacityFactor',
      'evalCapacityFactor',
      'importanceWeight',
    ]);
    const common = r.common();
    return {
      ...common,
      k: r.int('k', 1, 1, common.numExperts),
      projectionDim: r.int('projectionDim', 8, 1),
      temperature: r.number('temperature', 0.07, { exclusiveMin: 0 }),
      capacityFactor: r.number('capacityFactor', 1.25, { exclusiveMin: 0 }),
      evalCapacityFactor: r.number('evalCapacityFactor', 2, { exclusiveMin: 0 }),
      importanceWeight: r.number('importanceWeight', 0.005, { min: 0 }),
    };
  },
  create: (options) => new CosineRouter(options),
};

export default cosineRouter;
