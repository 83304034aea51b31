/**
 * Source index for each destination index under PIL's nearest-neighbour resize, reproduced exactly:
 * PIL (`ImagingScaleAffine`) starts at `scale * 0.5` and adds `scale` per step in double precision,
 * truncating each position. That is src = floor((dst + 0.5) * scale) except where the closed form is an
 * exact integer and the running sum lands just below it (512 → 224 picks 7 at index 3, not 8), so the
 * sum is kept. libvips' nearest kernel picks different pixels again (non-integer upsampling), and Keras'
 * `load_img` default is PIL nearest, so this is done here rather than by sharp.
 */
export function pilNearestIndices(sourceSize: number, targetSize: number): Int32Array {
  const scale = sourceSize / targetSize;
  const indices = new Int32Array(targetSize);
  let position = scale * 0.5;
  for (let i = 0; i < targetSize; i++) {
    // The clamp never triggers for valid sizes (the last position is sourceSize - scale / 2); it guards the index.
    indices[i] = Math.min(Math.trunc(position), sourceSize - 1);
    position += scale;
  }
  return indices;
}

/** Nearest-neighbour resize of an interleaved HWC image (any channel count), PIL's pixel choice. */
export function resizeNearest(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  targetWidth: number,
  targetHeight: number,
): Uint8Array {
  const xs = pilNearestIndices(width, targetWidth);
  const ys = pilNearestIndices(height, targetHeight);
  const out = new Uint8Array(targetWidth * targetHeight * channels);
  // Source offsets of each output column, in bytes: the row loop then only adds the row's start.
  for (let x = 0; x < targetWidth; x++) xs[x] = xs[x]! * channels;
  if (channels === 3) {
    // The pipeline's case (RGB), written out: a third of the per-pixel work of the general loop.
    let o = 0;
    for (let y = 0; y < targetHeight; y++) {
      const row = ys[y]! * width * 3;
      for (let x = 0; x < targetWidth; x++) {
        const s = row + xs[x]!;
        out[o] = pixels[s]!;
        out[o + 1] = pixels[s + 1]!;
        out[o + 2] = pixels[s + 2]!;
        o += 3;
      }
    }
    return out;
  }
  let o = 0;
  for (let y = 0; y < targetHeight; y++) {
    const row = ys[y]! * width * channels;
    for (let x = 0; x < targetWidth; x++) {
      const s = row + xs[x]!;
      for (let c = 0; c < channels; c++) out[o++] = pixels[s + c]!;
    }
  }
  return out;
}
