// The example plugin's own test, as a plugin author would write it: load it the way users will (a
// relative path through loadRouterPlugin), run the conformance suite, and use it in an MoELayer.
import * as tf from '@tensorflow/tfjs';
import { MoELayer, createRouterRegistry, loadRouterPlugin } from '@moevl/router';
import { runRouterConformance } from '@moevl/router/testing';
import { describe, expect, it } from 'vitest';
import { cosineRouter } from './index.js';

// Relative to the package root, as a user's config would name it from their project.
const cwd = new URL('../..', import.meta.url).pathname;

runRouterConformance(cosineRouter, { options: { k: 2, projectionDim: 4 } });

describe('cosine router plugin', () => {
  it('loads from a relative path and routes inside an MoELayer', async () => {
    const registry = createRouterRegistry();
    const [strategy] = await loadRouterPlugin('./examples/custom-router/index.js', { registry, cwd });
    expect(strategy.name).toBe('cosine');
    expect(registry.names()).toContain('cosine');
    const layer = new MoELayer({
      dim: 8,
      hiddenDim: 16,
      numExperts: 4,
      router: { name: 'cosine', options: {} },
      registry,
    });
    const x = tf.randomNormal([2, 6, 8]);
    const out = layer.forward(x, { training: false });
    expect(out.y.shape).toEqual([2, 6, 8]);
    expect(out.metrics?.routingSuccessRate).toBeGreaterThan(0);
    tf.dispose([x, out.y, ...Object.values(out.auxLosses ?? {})]);
    layer.dispose();
  });

  it('a second registration of the same name is refused', async () => {
    const registry = createRouterRegistry();
    await loadRouterPlugin('./examples/custom-router/index.js', { registry, cwd });
    await expect(loadRouterPlugin('./examples/custom-router/index.js', { registry, cwd })).rejects.toThrow(
      /Router "cosine" is already registered/,
    );
  });
});
