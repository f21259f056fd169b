import * as tf from '@tensorflow/tfjs';
import { denseRouter } from '../routers/dense.js';
import { expertChoiceRouter } from '../routers/expert_choice.js';
import { hashRouter } from '../routers/hash.js';
import { softMoERouter } from '../routers/soft_moe.js';
import { taskConditionedRouter } from '../routers/task_conditioned.js';
import { topKRouter } from '../routers/top_k.js';
import type { RouterStrategy } from '../routers/contract.js';
import { runRouterConformance } from './conformance.js';

// Every built-in passes the same suite third-party plugins run.
const as = (s: unknown) => s as RouterStrategy;
runRouterConformance(as(topKRouter), { options: { k: 2 } });
runRouterConformance(as(topKRouter), { options: { k: 1, batchPriority: false, renormalize: true } });
runRouterConformance(as(expertChoiceRouter));
runRouterConformance(as(softMoERouter), { options: { slotsPerExpert: 2 } });
runRouterConformance(as(denseRouter), { options: { importanceWeight: 0.01 } });
runRouterConformance(as(hashRouter), {
  context: (tokens) => ({
    tokenIds: tf.tensor1d(
      Array.from({ length: tokens }, (_, i) => (i * 7) % 50),
      'int32',
    ),
  }),
});
runRouterConformance(as(taskConditionedRouter), {
  options: { numTasks: 2, k: [1, 2] },
  context: (tokens) => ({
    task: tf.tensor1d(
      Array.from({ length: tokens }, (_, i) => i % 2),
      'int32',
    ),
    numTasks: 2,
  }),
});
runRouterConformance(as(taskConditionedRouter), {
  options: { numTasks: 2, k: 2, gate: 'mod-squad' },
  context: (tokens) => ({
    task: tf.tensor1d(
      Array.from({ length: tokens }, (_, i) => (i < 5 ? 1 : 0)),
      'int32',
    ),
  }),
});
