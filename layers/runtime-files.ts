import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { basename, dirname, join, relative, sep } from 'node:path';

/**
 * Finds the files a set of packages loads at runtime by following `require()` / `import` specifiers from
 * each package entry point, the way Node resolves them. A layer built from this set holds what runs, not
 * what was published: @tensorflow/tfjs ships ~140 MB of browser bundles and source maps next to the
 * ~1.3 MB Node bundle it actually loads, and declares CLI-only dependencies (yargs, core-js…) its Node
 * entry never requires. The trace cannot see files read by path (wasm binaries), so callers name those.
 */

export interface TraceOptions {
  /** Package names to start from, resolved from `projectRoot`. */
  readonly roots: readonly string[];
  /** Directory holding the `node_modules` to trace (the repository root). */
  readonly projectRoot: string;
  /** Files packages read by path, which no specifier reveals: package name → patterns like `dist/*.wasm`. */
  readonly assets?: Readonly<Record<string, readonly string[]>>;
}

export interface TraceResult {
  /** The `node_modules` directory every traced file lives in. */
  readonly nodeModules: string;
  /** Absolute paths, sorted. */
  readonly files: readonly string[];
  /** Specifiers that did not resolve (optional requires inside try/catch, names in comments), with the file asking. */
  readonly unresolved: readonly { specifier: string; from: string }[];
}

const SCANNED = /\.(c|m)?js$/;
// require('x'), import … from 'x', import('x'), export … from 'x': literals only, which is what bundles emit.
const SPECIFIER_PATTERNS = [
  /\brequire\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
  /\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
  /\b(?:import|export)\s[^'";]*?\bfrom\s*(['"])([^'"\n]+)\1/g,
];
const LICENSE_FILE = /^(licen[cs]e|copying|notice)(\.|$)/i;

/** Traces the runtime file closure of `roots`. Throws when a root or an asset pattern matches nothing. */
export function traceRuntimeFiles(options: TraceOptions): TraceResult {
  const nodeModules = realpathSync(join(options.projectRoot, 'node_modules'));
  const files = new Set<string>();
  const unresolved: { specifier: string; from: string }[] = [];
  const queue: string[] = [];
  const add = (file: string): void => {
    const real = realpathSync(file);
    if (files.has(real)) return;
    assertInside(real, nodeModules);
    files.add(real);
    if (SCANNED.test(real)) queue.push(real);
  };

  const anchor = join(options.projectRoot, 'package.json');
  for (const root of options.roots) add(resolveFrom(anchor, root, 'root package'));
  for (const [pkg, patterns] of Object.entries(options.assets ?? {})) {
    const pkgDir = dirname(resolveFrom(anchor, `${pkg}/package.json`, 'asset package'));
    for (const pattern of patterns) for (const file of matchPattern(pkgDir, pattern)) add(file);
  }
  while (queue.length > 0) {
    const file = queue.pop() as string;
    for (const specifier of specifiersIn(readFileSync(file, 'utf8'))) {
      if (isBuiltin(specifier)) continue;
      const target = tryResolve(file, specifier);
      if (target) add(target);
      else unresolved.push({ specifier, from: relative(nodeModules, file) });
    }
  }
  for (const file of [...files]) for (const meta of packageMetadata(file, nodeModules)) files.add(meta);
  return { nodeModules, files: [...files].sort(), unresolved };
}

function specifiersIn(source: string): Set<string> {
  const found = new Set<string>();
  for (const pattern of SPECIFIER_PATTERNS) {
    for (const match of source.matchAll(pattern)) found.add(match[2]);
  }
  return found;
}

function tryResolve(fromFile: string, specifier: string): string | undefined {
  try {
    const resolved = createRequire(fromFile).resolve(specifier);
    return isBuiltin(resolved) ? undefined : resolved;
  } catch {
    return undefined;
  }
}

function resolveFrom(fromFile: string, specifier: string, what: string): string {
  const resolved = tryResolve(fromFile, specifier);
  if (!resolved) throw new Error(`cannot resolve ${what} '${specifier}' from ${dirname(fromFile)}: is it installed?`);
  return resolved;
}

/** The package.json files on the way from a file up to its package root (Node reads them for `main` and `type`), and the package licence. */
function packageMetadata(file: string, nodeModules: string): string[] {
  const found: string[] = [];
  for (let dir = dirname(file); dir.startsWith(nodeModules + sep); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    found.push(manifest);
    if (isPackageRoot(dir, nodeModules)) {
      for (const name of readdirSync(dir)) {
        if (LICENSE_FILE.test(name) && statSync(join(dir, name)).isFile()) found.push(join(dir, name));
      }
      break;
    }
  }
  return found;
}

/** `node_modules/x` or `node_modules/@scope/x`, at any nesting depth. */
function isPackageRoot(dir: string, nodeModules: string): boolean {
  const parent = dirname(dir);
  if (basename(parent) === 'node_modules') return true;
  return basename(parent).startsWith('@') && basename(dirname(parent)) === 'node_modules' && parent.startsWith(nodeModules);
}

/** Minimal glob: `*` in the last segment only (`dist/*.wasm`), which is all asset lists need. */
function matchPattern(pkgDir: string, pattern: string): string[] {
  const dir = join(pkgDir, dirname(pattern));
  const [prefix, suffix] = basename(pattern).split('*');
  const names = existsSync(dir) ? readdirSync(dir) : [];
  const matched = names
    .filter((n) => (suffix === undefined ? n === prefix : n.startsWith(prefix) && n.endsWith(suffix)))
    .map((n) => join(dir, n));
  if (matched.length === 0) throw new Error(`asset pattern '${pattern}' matched no file in ${pkgDir}`);
  return matched;
}

function assertInside(file: string, nodeModules: string): void {
  if (!file.startsWith(nodeModules + sep)) {
    throw new Error(`traced file ${file} is outside ${nodeModules}; a layer can only hold installed packages`);
  }
}
