/**
 * Caption templates for image–caption pairs built from class names. Training and evaluation use disjoint
 * sets, so zero-shot accuracy measures transfer to prompts never seen as captions (the LIMoE issue's rule).
 */
export const TRAIN_TEMPLATES: readonly string[] = [
  'a photo of a {}.',
  'a picture of a {}.',
  'an image of a {}.',
  'a {}.',
  'a photo of the {}.',
  'a grayscale photo of a {}.',
  'a small photo of a {}.',
  'a low resolution photo of a {}.',
  'a product photo of a {}.',
  'this is a {}.',
  'a close-up photo of a {}.',
  'a centered photo of a {}.',
];

export const EVAL_TEMPLATES: readonly string[] = [
  'a blurry photo of a {}.',
  'a black and white picture of the {}.',
  'a cropped image of the {}.',
  'there is a {} in this picture.',
  'a dark photo of a {}.',
  'a good photo of the {}.',
];

/** Class names as people write them in captions ("T-shirt/top" reads badly in a sentence). */
export const FASHION_CAPTION_NAMES: readonly string[] = [
  't-shirt',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'ankle boot',
];

export const MNIST_CAPTION_NAMES: readonly string[] = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
].map((w, i) => `digit ${w} (${i})`);
