import { join } from 'node:path';

/**
 * The project's own test data (licences and origins in test/fixtures/README.md), laid out as ../shared is:
 * `images/` real photos, `datasets/fashion-mnist-small/{train,test}/<label>/` labelled PNGs.
 */
export const FIXTURES = join(import.meta.dirname, '../fixtures');

/** eagle.jpg, baboon.jpg, butterfly.jpg, dog.jpg: real photos of ImageNet classes. */
export const PHOTOS = join(FIXTURES, 'images');

/** A per-label Fashion-MNIST subset: train/ 30 per class, test/ 10 per class, 10 classes. */
export const FASHION_MNIST = join(FIXTURES, 'datasets/fashion-mnist-small');

/** The DenseNet121 top-1 of each photo (bilinear resize to 224×224, 'torch' preprocessing): file, ImageNet index, name. */
export const PHOTO_TOP1: ReadonlyArray<readonly [file: string, index: number, name: string]> = [
  ['eagle.jpg', 22, 'bald eagle'],
  ['baboon.jpg', 372, 'baboon'],
  ['butterfly.jpg', 323, 'monarch'],
  ['dog.jpg', 249, 'malamute'],
];

export const photo = (file: string): string => join(PHOTOS, file);
