/**
 * The bare ONNX Runtime session's images/second and CPU per image by batch size (issue 19: would the extract
 * handler gain from model batches larger than 8 when the queue delivers 32 records?). Random input, the
 * session options of the bench's bare yardstick (bare-onnx.ts); each size runs for at least 2 s after one
 * untimed batch, and the sizes are measured twice, interleaved.
 *
 *   node bin/run-ts.js bench/model-batch.ts <graph.onnx> [sizes=1,4,8,16,32] [input=224]
 */
import { BareOnnxSession } from './bare-onnx.js';

const [file, sizesArg = '1,4,8,16,32', inputArg = '224'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bin/run-ts.js bench/model-batch.ts <graph.onnx> [sizes=1,4,8,16,32] [input=224]');
  process.exit(2);
}
const sizes = sizesArg.split(',').map(Number);
const input = Number(inputArg);
const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

const session = await BareOnnxSession.create(file);
console.log(`${file}, ${input}×${input}\n\n| batch | img/s | CPU ms/img |\n| ---: | ---: | ---: |`);
try {
  for (let round = 0; round < 2; round++) {
    for (const size of sizes) {
      const batch = new Float32Array(size * input * input * 3).map(() => Math.random() * 2 - 1);
      await session.run(batch, size, input, input);
      const cpu = cpuMs();
      const started = performance.now();
      let images = 0;
      while (performance.now() - started < 2000) {
        await session.run(batch, size, input, input);
        images += size;
      }
      console.log(`| ${size} | ${((images / (performance.now() - started)) * 1000).toFixed(1)} | ${((cpuMs() - cpu) / images).toFixed(2)} |`);
    }
  }
} finally {
  await session.release();
}
