/**
 * The `coarse` task: Fashion-MNIST's 10 classes folded into 4 groups that differ in silhouette, so the task
 * is much easier than the 10-way `category` task. Upper-body garments (T-shirt/top, Pullover, Dress, Coat,
 * Shirt) are the group the fine task finds hardest to tell apart; here they are one class.
 */
export const FASHION_COARSE_NAMES: readonly string[] = ['upper-body', 'trousers', 'footwear', 'bag'];

/** Coarse group of each Fashion-MNIST class index (0 T-shirt/top … 9 Ankle boot). */
export const FASHION_COARSE_OF_CLASS: readonly number[] = [0, 1, 0, 0, 0, 2, 0, 2, 3, 2];
