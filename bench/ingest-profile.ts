/**
 * One profiled ingest pass (issue 19): where the CPU of upload → feature written goes, outside the model.
 *
 *   node --cpu-prof --cpu-prof-dir=<dir> bin/run-ts.js bench/ingest-profile.ts [model] [images]
 *
 * Starts the bench's local stack (the same as `npm run bench -- --only ingest`), warms it, then uploads
 * `images` (default 256) new images and waits for every feature. `--cpu-prof` is inherited by the S3
 * server's process (fork) and the ONNX Runtime worker (a Worker thread), so each leaves a V8 profile; the
 * pass's window (CLOCK_MONOTONIC µs, the profiles' clock) and the CPU time of every thread of both
 * processes during it (/proc: native threads too, which V8 profiles cannot see) go to `<dir>/window.json`.
 * bench/ingest-profile-summary.ts reads them back. With HEADSTART_PERF=1, `perf record` samples both
 * processes during the window too (`<dir>/perf.data`). HEADSTART_PROFILE_WARM=<n>: n unprofiled passes of the same
 * size first (a server that has run a while: V8 has compiled its hot code).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createS3Client, S3Store } from '../src/store/index.js';
import type { ModelId } from '../src/zoo/types.js';
import { loadBenchImages, withMarker } from './images.js';
import { repeatSet, timeIngest } from './ingest.js';
import { StackPool } from './stack.js';

const TICK_MS = 10;

/** CPU ms per thread (by name) of one process, from /proc/<pid>/task/<tid>/stat. */
function threadCpu(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
      const label = tid === String(pid) ? `${name} (main)` : name;
      out[label] = (out[label] ?? 0) + ms;
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

const diff = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

const model = (process.argv[2] ?? 'mobilenet_v2') as ModelId;
const count = Number(process.argv[3] ?? 256);
const dir = process.execArgv.find((a) => a.startsWith('--cpu-prof-dir='))?.split('=')[1] ?? process.env.HEADSTART_PROFILE_DIR ?? process.cwd();
const log = (line: string) => process.stderr.write(`[profile] ${line}\n`);

const stacks = new StackPool(log);
try {
  const bench = await stacks.get(model);
  const store = new S3Store(createS3Client({ endpoint: bench.stack.s3.endpoint }), bench.stack.s3.bucket);
  const base = await loadBenchImages(Math.min(count, 128));
  // Distinct bytes and distinct keys: the base set repeated under new markers and names.
  const images = repeatSet(base, count, `profile ${Date.now()}`);
  await timeIngest(bench, store, base.slice(0, 8).map((i) => withMarker(i, 'warm-up')), `${Date.now()}-warm`);
  // A long-running server has compiled its hot code long ago: HEADSTART_PROFILE_WARM=<n> full passes first, unprofiled by perf.
  for (let i = 0; i < Number(process.env.HEADSTART_PROFILE_WARM ?? 0); i++) {
    await timeIngest(bench, store, images.map((image) => withMarker(image, `warm ${i}`)), `${Date.now()}-warm-${i}`);
  }
  const s3pid = bench.stack.s3.pid!;
  let perf: ChildProcess | undefined;
  if (process.env.HEADSTART_PERF === '1') {
    perf = spawn('perf', ['record', '-F', '499', '-g', '-p', `${process.pid},${s3pid}`, '-o', join(dir, 'perf.data')], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
  }
  const before = { bench: threadCpu(process.pid), s3: threadCpu(s3pid) };
  const start = nowUs();
  const pass = await timeIngest(bench, store, images, `${Date.now()}-profile`);
  const end = nowUs();
  const after = { bench: threadCpu(process.pid), s3: threadCpu(s3pid) };
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((r) => perf!.once('exit', r));
  }
  const window = {
    model,
    images: count,
    startUs: start,
    endUs: end,
    benchPid: process.pid,
    s3Pid: s3pid,
    pass,
    threads: { bench: diff(after.bench, before.bench), s3: diff(after.s3, before.s3) },
  };
  writeFileSync(join(dir, 'window.json'), JSON.stringify(window, null, 2));
  log(`${count} images in ${pass.seconds.toFixed(1)} s, ${(pass.cpuMs / count).toFixed(1)} CPU ms/img; window in ${join(dir, 'window.json')}`);
} finally {
  await stacks.close();
}
