export { AdaptiveExpertSelection } from './adaptive_expert_selection.js';
export type {
  AdaptiveExpertSelectionOptions,
  AesDecision,
  AesEvent,
  AesResult,
  AesState,
  AesTaskState,
} from './adaptive_expert_selection.js';
