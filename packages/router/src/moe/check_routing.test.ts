import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createRouterRegistry } from '../registry/registry.js';
import { topKRouter } from '../routers/top_k.js';
import type { Router, RouterStrategy, SparseRoutingResult } from '../routers/contract.js';
import { RouterContractError, setRouterChecks } from './check_routing.js';
import { MoELayer } from './moe_layer.js';

/**
 * A plugin whose output breaks the contract is caught on the first batch (and on every batch with
 * `--check-router`), and anything a plugin throws names it: broken plugins used to change accuracy
 * silently (95% → 82.5%) or fail with `Cannot read properties of undefined`.
 */

type Breakage = (r: SparseRoutingResult) => SparseRoutingResult;

/** The top-k router with its result broken by `breakage`, as plugin "broken" 0.1.0. */
function brokenPlugin(breakage: Breakage | 'throw'): RouterStrategy {
  return {
    ...topKRouter,
    name: 'broken',
    version: '0.1.0',
    create(options) {
      const inner = topKRouter.create(options as never);
      const router: Router = {
        strategy: 'broken',
        numExperts: inner.numExperts,
        batchIndependent: true,
        namedWeights: () => inner.namedWeights(),
        getOptions: () => inner.getOptions(),
        dispose: () => inner.dispose(),
        route: (x, ctx) => {
          if (breakage === 'throw') {
            const missing = undefined as unknown as { shape: number[] };
            return { capacity: missing.shape[0] } as never;
          }
          return breakage(inner.route(x, ctx) as SparseRoutingResult);
        },
      };
      return router;
    },
  };
}

function layerWith(strategy: RouterStrategy): MoELayer {
  const registry = createRouterRegistry({ builtins: false });
  registry.register(strategy);
  return new MoELayer({
    dim: 8,
    hiddenDim: 16,
    numExperts: 4,
    router: { name: 'broken', options: { k: 1 } },
    registry,
    seed: 1,
  });
}

const run = (layer: MoELayer) =>
  tf.tidy(() => {
    const out = layer.forward(tf.randomNormal([2, 6, 8], 0, 1, 'float32', 2), { training: false });
    return out.y;
  });

afterEach(() => setRouterChecks('first'));

describe('router results are checked against the contract', () => {
  const cases: Array<[string, Breakage, RegExp]> = [
    [
      'gates of E − 1 experts',
      (r) => ({ ...r, gates: tf.slice(r.gates, [0, 0], [-1, 3]) as tf.Tensor2D }),
      /router "broken" 0\.1\.0 \(MoELayer .*\) broke the router contract: gates are float32 \[12, 3\], expected float32 \[12, 4\]\./,
    ],
    [
      'positions past capacity',
      (r) => ({ ...r, position: tf.add(r.position, tf.scalar(r.capacity, 'int32')) as tf.Tensor2D }),
      /broke the router contract: position \d+ of token 0 is outside its expert's capacity \[0, \d+\)/,
    ],
    [
      'expert indices out of range',
      (r) => ({ ...r, expertIndex: tf.add(r.expertIndex, tf.scalar(4, 'int32')) as tf.Tensor2D }),
      /expert index \d of token 0 is outside \[0, 4\)/,
    ],
    [
      'NaN combine weights',
      (r) => ({ ...r, combineWeights: tf.mul(r.combineWeights, NaN) as tf.Tensor2D }),
      /combine weight of token 0 is NaN/,
    ],
    [
      'a dropped token although dropless was asked for',
      (r) => ({
        ...r,
        position: tf.concat([
          tf.fill([1, 1], -1, 'int32'),
          tf.slice(r.position, [1, 0], [-1, -1]),
        ]) as tf.Tensor2D,
        combineWeights: tf.concat([
          tf.zeros([1, 1]),
          tf.slice(r.combineWeights, [1, 0], [-1, -1]),
        ]) as tf.Tensor2D,
      }),
      /token 0 was dropped although dropless routing was asked for/,
    ],
  ];
  for (const [what, breakage, message] of cases) {
    it(`refuses ${what}, naming the plugin`, () => {
      const layer = layerWith(brokenPlugin(breakage));
      expect(() => run(layer)).toThrow(RouterContractError);
      expect(() => {
        setRouterChecks('always');
        run(layer);
      }).toThrow(message);
      layer.dispose();
    });
  }

  it('checks only the first call by default, every call with checks "always", none with "off"', () => {
    let calls = 0;
    // Breaks from the second call on: unseen by the default first-call check.
    const layer = layerWith(
      brokenPlugin((r) =>
        ++calls === 1 ? r : { ...r, gates: tf.slice(r.gates, [0, 0], [-1, 3]) as tf.Tensor2D },
      ),
    );
    run(layer).dispose();
    run(layer).dispose();
    setRouterChecks('always');
    expect(() => run(layer)).toThrow(/gates are/);
    setRouterChecks('off');
    run(layer).dispose();
    layer.dispose();
  });

  it('names the plugin when its route() throws', () => {
    const layer = layerWith(brokenPlugin('throw'));
    expect(() => run(layer)).toThrow(
      /^router "broken" 0\.1\.0 failed in MoELayer .*: Cannot read properties of undefined \(reading 'shape'\)$/,
    );
    layer.dispose();
  });
});
