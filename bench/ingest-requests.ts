/**
 * CPU per S3 request on the local stack (issue 19): the ingest path's storage calls one kind at a time,
 * against the embedded S3 server in its own process (as `headstart dev` runs it), through the one client
 * factory (createS3Client) and S3Store. For each kind: client CPU (this process) and server CPU (its
 * process, from /proc) per request, after a warm-up of the same requests (V8 has compiled the hot code).
 *
 *   node bin/run-ts.js bench/ingest-requests.ts [requests per kind, default 400]
 *
 * Under `node --cpu-prof --cpu-prof-dir=<dir>` it writes the measured window for bench/ingest-profile-summary.ts
 * (its per-image figures are then per request).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalS3Process } from '../local/s3/index.js';
import { createS3Client, S3Store } from '../src/store/index.js';
import { mapLimit } from '../src/util/concurrency.js';

const n = Number(process.argv[2] ?? 400);
/** In flight at once, as the ingestor's reads and writes run. */
const CONCURRENCY = 8;
const TICK_MS = 10;

function serverCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
const clientCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const dir = await mkdtemp(join(tmpdir(), 'headstart-requests-'));
const s3 = await startLocalS3Process({ port: 0, dataDir: join(dir, 'data') });
const store = new S3Store(createS3Client({ endpoint: s3.endpoint }), s3.bucket);
try {
  const feature = Buffer.alloc(5_200, 7); // a MobileNetV2 feature file: 1,280 float32 and a header
  const image = readFileSync(fileURLToPath(new URL('../test/fixtures/datasets/fashion-mnist-small/train/bag/train-100.png', import.meta.url)));
  const link = JSON.stringify({ key: 'images/d/l/x.png', sha256: 'a'.repeat(64), etag: 'b'.repeat(32), status: 'ok', digest: 'c'.repeat(64) });
  let round = 0;
  const kinds: Array<[string, (i: number) => Promise<unknown>]> = [
    ['PUT image (PNG, upload)', (i) => store.put(`images/bench/r${round}/${i}.png`, image, { contentType: 'image/png' })],
    ['GET image', (i) => store.get(`images/bench/r${round}/${i}.png`)],
    ['GET feature, absent (check)', (i) => store.get(`features/none/r${round}/${i}.safetensors`).catch(() => undefined)],
    ['HEAD feature, absent', (i) => store.head(`features/none/r${round}/${i}.safetensors`)],
    ['PUT feature (5.2 kB)', (i) => store.put(`features/bench/r${round}/${i}.safetensors`, feature, { contentType: 'application/octet-stream' })],
    ['PUT link (JSON)', (i) => store.put(`features/bench/links/r${round}/${i}.json`, link, { contentType: 'application/json' })],
  ];
  const rows: string[] = [];
  let startUs = 0;
  for (const measured of [false, true]) {
    if (measured) startUs = Number(process.hrtime.bigint() / 1000n);
    for (const [name, run] of kinds) {
      const c0 = clientCpuMs();
      const s0 = serverCpuMs(s3.pid!);
      const t0 = performance.now();
      await mapLimit(Array.from({ length: n }, (_, i) => i), CONCURRENCY, (i) => run(i));
      const wall = performance.now() - t0;
      if (measured) rows.push(`| ${name} | ${((clientCpuMs() - c0) / n).toFixed(2)} | ${((serverCpuMs(s3.pid!) - s0) / n).toFixed(2)} | ${((n * 1000) / wall).toFixed(0)} |`);
    }
    round++;
  }
  const profileDir = process.execArgv.find((a) => a.startsWith('--cpu-prof-dir='))?.split('=')[1];
  if (profileDir) {
    // For bench/ingest-profile-summary.ts: the measured requests' window ("images" = requests).
    const window = { startUs, endUs: Number(process.hrtime.bigint() / 1000n), images: n * kinds.length, benchPid: process.pid, s3Pid: s3.pid, threads: {} };
    writeFileSync(join(profileDir, 'window.json'), JSON.stringify(window));
  }
  console.log(`${n} requests per kind, ${CONCURRENCY} in flight, after as many unmeasured\n`);
  console.log('| request | client CPU ms | server CPU ms | requests/s |\n| --- | ---: | ---: | ---: |');
  console.log(rows.join('\n'));
} finally {
  await s3.close();
  await rm(dir, { recursive: true, force: true });
}
