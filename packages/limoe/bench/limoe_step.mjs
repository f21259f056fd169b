// One moevl training step of a LIMoE variant at the shipped Fashion-MNIST shapes, on synthetic data (not a
// test): forward over packed image+text tokens, CLIP loss with same-class positives plus the MoE aux losses,
// backward, global-norm clipping and AdamW, exactly as trainLIMoE's step does. Shared by bench/*.mjs.
import * as tf from '@tensorflow/tfjs';
import { AdamW, Rng, trainStep } from '@moevl/core';
import { LIMoEModel, clipLoss, limoeVariantConfig } from '@moevl/limoe';

export const BATCH = 128;
export const VOCAB = 256;

/** Deterministic synthetic batch: images [B,1,28,28], token ids with per-row lengths, labels 0..9. */
export function syntheticBatch(config, batch = BATCH, seed = 0) {
  const rng = new Rng(seed);
  const L = config.contextLength;
  const ids = new Int32Array(batch * L);
  const mask = new Float32Array(batch * L);
  const eot = new Int32Array(batch);
  const labels = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    const len = 8 + Math.floor(rng.uniform() * (L - 8)); // 8..L-1 real tokens
    for (let j = 0; j < len; j++) {
      ids[i * L + j] = j === 0 ? 1 : j === len - 1 ? 2 : 3 + Math.floor(rng.uniform() * (VOCAB - 3));
      mask[i * L + j] = 1;
    }
    eot[i] = len - 1;
    labels[i] = Math.floor(rng.uniform() * 10);
  }
  const images = new Float32Array(batch * config.imageSize * config.imageSize * config.channels);
  for (let i = 0; i < images.length; i++) images[i] = rng.uniform();
  return { ids, mask, eot, labels, images, L, batch };
}

export function makeMoevlLimoeStep(variant, batch = BATCH) {
  const config = { ...limoeVariantConfig(variant, 0), vocabSize: VOCAB };
  const model = new LIMoEModel(config);
  const data = syntheticBatch(config, batch);
  const s = config.imageSize;
  const images = tf.tensor4d(data.images, [batch, config.channels, s, s]);
  const text = {
    ids: tf.tensor2d(data.ids, [batch, data.L], 'int32'),
    mask: tf.tensor2d(data.mask, [batch, data.L]),
    eotIndex: data.eot,
  };
  const labels = tf.tensor1d(data.labels, 'int32');
  const optimizer = new AdamW({
    lr: 1e-4,
    weightDecay: 0.05,
    excludeFromWeightDecay: (name) => /(bias|gamma|beta|position|logit_scale|embeddings)$/.test(name),
  });
  const rng = new Rng(1);
  const vars = model.trainableWeights();
  const step = () => {
    trainStep({
      vars,
      optimizer,
      clipNorm: 1,
      lossFn: () => {
        const out = model.forward(images, text, { training: true, rng });
        const contrastive = clipLoss(out.imageEmbeddings, out.textEmbeddings, model.logitScale, {
          positives: 'same-class',
          labels,
          normalized: true,
        });
        const aux = Object.values(out.auxLosses);
        const loss = aux.length > 0 ? tf.addN([contrastive, ...aux]) : contrastive;
        return { loss, aux: { contrastive } };
      },
    });
    model.clampLogitScale();
  };
  return {
    config,
    step,
    dispose: () => {
      optimizer.dispose();
      model.dispose();
      tf.dispose([images, text.ids, text.mask, labels]);
    },
  };
}
