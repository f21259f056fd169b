/**
 * The classifier cache's check-then-lock window: another process that builds the entry and lets go of its
 * lock between this process's first look and its taking the lock must not cause a second build. Seen on a
 * real Slurm array (two of three tasks built the classifier); made deterministic here by having "the other
 * process" finish inside acquireLock.
 */
import { copyFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadTransformersClip } from '../clip/transformers_clip.js';
import { FIXTURE_DIR } from '../clip/tiny_clip.test.helpers.js';
import type * as Core from '@moevl/core';
import type { ImageTextModel } from '../model/image_text_model.js';
import { classifierCacheFile, loadOrBuildClassifier } from './classifier_cache.js';
import { CLASS_NAMES, TEMPLATES, removeTempDirs, tempDir } from './eval.test.helpers.js';

const race = vi.hoisted(() => ({ before: null as null | (() => Promise<void>) }));

vi.mock('@moevl/core', async (importOriginal) => {
  const core = await importOriginal<typeof Core>();
  return {
    ...core,
    acquireLock: async (...args: Parameters<typeof core.acquireLock>) => {
      const before = race.before;
      race.before = null;
      await before?.();
      return core.acquireLock(...args);
    },
  };
});

let model: ImageTextModel;

beforeAll(async () => {
  model = await loadTransformersClip(FIXTURE_DIR);
});

afterAll(async () => {
  await model.dispose();
  await removeTempDirs();
});

describe('classifier cache, built by another process between the first look and the lock', () => {
  it('looks again once the lock is held and loads it instead of building it a second time', async () => {
    const elsewhere = await tempDir('race-other');
    const built = await loadOrBuildClassifier(model, CLASS_NAMES, TEMPLATES, {
      modelId: 'tiny-clip',
      cacheDir: elsewhere,
    });
    expect(built.cached).toBe(false);

    const cacheDir = await tempDir('race');
    const file = classifierCacheFile(cacheDir, 'tiny-clip', CLASS_NAMES, TEMPLATES);
    race.before = () => copyFile(classifierCacheFile(elsewhere, 'tiny-clip', CLASS_NAMES, TEMPLATES), file);
    let texts = 0;
    const counting: ImageTextModel = Object.assign(Object.create(model) as ImageTextModel, {
      embedTexts: (t: string[]) => {
        texts += t.length;
        return model.embedTexts(t);
      },
    });
    const got = await loadOrBuildClassifier(counting, CLASS_NAMES, TEMPLATES, {
      modelId: 'tiny-clip',
      cacheDir,
    });
    expect(race.before).toBeNull();
    expect(got.file).toBe(file);
    expect(got.cached).toBe(true);
    expect(texts).toBe(0);
    expect(Array.from(got.classifier.dataSync())).toEqual(Array.from(built.classifier.dataSync()));
    tf.dispose([built.classifier, got.classifier]);
  });
});
