/**
 * CPU per image of each step between image bytes and the model's input (issue 19): sharp's header read and
 * decode, the nearest resize, each preprocess mode, and `loadImage` whole (one at a time, and 8 at once as a
 * pipeline batch decodes). The same image mix as the ingest bench (`loadBenchImages`).
 *
 *   node bin/run-ts.js bench/decode-profile.ts [images=128] [passes=3]
 */
import sharp from 'sharp';
import { loadImage } from '../src/image/load.js';
import { preprocessInto, PREPROCESS_MODES } from '../src/image/preprocess.js';
import { resizeNearest } from '../src/image/resize.js';
import { describeMix, loadBenchImages } from './images.js';

const count = Number(process.argv[2] ?? 128);
const passes = Number(process.argv[3] ?? 3);
const images = await loadBenchImages(count);
const SIZE = 224;

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/** One untimed pass, then `passes` timed ones: CPU and wall ms per image. */
async function step(name: string, pass: () => Promise<unknown> | unknown): Promise<void> {
  await pass();
  const cpu = cpuMs();
  const wall = performance.now();
  for (let p = 0; p < passes; p++) await pass();
  const per = (ms: number) => (ms / passes / images.length).toFixed(3);
  console.log(`| ${name} | ${per(cpuMs() - cpu)} | ${per(performance.now() - wall)} |`);
}

const rgb = await Promise.all(images.map((i) => sharp(i.bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })));
const resized = new Uint8Array(SIZE * SIZE * 3).map((_, i) => (i * 7919) % 256);
const out = new Float32Array(SIZE * SIZE * 3);

console.log(`${images.length} images (${describeMix(images)}), ${passes} passes after one untimed, to ${SIZE}×${SIZE}\n`);
console.log('| step | CPU ms/img | wall ms/img |\n| --- | ---: | ---: |');
await step('sharp header (metadata)', async () => {
  for (const i of images) await sharp(i.bytes).metadata();
});
await step('sharp decode to raw RGB', async () => {
  for (const i of images) await sharp(i.bytes, { failOn: 'truncated', autoOrient: true, pages: 1, page: 0, ignoreIcc: true }).removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer();
});
await step('resizeNearest (PIL NEAREST)', () => {
  for (const { data, info } of rgb) resizeNearest(data, info.width, info.height, 3, SIZE, SIZE);
});
for (const mode of PREPROCESS_MODES) {
  await step(`preprocessInto '${mode}'`, () => {
    for (let k = 0; k < images.length; k++) preprocessInto(resized, out, 0, mode);
  });
}
await step('loadImage, one at a time', async () => {
  for (const i of images) await loadImage(i.bytes, { targetSize: [SIZE, SIZE] });
});
await step('loadImage, 8 at once', async () => {
  for (let s = 0; s < images.length; s += 8) await Promise.all(images.slice(s, s + 8).map((i) => loadImage(i.bytes, { targetSize: [SIZE, SIZE] })));
});
