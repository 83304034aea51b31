import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevProcess, randomMobileNetHome } from '../helpers/dev-process.js';
import { FASHION_MNIST, PHOTOS } from '../helpers/fixtures.js';

/**
 * Load on `headstart dev` (issue 15, part of `npm run test:faults`): 8 clients POST /classify for
 * HEADSTART_LOAD_SECONDS with a mix of good images, bad ones (random bytes, a truncated JPEG, an empty body,
 * text sent as a PNG, bad base64) and a batch holding both. Nothing may answer 5xx; good images 200, bad ones
 * 4xx; p50/p99 per kind and the resident memory of the server and its S3 process are reported.
 */
const SECONDS = Number(process.env.HEADSTART_LOAD_SECONDS ?? 0);
const CLIENTS = 8;
if (!SECONDS) console.log('load test skipped: it runs in `npm run test:faults` (HEADSTART_LOAD_SECONDS sets its length).');

interface Case {
  kind: 'good' | 'bad' | 'mixed';
  name: string;
  init: RequestInit;
  expect: (status: number) => boolean;
}

function cases(): Case[] {
  const image = (name: string, bytes: Buffer, type: string): RequestInit => ({ method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(bytes) });
  const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const photos = readdirSync(PHOTOS).filter((f) => f.endsWith('.jpg')).map((f) => ({ f, bytes: readFileSync(join(PHOTOS, f)) }));
  const pngs = ['bag', 'coat', 'dress', 'sandal'].map((label) => {
    const f = readdirSync(join(FASHION_MNIST, 'test', label))[0]!;
    return { f: `${label}/${f}`, bytes: readFileSync(join(FASHION_MNIST, 'test', label, f)) };
  });
  const ok = (s: number) => s === 200;
  const refused = (s: number) => s >= 400 && s < 500;
  return [
    ...photos.map(({ f, bytes }): Case => ({ kind: 'good', name: f, init: image(f, bytes, 'image/jpeg'), expect: ok })),
    ...pngs.map(({ f, bytes }): Case => ({ kind: 'good', name: f, init: image(f, bytes, 'image/png'), expect: ok })),
    { kind: 'bad', name: 'random bytes', init: image('r', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)), 'image/jpeg'), expect: refused },
    { kind: 'bad', name: 'truncated jpeg', init: image('t', photos[0]!.bytes.subarray(0, photos[0]!.bytes.length >> 1), 'image/jpeg'), expect: refused },
    { kind: 'bad', name: 'empty body', init: image('e', Buffer.alloc(0), 'image/png'), expect: refused },
    { kind: 'bad', name: 'text as png', init: image('x', Buffer.from('this is not an image\n'.repeat(50)), 'image/png'), expect: refused },
    { kind: 'bad', name: 'bad base64', init: json({ image: '***not base64***' }), expect: refused },
    { kind: 'mixed', name: 'batch of a good and a bad image', init: json({ images: [{ image: pngs[0]!.bytes.toString('base64') }, { image: Buffer.from('garbage').toString('base64') }] }), expect: ok },
  ];
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

describe.skipIf(!SECONDS)(`load: ${CLIENTS}-way POST /classify with good and bad images for ${SECONDS} s`, () => {
  let home: string;
  let data: string;
  let stack: DevProcess;

  beforeAll(async () => {
    home = await randomMobileNetHome('hs-load');
    data = mkdtempSync(join(tmpdir(), 'hs-load-data-'));
    stack = new DevProcess(DevProcess.env(home), data);
    await stack.start();
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }, 60_000);

  it('answers every request, never 5xx; good images 200, bad ones 4xx; reports latency and memory', async () => {
    const all = cases();
    const url = `${stack.api}/classify?model=mobilenet_v2&top=3`;
    const latencies: Record<Case['kind'], number[]> = { good: [], bad: [], mixed: [] };
    const wrong: string[] = [];
    const statuses = new Map<number, number>();
    const rss = { server: [] as number[], s3: [] as number[] };
    const sample = () => {
      rss.server.push(DevProcess.rssMiB(stack.pid));
      rss.s3.push(DevProcess.rssMiB(stack.s3Pid()));
    };
    sample();
    const sampler = setInterval(sample, 1000);
    const deadline = Date.now() + SECONDS * 1000;
    let next = 0;
    const client = async () => {
      while (Date.now() < deadline) {
        const c = all[next++ % all.length]!;
        const started = performance.now();
        const response = await fetch(url, c.init);
        await response.arrayBuffer();
        latencies[c.kind].push(performance.now() - started);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (!c.expect(response.status)) wrong.push(`${c.name}: ${response.status}`);
      }
    };
    const began = Date.now();
    await Promise.all(Array.from({ length: CLIENTS }, client));
    clearInterval(sampler);
    sample();

    const seconds = (Date.now() - began) / 1000;
    const total = Object.values(latencies).reduce((n, l) => n + l.length, 0);
    const line = (kind: Case['kind']) => {
      const sorted = [...latencies[kind]].sort((a, b) => a - b);
      return `${kind.padEnd(5)} n=${String(sorted.length).padStart(5)}  p50 ${percentile(sorted, 50).toFixed(0).padStart(5)} ms  p99 ${percentile(sorted, 99).toFixed(0).padStart(5)} ms`;
    };
    const mem = (values: number[]) => `start ${values[0]!.toFixed(0)} MiB, peak ${Math.max(...values).toFixed(0)} MiB, end ${values.at(-1)!.toFixed(0)} MiB`;
    console.log(
      [
        `load: ${CLIENTS} clients, ${seconds.toFixed(0)} s, ${total} requests (${(total / seconds).toFixed(1)}/s), statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
        `  ${line('good')}`,
        `  ${line('bad')}`,
        `  ${line('mixed')}`,
        `  RSS server: ${mem(rss.server)}; S3 process: ${mem(rss.s3)}`,
      ].join('\n'),
    );
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
    expect(wrong).toEqual([]);
    expect(latencies.good.length).toBeGreaterThan(0);
    expect(latencies.bad.length).toBeGreaterThan(0);
    // Still serving after the load.
    expect((await fetch(`${stack.api}/datasets`)).status).toBe(200);
  }, (SECONDS + 120) * 1000);
});
