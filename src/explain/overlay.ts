import sharp from 'sharp';

export interface HeatMap {
  /** Row-major [height, width], values in [0, 1]. */
  values: ArrayLike<number>;
  width: number;
  height: number;
}

export interface OverlayOptions {
  /** The overlay's longer side at most (the photo is scaled down to it, never up). @default 1024 */
  maxSide?: number;
  /** How much of the colour map shows over the photo. @default 0.4, as in the Keras Grad-CAM example */
  opacity?: number;
}

/** Matplotlib's 'jet' as its piecewise-linear channels: v ∈ [0, 1] → [r, g, b] in 0…255. */
function jet(v: number): [number, number, number] {
  const channel = (offset: number) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - offset))));
  return [channel(3), channel(2), channel(1)];
}

/**
 * The photo with the heat map over it as a PNG: the map is stretched over the whole picture (the network saw
 * the picture resized straight, without a crop), smoothed by a bicubic upscale, coloured with 'jet' and
 * blended at `opacity`. The photo is decoded as the model decoded it: EXIF orientation applied, alpha dropped.
 */
export async function overlayPng(photo: Uint8Array, map: HeatMap, options: OverlayOptions = {}): Promise<Buffer> {
  const { maxSide = 1024, opacity = 0.4 } = options;
  const { data: pixels, info } = await sharp(photo)
    .rotate()
    .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const levels = Uint8Array.from(map.values as ArrayLike<number>, (v) => Math.round(255 * Math.min(1, Math.max(0, v))));
  const heat = await sharp(levels, { raw: { width: map.width, height: map.height, channels: 1 } })
    .resize({ width: info.width, height: info.height, fit: 'fill', kernel: 'cubic' })
    .extractChannel(0)
    .raw()
    .toBuffer();
  const channels = info.channels;
  const out = Buffer.alloc(info.width * info.height * 3);
  for (let p = 0; p < info.width * info.height; p++) {
    const colour = jet(heat[p]! / 255);
    for (let c = 0; c < 3; c++) {
      const base = pixels[p * channels + (channels >= 3 ? c : 0)]!;
      out[p * 3 + c] = Math.round((1 - opacity) * base + opacity * colour[c]!);
    }
  }
  return sharp(out, { raw: { width: info.width, height: info.height, channels: 3 } }).png().toBuffer();
}
