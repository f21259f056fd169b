/** Re-exported from core, where the run fingerprints of training use it too. */
export { sha256Json } from '@moevl/core';
