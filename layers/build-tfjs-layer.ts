import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { traceRuntimeFiles } from './runtime-files.js';
import { createZip, type ZipEntry } from './zip-writer.js';

/**
 * Builds the Lambda layer the train function runs on: TF.js with the wasm backend, laid out as
 * `nodejs/node_modules/...` (the path Lambda's Node runtimes resolve, for CommonJS and ES modules alike).
 * The zip is reproducible (sorted entries, fixed timestamps and modes), so its hash only moves when a
 * package version does.
 *
 *   node bin/run-ts.js layers/build-tfjs-layer.ts [out.zip]
 */

/** What the train function imports from the layer (and bundles must leave external). */
export const TFJS_LAYER_PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'] as const;
/** The wasm backend loads these by path from its own dist/ folder; no specifier reveals them. */
export const TFJS_LAYER_ASSETS = { '@tensorflow/tfjs-backend-wasm': ['dist/*.wasm'] } as const;
/** Lambda: function code plus all layers, unzipped, at most 250 MB (262,144,000 bytes). */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;
/** What the layer leaves for the train function's own bundle (our code + AWS SDK + middy is a few MB). */
export const TRAIN_FUNCTION_BUDGET_BYTES = 25 * 1024 * 1024;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_LAYER_ZIP = join(REPO_ROOT, 'layers', 'dist', 'tfjs-layer.zip');

export interface LayerBuildOptions {
  /** Directory with the `node_modules` to take packages from. @default the repository root */
  readonly projectRoot?: string;
  /** Where to write the zip. @default layers/dist/tfjs-layer.zip */
  readonly outFile?: string;
}

export interface LayerBuildResult {
  readonly zipPath: string;
  readonly sha256: string;
  readonly entries: readonly string[];
  readonly unzippedBytes: number;
  readonly zippedBytes: number;
  /** Specifiers the trace could not resolve (optional requires); reported, not fatal. */
  readonly unresolved: readonly { specifier: string; from: string }[];
}

/** The layer's entries, sorted by name: the traced runtime files of TF.js + the wasm backend. */
export function tfjsLayerEntries(projectRoot: string = REPO_ROOT): {
  entries: ZipEntry[];
  unresolved: LayerBuildResult['unresolved'];
} {
  const trace = traceRuntimeFiles({ roots: TFJS_LAYER_PACKAGES, projectRoot, assets: TFJS_LAYER_ASSETS });
  const entries = trace.files
    .map((file) => ({ name: `nodejs/node_modules/${relative(trace.nodeModules, file).split(sep).join('/')}`, file }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ name, file }) => ({ name, data: readFileSync(file) }));
  return { entries, unresolved: trace.unresolved };
}

/**
 * Builds the layer zip. Synchronous on purpose: CDK's local bundling hook (`ILocalBundling.tryBundle`) is
 * synchronous, and the stack calls this at synth time. The file is written to a temp name and renamed, so a
 * killed build never leaves a truncated zip for CDK to upload.
 */
export function buildTfjsLayer(options: LayerBuildOptions = {}): LayerBuildResult {
  const outFile = resolve(options.outFile ?? DEFAULT_LAYER_ZIP);
  const { entries, unresolved } = tfjsLayerEntries(options.projectRoot ?? REPO_ROOT);
  const zip = createZip(entries);
  mkdirSync(dirname(outFile), { recursive: true });
  const temp = `${outFile}.${process.pid}.tmp`;
  writeFileSync(temp, zip);
  renameSync(temp, outFile);
  return {
    zipPath: outFile,
    sha256: createHash('sha256').update(zip).digest('hex'),
    entries: entries.map((e) => e.name),
    unzippedBytes: entries.reduce((sum, e) => sum + e.data.length, 0),
    zippedBytes: zip.length,
    unresolved,
  };
}

function isMain(): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(resolve(entry)).href === import.meta.url;
}

if (isMain()) {
  const result = buildTfjsLayer({ outFile: process.argv[2] });
  const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
  console.log(`${result.zipPath}: ${result.entries.length} files, ${mb(result.unzippedBytes)} unzipped, ${mb(result.zippedBytes)} zipped`);
  console.log(`sha256 ${result.sha256}`);
  for (const u of result.unresolved) console.log(`unresolved (optional): '${u.specifier}' from ${u.from}`);
}
