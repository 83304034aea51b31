#!/usr/bin/env node
// Writes src/features/default-calibration.json, the int8 calibration set every headstart install carries
// (src/features/calibration.ts): 16 crops of the four licensed photos in test/fixtures/images (origins and
// licences in test/fixtures/README.md), 256×256 JPEG q85, base64. Deterministic: `node bin/make-calibration-set.js`.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';

const root = resolve(import.meta.dirname, '..');
const dir = join(root, 'test/fixtures/images');
const SIZE = 256;

/** Four views of a photo: the whole frame squashed, the centre square, and two opposite corner squares mirrored. */
function views(width, height) {
  const side = Math.min(width, height);
  const corner = Math.round(side * 0.8);
  return [
    { name: 'whole', extract: undefined, flop: false },
    { name: 'centre', extract: { left: (width - side) >> 1, top: (height - side) >> 1, width: side, height: side }, flop: false },
    { name: 'top-left', extract: { left: 0, top: 0, width: corner, height: corner }, flop: true },
    { name: 'bottom-right', extract: { left: width - corner, top: height - corner, width: corner, height: corner }, flop: true },
  ];
}

const images = [];
for (const file of (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort()) {
  const bytes = await readFile(join(dir, file));
  const { width, height } = await sharp(bytes).metadata();
  for (const view of views(width, height)) {
    let image = sharp(bytes);
    if (view.extract) image = image.extract(view.extract);
    if (view.flop) image = image.flop();
    const jpeg = await image.resize(SIZE, SIZE, { fit: 'fill' }).jpeg({ quality: 85 }).toBuffer();
    images.push({ name: `${file.replace(/\.jpg$/, '')}-${view.name}.jpg`, jpeg: jpeg.toString('base64') });
  }
}
const set = {
  about: 'headstart default int8 calibration set: 16 crops (256x256 JPEG q85) of test/fixtures/images; made by bin/make-calibration-set.js',
  images,
};
await writeFile(join(root, 'src/features/default-calibration.json'), `${JSON.stringify(set)}\n`);
console.log(`${images.length} images, ${images.reduce((n, i) => n + i.jpeg.length, 0)} base64 chars`);
