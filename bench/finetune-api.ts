// Real check of fine-tuning as a user runs it (not a test, not part of `npm run bench`: ≈ 7 min): the local
// stack with DenseNet121 (../shared weights); upload PER images per label of fashion-mnist-small train/, POST /train
// (a head), POST /train {"mode":"finetune","fromHead":…,"unfreeze":"conv5"}, then the head and the fine-tuned model
// on all of test/ (500 images never trained on) through POST /classify.
// Run: node bin/run-ts.js bench/finetune-api.ts  (PER=40 images per label, EPOCHS=3)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevStack } from '../local/dev.js';
import { createS3Client, S3Store } from '../src/store/index.js';
import { importWeights } from '../src/weights/index.js';

const PER = Number(process.env.PER ?? 40);
const EPOCHS = Number(process.env.EPOCHS ?? 3);
const SHARED = join(import.meta.dirname, '../../shared/datasets/fashion-mnist-small');
const home = mkdtempSync(join(tmpdir(), 'hs-ftreal-home-'));
const data = mkdtempSync(join(tmpdir(), 'hs-ftreal-data-'));
await importWeights(join(import.meta.dirname, '../../shared/models/densenet121'), { model: 'densenet121', home });
const stack = await startDevStack({ port: 0, s3Port: 0, dataDir: data, home, model: 'densenet121', log: () => undefined });
const api = stack.api.url;
const store = new S3Store(createS3Client({ endpoint: stack.s3.endpoint }), stack.s3.bucket);
const t0 = Date.now();
const s = () => ((Date.now() - t0) / 1000).toFixed(0) + ' s';
for (const label of readdirSync(join(SHARED, 'train')).sort()) {
  for (const f of readdirSync(join(SHARED, 'train', label)).sort().slice(0, PER)) await store.put(`images/fm/${label}/${f}`, readFileSync(join(SHARED, 'train', label, f)));
}
await new Promise((r) => setTimeout(r, 500));
await stack.queue.idle();
console.log('uploaded + extracted', PER * 10, s());
const post = async (path: string, body: unknown) => (await fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<any>;
const pollMs: number[] = [];
let pollErrors = 0;
const until = async (jobId: string) => {
  for (;;) {
    const a = performance.now();
    const res = await fetch(`${api}/jobs/${jobId}`);
    pollMs.push(performance.now() - a);
    if (res.status !== 200) pollErrors++;
    const job = (await res.json()) as any;
    if (job.status === 'succeeded' || job.status === 'failed') return job;
    await new Promise((r) => setTimeout(r, 2000));
  }
};
const headJob = await until((await post('/train', { dataset: 'fm' })).jobId);
console.log('head job', headJob.status, headJob.headId, 'epochs', headJob.history.length, 'val acc', headJob.history.at(-1)?.valAccuracy, s());
const started = await post('/train', { mode: 'finetune', dataset: 'fm', fromHead: headJob.headId, unfreeze: 'conv5', epochs: EPOCHS, patience: 2 });
console.log('finetune started', started);
const ft = await until(started.jobId);
pollMs.sort((a, b) => a - b);
console.log('GET /jobs while training:', pollMs.length, 'polls, errors', pollErrors, 'p50', pollMs[pollMs.length >> 1]!.toFixed(0), 'ms, max', pollMs.at(-1)!.toFixed(0), 'ms');
console.log('finetune job', ft.status, ft.modelId, ft.error, s());
for (const h of ft.history) console.log(`  epoch ${h.epoch}: loss ${h.loss.toFixed(4)} acc ${h.accuracy.toFixed(3)} val_loss ${h.valLoss?.toFixed(4)} val_acc ${h.valAccuracy?.toFixed(3)} (${(h.elapsedMs / 1000).toFixed(0)} s)`);
const models = (await (await fetch(`${api}/models`)).json()) as any;
console.log('finetuned listed', models.finetuned.map((m: any) => m.modelId));
// Both on test/ (50 per label, never seen by either).
let headRight = 0, ftRight = 0, n = 0;
for (const label of readdirSync(join(SHARED, 'test')).sort()) {
  const files = readdirSync(join(SHARED, 'test', label)).sort();
  for (let i = 0; i < files.length; i += 10) {
    const images = files.slice(i, i + 10).map((f) => ({ image: readFileSync(join(SHARED, 'test', label, f)).toString('base64') }));
    const h = await post(`/classify?head=${headJob.headId}&top=1`, { images });
    const m = await post(`/classify?model=${ft.modelId}&top=1`, { images });
    for (let j = 0; j < images.length; j++) {
      n++;
      if (h.results[j].predictions?.[0].label === label) headRight++;
      if (m.results[j].predictions?.[0].label === label) ftRight++;
    }
  }
}
console.log(`test/ accuracy over ${n}: head only ${(headRight / n).toFixed(3)}, fine-tuned ${(ftRight / n).toFixed(3)}`, s());
const t1 = performance.now();
const img = readFileSync(join(SHARED, 'test', 'bag', readdirSync(join(SHARED, 'test', 'bag'))[0]!));
const lat: number[] = [];
for (let i = 0; i < 30; i++) {
  const a = performance.now();
  await fetch(`${api}/classify?model=${ft.modelId}`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: img });
  lat.push(performance.now() - a);
}
lat.sort((a, b) => a - b);
console.log('classify?model=<fine-tuned> 30 sequential: p50', lat[15]!.toFixed(0), 'ms, max', lat[29]!.toFixed(0), 'ms', (performance.now() - t1).toFixed(0));
await stack.close();
rmSync(home, { recursive: true, force: true });
rmSync(data, { recursive: true, force: true });
