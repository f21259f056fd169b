import type { RouterStrategy } from './contract.js';
import { denseRouter } from './dense.js';
import { expertChoiceRouter } from './expert_choice.js';
import { hashRouter } from './hash.js';
import { softMoERouter } from './soft_moe.js';
import { taskConditionedRouter } from './task_conditioned.js';
import { topKRouter } from './top_k.js';

/** The strategies every registry starts with. */
export const BUILTIN_ROUTERS: readonly RouterStrategy[] = [
  topKRouter,
  expertChoiceRouter,
  softMoERouter,
  hashRouter,
  taskConditionedRouter,
  denseRouter,
] as unknown as readonly RouterStrategy[];
