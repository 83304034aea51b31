/**
 * `npm start` as a user runs it, with no HEADSTART_S3_* set (issue 15): the server generates its S3
 * credentials into the data directory, prints them, and everything else finds them there: `headstart upload`
 * (HEADSTART_DATA), the extract handler and a head-training worker process; the banner prints the keys as an
 * AWS CLI line; a stranger is refused. MobileNetV2 with random weights (the numbers are not the point), free ports.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomMobileNetHome } from '../helpers/dev-process.js';
import { FASHION_MNIST } from '../helpers/fixtures.js';

const ROOT = join(import.meta.dirname, '../..');
const run = promisify(execFile);

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('npm start with generated S3 credentials', () => {
  let home: string;
  let data: string;
  let images: string;
  let child: ChildProcess;
  let log = '';
  let env: NodeJS.ProcessEnv;
  let api = '';
  let s3 = '';

  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), 'hs-creds-data-'));
    images = mkdtempSync(join(tmpdir(), 'hs-creds-images-'));
    // Two labels of five images: enough to extract and train on, quick on a busy machine.
    for (const label of ['bag', 'coat']) {
      mkdirSync(join(images, 'fm', label), { recursive: true });
      for (const file of readdirSync(join(FASHION_MNIST, 'train', label)).slice(0, 5)) copyFileSync(join(FASHION_MNIST, 'train', label, file), join(images, 'fm', label, file));
    }
    home = await randomMobileNetHome('hs-creds');
    env = { ...process.env, HEADSTART_HOME: home, POWERTOOLS_METRICS_DISABLED: 'true' };
    for (const name of ['HEADSTART_S3_ACCESS_KEY_ID', 'HEADSTART_S3_SECRET_ACCESS_KEY', 'HEADSTART_API_KEY', 'HEADSTART_DATA']) delete env[name];
    child = spawn(process.execPath, ['bin/headstart.js', 'dev', '--port', '0', '--s3-port', '0', '--data', data, '--model', 'mobilenet_v2'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    await until('headstart dev to report it is running', async () => {
      if (child.exitCode !== null) throw new Error(`headstart dev exited:\n${log}`);
      return log.includes('headstart is running') ? true : undefined;
    }, 120_000);
    const url = (what: string) => new RegExp(`^\\s+${what}\\s+(http://\\S+)`, 'm').exec(log)![1]!;
    api = url('API');
    s3 = url('S3');
  }, 240_000);

  afterAll(async () => {
    if (child?.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
    for (const dir of [home, data, images]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints them, keeps them 0600, and the CLI, extraction and a training worker use them; strangers are refused', async () => {
    const kept = JSON.parse(readFileSync(join(data, '.s3-credentials.json'), 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    expect(statSync(join(data, '.s3-credentials.json')).mode & 0o777).toBe(0o600);
    expect(log).toContain(`generated now, kept in ${join(data, '.s3-credentials.json')} (0600); headstart commands find them with HEADSTART_DATA=${data}`);
    expect(log).toContain(`AWS_ACCESS_KEY_ID=${kept.accessKeyId} AWS_SECRET_ACCESS_KEY=${kept.secretAccessKey} aws --endpoint-url ${s3}`);

    // `headstart upload` in another shell: it finds the credentials through HEADSTART_DATA.
    const upload = await run(process.execPath, ['bin/headstart.js', 'upload', join(images, 'fm'), '--dataset', 'fm', '--endpoint', s3], {
      cwd: ROOT,
      env: { ...env, HEADSTART_DATA: data },
      timeout: 120_000,
    }).catch((e: Error & { stderr: string }) => e);
    expect(upload, String((upload as { stderr?: string }).stderr)).not.toBeInstanceOf(Error);
    const totals = await until('fm to be extracted', async () => {
      const t = ((await (await fetch(`${api}/datasets/fm`)).json()) as { totals: { images: number; pending: number; extracted: number } }).totals;
      return t.images > 0 && t.pending === 0 ? t : undefined;
    }, 300_000);
    expect(totals).toMatchObject({ images: 10, extracted: 10 });

    // Head training runs in a worker process, which reads the features through the S3 port.
    const { jobId } = (await (await fetch(`${api}/train`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataset: 'fm', head: { epochs: 2 } }) })).json()) as { jobId: string };
    const job = await until('the head to train', async () => {
      const j = (await (await fetch(`${api}/jobs/${jobId}`)).json()) as { status: string; error?: unknown };
      return j.status === 'succeeded' || j.status === 'failed' ? j : undefined;
    }, 180_000);
    expect(job).toMatchObject({ status: 'succeeded' });

    // Without the credentials: the same command is refused, saying what to set.
    // (Run from a folder with no .headstart in it.)
    const stranger = await run(process.execPath, [join(ROOT, 'bin/headstart.js'), 'upload', join(images, 'fm'), '--dataset', 'other', '--endpoint', s3], { cwd: images, env, timeout: 60_000 }).catch((e: Error & { stderr: string }) => e);
    expect(String((stranger as { stderr?: string }).stderr)).toMatch(/No credentials for the embedded S3 server|HEADSTART_S3_ACCESS_KEY_ID/);
    const anonymous = await fetch(`${s3}/headstart/jobs/${jobId}.json`);
    expect(anonymous.status).toBe(403);
  });
});
