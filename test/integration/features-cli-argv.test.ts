import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePng } from '../helpers/images.js';

const IMAGES = 150;

/** Runs the real executable (the process's own command line is what matters here), with ORT's default environment. */
function headstart(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const { ORT_DISABLE_TELEMETRY: _left, ...inherited } = process.env;
  const child = spawn(process.execPath, ['bin/headstart.js', ...args], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('headstart features on a long list of files (a folder glob)', () => {
  let root: string;
  let images: string[];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hs-features-argv-'));
    // Long folder and file names, as a user's photo library has them: 150 paths make a ~40 KB command line,
    // past the ~20 KB at which ONNX Runtime's telemetry overflowed its worker's stack (SIGSEGV before any file).
    const folder = join(root, 'a photo library folder with a rather long name '.repeat(3).trim());
    mkdirSync(folder, { recursive: true });
    images = [];
    for (let i = 0; i < IMAGES; i++) {
      const path = join(folder, `holiday-2026-camera-roll-exported-at-full-resolution-${String(i).padStart(4, '0')}.png`);
      writeFileSync(path, await makePng(i));
      images.push(path);
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes one feature file per image with the ONNX engine, however long the command line', async () => {
    const out = join(root, 'out');
    const args = ['features', ...images, '--model', 'mobilenet_v2', '--weights', 'random', '--pooling', 'avg', '--engine', 'onnx', '--out', out, '--json'];
    expect(args.join(' ').length).toBeGreaterThan(30_000);

    const result = await headstart(args, { HEADSTART_HOME: join(root, 'home') });

    expect(result.signal, result.stderr.slice(-2000)).toBeNull();
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const written = JSON.parse(result.stdout).files as Array<{ image: string; shape: number[] }>;
    expect(written).toHaveLength(IMAGES);
    expect(written.every((w) => w.shape.join() === '1280')).toBe(true);
    expect(readdirSync(out).filter((f) => f.endsWith('.safetensors'))).toHaveLength(IMAGES);
  }, 120_000);
});
