import { expect, it } from 'vitest';
import { createViT, createVMoE, resolveViTPreset, vitPresets } from './presets.js';

it('has the ViT paper sizes, each documented', () => {
  expect(Object.keys(vitPresets)).toEqual(['ti-mini', 'ti/16', 's/32', 's/16', 'b/32', 'b/16', 'l/16']);
  for (const [name, p] of Object.entries(vitPresets)) {
    expect(p.description.length, name).toBeGreaterThan(20);
    expect(p.dim % p.numHeads, name).toBe(0);
    expect(p.imageSize % p.patchSize, name).toBe(0);
  }
  expect(vitPresets['b/16']).toEqual(
    expect.objectContaining({ dim: 768, depth: 12, numHeads: 12, patchSize: 16 }),
  );
});

it('ti/16 with a 1000-class head has the parameter count of timm vit_tiny_patch16_224 (5,717,416)', () => {
  const model = createViT('ti/16', { numClasses: 1000, seed: 0 });
  expect(model.countParams()).toBe(5_717_416);
  model.dispose();
  const mini = createViT('ti-mini', { seed: 0 });
  expect(mini.countParams()).toBe(207_424);
  mini.dispose();
});

it('applies overrides over the preset and accepts ViT-style names', () => {
  const model = createViT('ViT-Ti-Mini', { imageSize: 28, inChannels: 1, numClasses: 10 });
  expect([model.dim, model.depth, model.numHeads, model.patchSize]).toEqual([64, 4, 4, 4]);
  expect(model.grid).toEqual([7, 7]);
  expect(model.numClasses).toBe(10);
  model.dispose();
  expect(resolveViTPreset('vit-B/16').dim).toBe(768);
  const vmoe = createVMoE('s/32', { numExperts: 8, last: 2 });
  expect(vmoe.moeBlocks).toEqual([9, 11]);
  expect(vmoe.patchSize).toBe(32);
  vmoe.dispose();
});

it('lists the presets when the name is unknown', () => {
  expect(() => createViT('b/14')).toThrow(
    /Unknown ViT preset "b\/14". Presets:\n {2}ti-mini: .*\n {2}ti\/16: /,
  );
  expect(() => createViT('huge')).toThrow(/l\/16: ViT-L\/16/);
});
