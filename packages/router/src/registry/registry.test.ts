import { describe, expect, it } from 'vitest';
import { topKRouter } from '../routers/top_k.js';
import { checkRouterStrategy } from './check_strategy.js';
import { loadRouterPlugin } from './load_plugin.js';
import { createRouterRegistry } from './registry.js';
import { closest, editDistance } from '@moevl/core';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

describe('router registry', () => {
  it('starts with the built-ins and creates routers with validated options', () => {
    const registry = createRouterRegistry();
    expect(registry.names()).toEqual(expect.arrayContaining(['top-k']));
    const router = registry.create({ name: 'top-k', options: { inputDim: 4, numExperts: 3, k: 2 } });
    expect(router.getOptions()).toEqual(expect.objectContaining({ k: 2, capacityFactor: 1.05, noiseStd: 1 }));
    router.dispose();
    expect(createRouterRegistry({ builtins: false }).names()).toEqual([]);
  });

  it('refuses a second registration of a name', () => {
    const registry = createRouterRegistry();
    expect(() => registry.register(topKRouter as never)).toThrow('Router "top-k" is already registered;');
    expect(() => registry.register({ ...topKRouter } as never)).toThrow(
      /already registered by another strategy/,
    );
  });

  it('lists the available names and suggests the closest for an unknown one', () => {
    const registry = createRouterRegistry();
    expect(() => registry.get('topk')).toThrow(
      /Unknown router "topk". Did you mean "top-k"\? Available: .*top-k/,
    );
    expect(() => registry.get('zzzzzzzz')).not.toThrow(/Did you mean/);
    expect(() => registry.get('zzzzzzzz')).toThrow(/Available:/);
  });

  it('validates options with messages naming the router and the option', () => {
    const registry = createRouterRegistry();
    const base = { inputDim: 4, numExperts: 2 };
    expect(() => registry.create({ name: 'top-k', options: { ...base, k: 3 } })).toThrow(
      'router "top-k": option k must be an integer in [1, 2], got 3.',
    );
    expect(() => registry.create({ name: 'top-k', options: { ...base, capacityFactor: 0 } })).toThrow(
      'router "top-k": option capacityFactor must be a finite number > 0, got 0.',
    );
    expect(() => registry.create({ name: 'top-k', options: { ...base, noisestd: 1 } })).toThrow(
      /router "top-k": unknown option noisestd; options are .*noiseStd/,
    );
    expect(() => registry.create({ name: 'top-k', options: { numExperts: 2 } })).toThrow(
      'router "top-k": option inputDim must be an integer ≥ 1 (required), got undefined.',
    );
  });

  it('checks the plugin contract field by field', () => {
    expect(() => checkRouterStrategy(null)).toThrow(/expected an object, got null/);
    expect(() => checkRouterStrategy({ ...topKRouter, specificationVersion: 'v2' })).toThrow(
      /specificationVersion "v2"; this version of @moevl\/router supports 'v1'/,
    );
    expect(() => checkRouterStrategy({ ...topKRouter, name: 'My Router' })).toThrow(
      /name must be lowercase words/,
    );
    expect(() => checkRouterStrategy({ ...topKRouter, create: undefined })).toThrow(
      /"top-k" is missing create\(options\)/,
    );
  });

  it('edit distance and suggestions', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closest('expert-chioce', ['expert-choice', 'top-k'])).toBe('expert-choice');
    expect(closest('xyz', ['expert-choice'])).toBeUndefined();
  });
});

describe('loadRouterPlugin', () => {
  it('explains a missing module, a module without a strategy, and a broken strategy', async () => {
    const registry = createRouterRegistry();
    await expect(loadRouterPlugin('./no/such/plugin.js', { registry })).rejects.toThrow(
      'Cannot load router plugin "./no/such/plugin.js": not found (check the path, or npm install the package).',
    );
    await expect(loadRouterPlugin('moevl-no-such-package', { registry })).rejects.toThrow(/not found/);
    await expect(loadRouterPlugin(fixture('empty_plugin.js'), { registry })).rejects.toThrow(
      /exports no strategy/,
    );
    await expect(loadRouterPlugin(fixture('broken_plugin.js'), { registry })).rejects.toThrow(
      /router plugin ".*broken_plugin.js": strategy "broken" is missing create\(options\)/,
    );
    expect(registry.has('broken')).toBe(false);
  });

  it('loads CommonJS plugins and any existing path, and names the real cause of a failed import', async () => {
    const registry = createRouterRegistry();
    const [cjs] = await loadRouterPlugin(fixture('cjs_plugin.cjs'), { registry });
    expect(cjs.name).toBe('cjs-router');
    const { relative } = await import('node:path');
    const folder = relative(process.cwd(), fixture('folder_plugin'));
    expect(folder.startsWith('.')).toBe(false); // looks like a package name, exists as a folder
    const [fromFolder] = await loadRouterPlugin(folder, { registry });
    expect(fromFolder.name).toBe('folder-router');
    await expect(loadRouterPlugin(fixture('missing_dependency_plugin.js'), { registry })).rejects.toThrow(
      /: its import failed: Cannot find package 'moevl-a-package-that-does-not-exist'/,
    );
  });

  it('gives up on an import that never settles, with one sentence', async () => {
    const registry = createRouterRegistry();
    await expect(
      loadRouterPlugin(fixture('never_settles_plugin.js'), { registry, timeoutMs: 300 }),
    ).rejects.toThrow(/never_settles_plugin\.js": its import did not finish within 0\.3 s/);
  });
});
