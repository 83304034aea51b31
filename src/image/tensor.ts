import { tf } from '../engine/backend.js';
import { InvalidArgumentError } from '../errors.js';
import type { DecodedImage } from './load.js';

/**
 * Stacks decoded images into one float32 batch [N, H, W, 3] of raw 0–255 values (what Keras'
 * `img_to_array` + `np.stack` give, before `preprocess_input`). All images must share one size.
 * The caller owns the returned tensor and disposes it.
 */
export function imagesToTensor(images: readonly DecodedImage[]): tf.Tensor4D {
  if (images.length === 0) throw new InvalidArgumentError('imagesToTensor needs at least one image.');
  const { height, width } = images[0]!;
  const pixels = height * width * 3;
  const batch = new Float32Array(images.length * pixels);
  images.forEach((image, i) => {
    if (image.height !== height || image.width !== width || image.data.length !== pixels) {
      throw new InvalidArgumentError(
        `imagesToTensor needs images of one size: image 0 is ${height}×${width}, image ${i} is ${image.height}×${image.width}` +
          ` with ${image.data.length} bytes; load them with the same targetSize.`,
      );
    }
    batch.set(image.data, i * pixels);
  });
  return tf.tensor4d(batch, [images.length, height, width, 3], 'float32');
}
