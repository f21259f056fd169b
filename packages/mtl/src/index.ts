/**
 * @moevl/mtl — skeleton. The issue that builds this package fills it; see the root README for the plan.
 */
export const PACKAGE_NAME = '@moevl/mtl';
