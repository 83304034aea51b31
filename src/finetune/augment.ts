import type { Random } from '../heads/random.js';
import type { ResolvedAugment } from './types.js';

/** One image's random transform: mirror, zoom (≥ 1) about a shifted centre, rotation in radians. */
export interface AugmentDraw {
  flip: boolean;
  zoom: number;
  /** Shift of the crop window's centre, as a fraction of the room it has (−1…1). */
  shiftX: number;
  shiftY: number;
  angle: number;
}

/** Draws one transform. Always five draws, whatever the options, so one setting never shifts the others' stream. */
export function drawAugment(options: ResolvedAugment, random: Random): AugmentDraw {
  const [flip, zoom, shiftX, shiftY, angle] = [random(), random(), random(), random(), random()];
  return {
    flip: options.flip && flip < 0.5,
    zoom: 1 + zoom * options.zoom,
    shiftX: 2 * shiftX - 1,
    shiftY: 2 * shiftY - 1,
    angle: ((2 * angle - 1) * options.rotation * Math.PI) / 180,
  };
}

const isIdentity = (d: AugmentDraw) => !d.flip && d.zoom === 1 && d.angle === 0;

/**
 * Applies a transform to interleaved RGB pixels [height, width, 3] and returns new pixels of the same
 * size: each output pixel is mapped back into the source (mirror, then zoom into a crop window that
 * stays inside the image, then rotation about the centre) and sampled bilinearly; points that fall
 * outside take the nearest edge pixel (Keras' fill_mode 'nearest'). The input is left untouched.
 */
export function transformPixels(pixels: Uint8Array, height: number, width: number, draw: AugmentDraw): Uint8Array {
  if (isIdentity(draw)) return pixels.slice();
  const out = new Uint8Array(pixels.length);
  const [cx, cy] = [width / 2, height / 2];
  const scale = 1 / draw.zoom;
  // The crop window of size 1/zoom may move by what is left of the image on each side.
  const centerX = cx + draw.shiftX * (1 - scale) * cx;
  const centerY = cy + draw.shiftY * (1 - scale) * cy;
  const [cos, sin] = [Math.cos(draw.angle), Math.sin(draw.angle)];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = (draw.flip ? cx - (x + 0.5) : x + 0.5 - cx) * scale;
      const v = (y + 0.5 - cy) * scale;
      const sx = centerX + cos * u - sin * v - 0.5;
      const sy = centerY + sin * u + cos * v - 0.5;
      sampleBilinear(pixels, height, width, sx, sy, out, (y * width + x) * 3);
    }
  }
  return out;
}

function sampleBilinear(pixels: Uint8Array, height: number, width: number, sx: number, sy: number, out: Uint8Array, at: number): void {
  const clampX = (v: number) => Math.min(width - 1, Math.max(0, v));
  const clampY = (v: number) => Math.min(height - 1, Math.max(0, v));
  const x = clampX(sx);
  const y = clampY(sy);
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(width - 1, x0 + 1);
  const y1 = Math.min(height - 1, y0 + 1);
  const [fx, fy] = [x - x0, y - y0];
  for (let c = 0; c < 3; c++) {
    const top = pixels[(y0 * width + x0) * 3 + c]! * (1 - fx) + pixels[(y0 * width + x1) * 3 + c]! * fx;
    const bottom = pixels[(y1 * width + x0) * 3 + c]! * (1 - fx) + pixels[(y1 * width + x1) * 3 + c]! * fx;
    out[at + c] = Math.round(top * (1 - fy) + bottom * fy);
  }
}

/** A random augmentation of one image (see transformPixels); new pixels, the input untouched. */
export function augmentPixels(pixels: Uint8Array, height: number, width: number, options: ResolvedAugment, random: Random): Uint8Array {
  return transformPixels(pixels, height, width, drawAugment(options, random));
}
