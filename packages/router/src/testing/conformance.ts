import * as tf from '@tensorflow/tfjs';
import { countLeakedTensors, describeEachBackend } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { checkRoutingResult } from '../moe/check_routing.js';
import { MoELayer } from '../moe/moe_layer.js';
import { createRouterRegistry } from '../registry/registry.js';
import { checkRouterStrategy } from '../registry/check_strategy.js';
import type { RouterContext, RouterOptions, RouterStrategy, RoutingResult } from '../routers/contract.js';

export interface RouterConformanceOptions {
  /** Strategy options for the routers under test (inputDim/numExperts/seed are filled in). */
  options?: Record<string, unknown>;
  /** Tokens per routing call. Default 24. */
  tokens?: number;
  inputDim?: number;
  numExperts?: number;
  /** Extra context the router needs (e.g. `task` ids for task-conditioned routers). */
  context?: (tokens: number) => Partial<RouterContext>;
  /** Set false for routers whose weights legitimately get no gradient from the combine weights. */
  expectGateGradients?: boolean;
}

function resultTensors(r: RoutingResult): tf.Tensor[] {
  const common = [r.gates, ...Object.values(r.auxLosses)];
  return r.kind === 'sparse'
    ? [...common, r.expertIndex, r.position, r.combineWeights]
    : [...common, r.dispatchWeights, r.combineWeights];
}

/**
 * The checks every router must pass, as a vitest suite run on each backend: the v1 contract, option
 * round-trips, result shapes (`checkRoutingResult`, as `MoELayer` checks them), capacity never exceeded,
 * combine weight 0 exactly when dropped, dropless routing at evaluation for `batchIndependent` routers, no
 * leaked tensors, gradients reaching the gate weights, and use inside an `MoELayer`. Plugin authors call it from
 * their own test file: `runRouterConformance(myStrategy, { options: { … } })`.
 */
export function runRouterConformance(strategy: RouterStrategy, config: RouterConformanceOptions = {}): void {
  const s = config.tokens ?? 24;
  const d = config.inputDim ?? 8;
  const e = config.numExperts ?? 4;
  const options = (): RouterOptions => ({ ...config.options, inputDim: d, numExperts: e, seed: 1 });
  const ctxFor = (training: boolean): RouterContext => ({ training, ...config.context?.(s) });

  describeEachBackend(`router conformance: ${strategy.name}`, () => {
    it('implements the v1 plugin contract', () => {
      expect(checkRouterStrategy(strategy)).toBe(strategy);
    });

    it('validates options, and its own options validate again to the same router', () => {
      const validated = strategy.validateOptions(options());
      const router = strategy.create(validated);
      expect(router.numExperts).toBe(e);
      const again = strategy.validateOptions(JSON.parse(JSON.stringify(router.getOptions())));
      expect(again).toEqual(validated);
      router.dispose();
      expect(() => strategy.validateOptions({ ...options(), numExperts: 0 })).toThrow(strategy.name);
    });

    for (const training of [true, false]) {
      it(`returns well-formed routing (${training ? 'training' : 'eval'}) that respects capacity`, () => {
        const router = strategy.create(strategy.validateOptions(options()));
        const x = tf.randomNormal([s, d], 0, 1, 'float32', 5);
        const ctx = ctxFor(training);
        const r = router.route(x as tf.Tensor2D, ctx);
        // The same check MoELayer runs on a layer's first batch (and on every batch with --check-router).
        checkRoutingResult(r, { tokens: s, numExperts: e, label: `router "${strategy.name}"` });
        expect(r.numExperts).toBe(e);
        expect(r.gates.shape).toEqual([s, e]);
        expect(Number.isInteger(r.capacity) && r.capacity >= 1).toBe(true);
        for (const [name, loss] of Object.entries(r.auxLosses)) {
          expect(loss.rank, `aux loss ${name}`).toBe(0);
          expect(Number.isFinite(loss.dataSync()[0]), `aux loss ${name}`).toBe(true);
        }
        expect(() => JSON.stringify(r.metrics)).not.toThrow();
        if (r.kind === 'sparse') {
          const k = r.expertIndex.shape[1];
          for (const t of [r.expertIndex, r.position, r.combineWeights]) expect(t.shape).toEqual([s, k]);
          const idx = r.expertIndex.arraySync() as number[][];
          const pos = r.position.arraySync() as number[][];
          const w = r.combineWeights.arraySync() as number[][];
          const used = new Set<string>();
          for (let i = 0; i < s; i++) {
            for (let j = 0; j < k; j++) {
              expect(idx[i][j] >= 0 && idx[i][j] < e).toBe(true);
              if (pos[i][j] === -1) {
                expect(w[i][j]).toBe(0);
                continue;
              }
              expect(pos[i][j] >= 0 && pos[i][j] < r.capacity, 'position within capacity').toBe(true);
              const slot = `${idx[i][j]}:${pos[i][j]}`;
              expect(used.has(slot), `slot ${slot} used twice`).toBe(false);
              used.add(slot);
            }
          }
        } else {
          expect(r.dispatchWeights.shape).toEqual([s, e * r.capacity]);
          expect(r.combineWeights.shape).toEqual([s, e * r.capacity]);
        }
        tf.dispose([x, ...resultTensors(r)]);
        router.dispose();
      });
    }

    it('at evaluation with ctx.dropless, a batch-independent router drops no token', () => {
      const router = strategy.create(strategy.validateOptions(options()));
      if (router.batchIndependent !== true) {
        // Group routers (expert choice, Soft MoE) are routed one example at a time by MoELayer instead.
        router.dispose();
        return;
      }
      const x = tf.randomNormal([s, d], 0, 1, 'float32', 5);
      const r = router.route(x as tf.Tensor2D, { ...ctxFor(false), dropless: true });
      const label = `router "${strategy.name}" (dropless)`;
      checkRoutingResult(r, { tokens: s, numExperts: e, label, dropless: true });
      tf.dispose([x, ...resultTensors(r)]);
      router.dispose();
    });

    it('leaks no tensors', async () => {
      const router = strategy.create(strategy.validateOptions(options()));
      const x = tf.randomNormal([s, d], 0, 1, 'float32', 6);
      const ctx = ctxFor(true);
      expect(await countLeakedTensors(() => resultTensors(router.route(x as tf.Tensor2D, ctx)))).toBe(0);
      x.dispose();
      router.dispose();
    });

    it('passes gradients to its gate weights', () => {
      const router = strategy.create(strategy.validateOptions(options()));
      const vars = Object.values(router.namedWeights());
      if (vars.length === 0 || config.expectGateGradients === false) {
        router.dispose();
        return;
      }
      const x = tf.randomNormal([s, d], 0, 1, 'float32', 7);
      const ctx = ctxFor(false);
      const { value, grads } = tf.variableGrads(() => {
        const r = router.route(x as tf.Tensor2D, ctx);
        const w = tf.randomNormal(r.combineWeights.shape, 0, 1, 'float32', 8);
        return tf.sum(tf.mul(r.combineWeights, w)) as tf.Scalar;
      }, vars);
      const norms = vars.map((v) => (grads[v.name] ? tf.norm(grads[v.name]).dataSync()[0] : 0));
      expect(norms.some((n) => n > 0 && Number.isFinite(n))).toBe(true);
      tf.dispose([x, value, ...Object.values(grads)]);
      router.dispose();
    });

    it('runs inside an MoELayer', () => {
      const registry = createRouterRegistry({ builtins: false });
      registry.register(strategy);
      const layer = new MoELayer({
        dim: d,
        hiddenDim: 2 * d,
        numExperts: e,
        router: { name: strategy.name, options: config.options ?? {} },
        registry,
        seed: 3,
      });
      const x = tf.randomNormal([2, s / 2, d], 0, 1, 'float32', 9);
      // Per-token context [S] becomes [B, T] for the layer, which flattens it back.
      const extra = Object.fromEntries(
        Object.entries(config.context?.(s) ?? {}).map(([key, v]) => [
          key,
          v instanceof tf.Tensor && v.rank === 1 && v.shape[0] === s ? tf.reshape(v, [2, s / 2]) : v,
        ]),
      );
      const out = layer.forward(x, { training: true, ...extra });
      expect(out.y.shape).toEqual([2, s / 2, d]);
      expect(Array.from(out.y.dataSync()).every(Number.isFinite)).toBe(true);
      tf.dispose([x, out.y, ...Object.values(out.auxLosses ?? {})]);
      layer.dispose();
    });
  });
}
