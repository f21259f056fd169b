import type { RouterStrategy } from './contract.js';
import { topKRouter } from './top_k.js';

/** The strategies every registry starts with. */
export const BUILTIN_ROUTERS: readonly RouterStrategy[] = [topKRouter as unknown as RouterStrategy];
