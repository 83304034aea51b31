import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3Client, S3Store } from '../../src/store/index.js';
import { importWeights } from '../../src/weights/index.js';
import { buildModel } from '../../src/zoo/index.js';
import { writeTfjsFolder } from '../unit/finetune/fixtures.js';
import { randomizeWeights } from '../unit/onnx/helpers.js';

/**
 * `headstart dev` as a user runs it, in a process group of its own, for fault injection (issue 15): free
 * ports (`--port 0 --s3-port 0`) read back from the banner, its log kept, killable with SIGKILL.
 */
const ROOT = join(import.meta.dirname, '../..');

export interface Totals {
  images: number;
  extracted: number;
  failed: number;
  pending: number;
}
export interface Dataset {
  totals: Totals;
  recovery?: { state: string; found: number; extracted: number; failed: number; message: string };
}
export interface Job {
  jobId: string;
  status: string;
  headId?: string;
  error?: { code: string; message: string };
}

/**
 * A weights cache with MobileNetV2 (with its top, for /classify) at random weights: the extraction path is
 * the real one; the numbers are not the point. Returns the folder (HEADSTART_HOME); remove it when done.
 */
export async function randomMobileNetHome(prefix: string): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), `${prefix}-home-`));
  const model = buildModel('mobilenet_v2', { includeTop: true });
  const folder = mkdtempSync(join(tmpdir(), `${prefix}-weights-`));
  try {
    randomizeWeights(model);
    await writeTfjsFolder(model, folder);
    await importWeights(folder, { model: 'mobilenet_v2', home });
  } finally {
    model.dispose();
    rmSync(folder, { recursive: true, force: true });
  }
  return home;
}

export class DevProcess {
  log = '';
  api = '';
  s3Endpoint = '';
  store!: S3Store;
  private child!: ChildProcess;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly data: string,
  ) {}

  /** The environment a test stack runs with: its weights cache, no API key, no EMF lines. */
  static env(home: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, HEADSTART_HOME: home, POWERTOOLS_METRICS_DISABLED: 'true' };
    delete env.HEADSTART_API_KEY;
    delete env.HEADSTART_DATA;
    return env;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the exit code once `headstart dev` has exited by itself. */
  exited(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** The embedded S3 server's process (the server's child running local/s3/child.ts). */
  s3Pid(): number {
    const lines = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(this.pid)], { encoding: 'utf8' }).split('\n');
    const line = lines.find((l) => l.includes('local/s3/child.ts'));
    if (!line) throw new Error(`no S3 child process under ${this.pid}:\n${lines.join('\n')}`);
    return Number(line.trim().split(/\s+/)[0]);
  }

  async start(): Promise<void> {
    this.log = '';
    this.child = spawn(process.execPath, ['bin/headstart.js', 'dev', '--port', '0', '--s3-port', '0', '--data', this.data, '--model', 'mobilenet_v2'], {
      cwd: ROOT,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout!.on('data', (d) => (this.log += d));
    this.child.stderr!.on('data', (d) => (this.log += d));
    await until('headstart dev to report it is running', async () => {
      if (this.child.exitCode !== null) throw new Error(`headstart dev exited:\n${this.log}`);
      return this.log.includes('headstart is running') ? true : undefined;
    }, 120_000);
    const url = (what: string) => new RegExp(`^\\s+${what}\\s+(http://\\S+)`, 'm').exec(this.log)![1]!;
    this.api = url('API');
    this.s3Endpoint = url('S3');
    this.store = new S3Store(createS3Client({ endpoint: this.s3Endpoint }), 'headstart');
  }

  /** SIGKILL to the process group: the server and its S3 child die at once, nothing gets to clean up. */
  async kill(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    process.kill(-this.child.pid!, 'SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    if (!this.child?.pid || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    process.kill(-this.child.pid, 'SIGINT');
    const timer = setTimeout(() => process.kill(-this.child.pid!, 'SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }

  async json<T>(path: string, init?: RequestInit): Promise<T> {
    return (await (await fetch(`${this.api}${path}`, init)).json()) as T;
  }

  post(path: string, body: unknown): Promise<Response> {
    return fetch(`${this.api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  train(dataset: string, head: object): Promise<Job> {
    return this.json<Job>('/train', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataset, head }) });
  }

  /** Resident memory of a process, in MiB (from /proc). */
  static rssMiB(pid: number): number {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1024;
  }
}

export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
