import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs a python3 snippet (numpy available) with `args` as sys.argv[1:]; returns its stdout. */
export function python(code: string, ...args: string[]): string {
  return execFileSync('python3', ['-c', code, ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** A fresh temporary folder and its cleanup. */
export function tempDir(prefix: string): { dir: string; path: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
