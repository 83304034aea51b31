// The tree's shape, checked: no import cycles, and every declared dependency is used somewhere.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CODE_DIRS = ['src', 'functions', 'local', 'infra', 'layers', 'bin', 'bench', 'test', 'console'];

describe('import graph', () => {
  it('has no circular imports in src, functions, local, infra, layers, bin or console (madge)', async () => {
    const graph = await madge(
      ['src', 'functions', 'local', 'infra', 'layers', 'bin', 'console'].map((dir) => join(root, dir)),
      { fileExtensions: ['ts', 'tsx', 'js'], tsConfig: join(root, 'tsconfig.json'), baseDir: root },
    );
    expect(graph.circular()).toEqual([]);
  });
});

/** Every file under the code folders, plus the top-level files that can name a package. */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'cdk.out' || name.startsWith('.headstart')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|js|mjs|cjs|tsx)$/.test(name) || name === 'Dockerfile') files.push(path);
    }
  };
  for (const dir of [...CODE_DIRS, 'docker']) if (existsSync(join(root, dir))) walk(join(root, dir));
  for (const name of ['vitest.config.ts', 'cdk.json', '.ci/run']) if (existsSync(join(root, name))) files.push(join(root, name));
  return files;
}

function binsOf(pkg: string): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as {
    bin?: string | Record<string, string>;
  };
  if (!manifest.bin) return [];
  return typeof manifest.bin === 'string' ? [pkg.split('/').pop()!] : Object.keys(manifest.bin);
}

describe('declared dependencies', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
    scripts: Record<string, string>;
  };
  const declared = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {})];
  const texts = sourceFiles().map((path) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') }));
  const scripts = Object.values(manifest.scripts).join('\n') + '\n' + texts.filter((t) => !t.path.endsWith('.ts')).map((t) => t.text).join('\n');

  const imported = (pkg: string): boolean => {
    const quoted = new RegExp(`(from|import\\(|require\\(|import)\\s*['"]${pkg.replace(/[/.]/g, '\\$&')}(/[^'"]*)?['"]`);
    return texts.some(({ text }) => quoted.test(text));
  };
  const runAsCommand = (pkg: string): boolean =>
    binsOf(pkg).some((bin) => new RegExp(`(^|[\\s/"'(])${bin.replace(/[.]/g, '\\.')}([\\s"')]|$)`, 'm').test(scripts));
  const used = (pkg: string): boolean => {
    if (pkg.startsWith('@types/')) {
      const typed = pkg.slice('@types/'.length).replace(/^(.+)__(.+)$/, '@$1/$2');
      return typed === 'node' || imported(typed) || declared.includes(typed);
    }
    return imported(pkg) || runAsCommand(pkg);
  };

  it.each(declared)('%s is imported or run by a script', (pkg) => {
    expect(used(pkg), `${pkg} is declared in package.json but nothing imports or runs it`).toBe(true);
  });
});
