import sharp from 'sharp';

/** A small real JPEG: a colour gradient with a seed-dependent tint, so different seeds give different bytes. */
export async function makeJpeg(seed: number, size = 40): Promise<Buffer> {
  const pixels = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      pixels[i] = (x * 6 + seed * 37) % 256;
      pixels[i + 1] = (y * 6 + seed * 11) % 256;
      pixels[i + 2] = (x * y + seed * 53) % 256;
    }
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

/** A JPEG cut in half: decoders must refuse it rather than return a grey half picture. */
export async function makeTruncatedJpeg(seed: number): Promise<Buffer> {
  const full = await makeJpeg(seed, 64);
  return full.subarray(0, Math.floor(full.length / 2));
}

/** A small real PNG (the same seed-dependent gradient as makeJpeg, lossless). */
export async function makePng(seed: number, size = 28): Promise<Buffer> {
  const jpeg = await makeJpeg(seed, size);
  return sharp(jpeg).png().toBuffer();
}
