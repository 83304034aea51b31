/**
 * How to feed ONNX Runtime on this machine (issue 19), on random input:
 * - by batch size: the bare session's images/second and CPU per image (would the extract handler gain from model
 *   batches larger than 8 when the queue delivers 32 records?), the session options of the bench's bare yardstick
 *   (bare-onnx.ts);
 * - by sessions: our OnnxModel with 1, 2, … sessions (each in its worker thread, the cores shared out among them)
 *   and as many batches of 8 in flight, against one session with ORT's default threads.
 * Each row runs for at least 2 s after one untimed run, and every row is measured twice, interleaved.
 *
 *   node bin/run-ts.js bench/model-batch.ts <graph.onnx> [sizes=1,4,8,16,32] [sessions=1,2] [input=224]
 */
import { OnnxModel, threadsPerSession } from '../src/engine/onnx/session.js';
import { BareOnnxSession } from './bare-onnx.js';

const [file, sizesArg = '1,4,8,16,32', sessionsArg = '1,2', inputArg = '224'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bin/run-ts.js bench/model-batch.ts <graph.onnx> [sizes=1,4,8,16,32] [sessions=1,2] [input=224]');
  process.exit(2);
}
const sizes = sizesArg.split(',').map(Number);
const sessionCounts = sessionsArg.split(',').map(Number);
const input = Number(inputArg);
const BATCH = 8;
const MIN_MS = 2000;

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

const randomBatch = (n: number) => new Float32Array(n * input * input * 3).map(() => Math.random() * 2 - 1);

/** `inFlight` loops of `run` for MIN_MS: images/second and CPU ms per image. */
async function measure(run: () => Promise<unknown>, imagesPerRun: number, inFlight: number): Promise<string> {
  await run();
  const cpu = cpuMs();
  const started = performance.now();
  let images = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() - started < MIN_MS) {
        await run();
        images += imagesPerRun;
      }
    }),
  );
  return `${((images / (performance.now() - started)) * 1000).toFixed(1)} | ${((cpuMs() - cpu) / images).toFixed(2)}`;
}

console.log(`${file}, ${input}×${input}\n\n| bare session, batch | img/s | CPU ms/img |\n| ---: | ---: | ---: |`);
const bare = await BareOnnxSession.create(file);
try {
  for (let round = 0; round < 2; round++) {
    for (const size of sizes) {
      const batch = randomBatch(size);
      console.log(`| ${size} | ${await measure(() => bare.run(batch, size, input, input), size, 1)} |`);
    }
  }
} finally {
  await bare.release();
}

console.log(`\n| OnnxModel sessions (batches of ${BATCH} in flight) | img/s | CPU ms/img |\n| ---: | ---: | ---: |`);
const models = await Promise.all(sessionCounts.map((sessions) => OnnxModel.create(file, sessions > 1 ? { sessions } : {})));
try {
  const batch = randomBatch(BATCH);
  for (let round = 0; round < 2; round++) {
    for (const model of models) {
      const threads = model.sessions > 1 ? ` × ${threadsPerSession(model.sessions)} thread(s)` : ' (ORT default threads)';
      console.log(`| ${model.sessions}${threads} | ${await measure(() => model.run(batch, [BATCH, input, input, 3]), BATCH, model.sessions)} |`);
    }
  }
} finally {
  for (const model of models) model.dispose();
}
