import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { REPO_ROOT } from '../../infra/entries.js';
import { parseDockerfile, type DockerStage } from './dockerfile-rules.js';
import { randomMobileNetHome } from './dev-process.js';
import { assetPath, dirBytes, emptySandbox, node22, readOnly, removeSandbox, runtimeModules, type FunctionArtifact, type Sandbox, type Synth } from './lambda-artifacts.js';

/**
 * The container half of the Lambda artifact harness (test/helpers/lambda-artifacts.ts): the Lambda image's task
 * root built the way its Dockerfile's stages build it, without Docker, from the build context `cdk synth` staged
 * in cdk.out (not the repository):
 * - build: the context's own `docker/extract/bundle.mjs` bundles the entries the build args name (plus
 *   ONNX Runtime's worker, as the Dockerfile does) under Node 22; the repository's node_modules stands in for the
 *   stage's `npm ci` (same lockfile). Weights: `headstart weights pull` needs the network, so the baked cache
 *   holds **random** MobileNetV2 weights (test/helpers/dev-process.ts randomMobileNetHome), and then the
 *   Dockerfile's two warm commands export them to ONNX into it, as the image bakes the official ones.
 * - deps: `npm ci --omit=dev` of the context's package files and the context's prune script, cached by their hash.
 * - final: pruned node_modules + the bundle in the task root, the baked cache in /opt/headstart (both read-only),
 *   the final stage's ENV read from the Dockerfile with its /opt and task-root paths mapped into the sandbox.
 * The build writes straight into the sandbox (one image, one layout: the pruned node_modules is ~20,000 files).
 * test/unit/infra/lambda-image-harness.test.ts holds these steps to the Dockerfile's lines, so they cannot drift.
 */

const CACHE = join(REPO_ROOT, 'node_modules', '.cache', 'headstart');

/** The Docker image asset a container function runs: Headstart.assets.json `dockerImages[<hash>].source`. */
export interface ImageAsset {
  hash: string;
  /** The build context as `cdk synth` staged it in cdk.out. */
  contextDir: string;
  /** The Dockerfile, relative to the context. */
  dockerfile: string;
  buildArgs: Record<string, string>;
}

/** A container function of ours in the template: its handler is the image CMD the function sets. */
export interface ImageArtifact extends FunctionArtifact {
  image: ImageAsset;
}

/** Every container function whose description starts with 'headstart:', with its image asset. */
export function imageArtifacts(synth: Synth): ImageArtifact[] {
  return Object.entries(synth.template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.PackageType === 'Image' && String(r.Properties.Description).startsWith('headstart:'))
    .map(([logicalId, r]) => {
      const contextDir = assetPath(synth, r, logicalId);
      const [hash, asset] = Object.entries<any>(synth.assets.dockerImages ?? {}).find(([, a]) => join(synth.dir, a.source.directory) === contextDir) ?? [];
      if (!hash) throw new Error(`${logicalId}: no docker image asset for ${contextDir} in Headstart.assets.json`);
      const command: unknown = r.Properties.ImageConfig?.Command?.[0];
      if (typeof command !== 'string') throw new Error(`${logicalId}: no ImageConfig.Command (the image's CMD would run, not this function's handler)`);
      return {
        logicalId,
        description: r.Properties.Description,
        handler: command,
        memoryMb: r.Properties.MemorySize ?? 128,
        timeoutS: r.Properties.Timeout ?? 3,
        architecture: r.Properties.Architectures?.[0] ?? 'x86_64',
        environment: r.Properties.Environment?.Variables ?? {},
        image: { hash, contextDir, dockerfile: asset.source.dockerFile ?? 'Dockerfile', buildArgs: asset.source.dockerBuildArgs ?? {} },
      };
    });
}

/** Entries bundled whatever the build args say: ONNX Runtime's worker thread (src/engine/onnx/worker-thread.ts). */
export const FIXED_BUNDLE_ENTRIES: Readonly<Record<string, string>> = { 'onnx-worker': 'src/engine/onnx/worker.ts' };

/**
 * What the build stage bundles: `<name>=<entry>` for every `<NAME>_ENTRY` build arg (EXTRACT_ENTRY → extract),
 * then the fixed entries. A handler added to the image with its own build arg is picked up here unchanged.
 */
export function bundleEntries(buildArgs: Readonly<Record<string, string>>): Record<string, string> {
  const fromArgs = Object.entries(buildArgs)
    .filter(([arg]) => /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*_ENTRY$/.test(arg))
    .map(([arg, entry]) => [arg.replace(/_ENTRY$/, '').toLowerCase().replace(/_/g, '-'), entry]);
  return { ...Object.fromEntries(fromArgs), ...FIXED_BUNDLE_ENTRIES };
}

/** The build stage's warm-up: the two commands that export the baked weights to ONNX (after an 8×8 grey JPEG). */
export function warmCommands(model: string, jpeg: string, out: string): string[][] {
  return [
    ['bin/headstart.js', 'classify', jpeg, '--model', model, '--engine', 'onnx'],
    ['bin/headstart.js', 'features', jpeg, '--model', model, '--engine', 'onnx', '--out', out],
  ];
}

/** The deps stage: `npm ci` of these files, then the prune script on the result. */
export const DEPS_FILES = ['package.json', 'package-lock.json', '.npmrc'] as const;
export const NPM_CI_ARGS = ['ci', '--omit=dev', '--no-audit', '--no-fund'] as const;
export const PRUNE_SCRIPT = 'docker/prune-node-modules.mjs';
/** The build stage's bundler, run from the context. */
export const BUNDLE_SCRIPT = 'docker/extract/bundle.mjs';

/** The variables a stage's ENV lines set (`ENV A=1 B="two"`, or the old `ENV A 1`), in order. */
export function stageEnv(stage: DockerStage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { keyword, args } of stage.instructions) {
    if (keyword !== 'ENV') continue;
    if (!/^\S+=/.test(args)) {
      const [, name, value] = /^(\S+)\s+(.*)$/s.exec(args) ?? [];
      if (name) env[name] = value ?? '';
      continue;
    }
    for (const [, name, quoted, bare] of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g)) env[name] = quoted ?? bare;
  }
  return env;
}

/** The Dockerfile's stages: `build` and `deps` by name, and the final one. */
export function imageStages(dockerfileText: string): { build: DockerStage; deps: DockerStage; final: DockerStage } {
  const stages = parseDockerfile(dockerfileText);
  const named = (name: string) => {
    const stage = stages.find((s) => s.name === name);
    if (!stage) throw new Error(`the Lambda image's Dockerfile has no '${name}' stage (the harness reproduces build, deps and the final stage)`);
    return stage;
  };
  return { build: named('build'), deps: named('deps'), final: stages[stages.length - 1]! };
}

/** An image path in the sandbox: /opt/… under its opt, ${LAMBDA_TASK_ROOT} and /var/task under its task root. */
function inSandbox(value: string, sandbox: Sandbox): string {
  return value
    .replace(/\$\{LAMBDA_TASK_ROOT\}|\$LAMBDA_TASK_ROOT\b/g, sandbox.task)
    .replace(/(^|[=:\s])\/opt(?=\/|$)/g, `$1${sandbox.opt}`)
    .replace(/(^|[=:\s])\/var\/task(?=\/|$)/g, `$1${sandbox.task}`);
}

/**
 * A copy of a folder tree made of hard links (a plain copy where links cannot cross file systems): the pruned
 * node_modules is ~20,000 files, which a copy per sandbox would spend seconds on. Nothing writes through them:
 * the function's permission model allows writes to /tmp only, and a variant's alterTaskRoot removes or adds files.
 */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
    const source = join(entry.parentPath, entry.name);
    const target = join(to, relative(from, source));
    if (entry.isDirectory()) mkdirSync(target, { recursive: true });
    else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else {
      try {
        linkSync(source, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
        copyFileSync(source, target);
      }
    }
  }
}

function hashFiles(dir: string, files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(file).update(readFileSync(join(dir, file)));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The deps stage's pruned production node_modules, made from the context's package files and prune script,
 * cached in node_modules/.cache/headstart by their hash (a cold `npm ci --omit=dev` takes ~25 s here).
 * `--prefer-offline` is the harness's only addition: the npm cache is warm, the result the same. One difference
 * stays: npm 11 here skips dependencies' install scripts, the base image's npm 10 runs them (onnxruntime-node's
 * does nothing with ONNXRUNTIME_NODE_INSTALL=skip; esbuild's and protobufjs's do not touch what the handlers load).
 */
export function prunedNodeModules(image: ImageAsset, depsEnv: Record<string, string>): { dir: string; cached: boolean; ms: number } {
  const started = performance.now();
  const dir = join(CACHE, `image-deps-${hashFiles(image.contextDir, [...DEPS_FILES, PRUNE_SCRIPT])}`);
  if (existsSync(join(dir, 'node_modules'))) return { dir: join(dir, 'node_modules'), cached: true, ms: performance.now() - started };
  const staging = `${dir}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const file of DEPS_FILES) copyFileSync(join(image.contextDir, file), join(staging, file));
  copyFileSync(join(image.contextDir, PRUNE_SCRIPT), join(staging, 'prune-node-modules.mjs'));
  const env = { ...process.env, ...depsEnv };
  execFileSync('npm', [...NPM_CI_ARGS, '--prefer-offline'], { cwd: staging, env, stdio: 'pipe', timeout: 600_000 });
  execFileSync(node22(), ['prune-node-modules.mjs', 'node_modules'], { cwd: staging, env, stdio: 'pipe' });
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return { dir: join(dir, 'node_modules'), cached: false, ms: performance.now() - started };
}

/** An image laid out as Lambda runs a container of it: task root and /opt read-only, ENV mapped into the sandbox. */
export interface ImageSandbox extends Sandbox {
  image: ImageAsset;
  /** The final stage's ENV lines, /opt and task-root paths mapped into the sandbox. */
  env: Record<string, string>;
  /** Task root + /opt, as the image's layers hold them uncompressed. */
  unzippedBytes: number;
  /** HEADSTART_HOME inside the sandbox: the baked cache. */
  home: string;
  /** The weights the image bakes (random here: `headstart weights pull` needs the network). */
  baseModel: string;
  timings: { depsMs: number; depsCached: boolean; bundleMs: number; weightsMs: number };
}

/**
 * Builds an image asset as its Dockerfile's stages do, straight into a fresh sandbox (the build stage's
 * HEADSTART_HOME is the sandbox's /opt/headstart), then makes it read-only. Every function of the image runs
 * from the same sandbox, as they share the image in Lambda; remove it with removeSandbox.
 */
export async function buildImage(image: ImageAsset): Promise<ImageSandbox> {
  const sandbox = emptySandbox();
  try {
    return await buildInto(sandbox, image);
  } catch (error) {
    removeSandbox(sandbox);
    throw error;
  }
}

async function buildInto(sandbox: Sandbox, image: ImageAsset): Promise<ImageSandbox> {
  const stages = imageStages(readFileSync(join(image.contextDir, image.dockerfile), 'utf8'));
  const mapped = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, inSandbox(v, sandbox)]));
  const buildEnv = mapped(stageEnv(stages.build));
  const finalEnv = mapped(stageEnv(stages.final));
  const home = buildEnv.HEADSTART_HOME;
  if (!home || finalEnv.HEADSTART_HOME !== home) {
    throw new Error(`${image.dockerfile}: the build stage bakes weights into HEADSTART_HOME=${home}, the function reads ${finalEnv.HEADSTART_HOME}`);
  }
  const baseModel = image.buildArgs.BASE_MODEL;
  if (!baseModel) throw new Error(`image ${image.hash} has no BASE_MODEL build arg`);

  // deps stage, and the final stage's COPY of its node_modules into the task root.
  const deps = prunedNodeModules(image, stageEnv(stages.deps));
  linkTree(deps.dir, join(sandbox.task, 'node_modules'));

  // build stage: the context (COPY . .) beside a node_modules with dev deps, the bundle, the baked weights.
  const build = mkdtempSync(join(tmpdir(), 'headstart-image-build-'));
  try {
    cpSync(image.contextDir, build, { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(build, 'node_modules'));
    const env = { ...process.env, ...buildEnv };
    let started = performance.now();
    const dist = join(build, 'dist');
    const pairs = Object.entries(bundleEntries(image.buildArgs)).map(([name, entry]) => `${name}=${entry}`);
    execFileSync(node22(), [BUNDLE_SCRIPT, dist, ...pairs], { cwd: build, env, stdio: 'pipe' });
    cpSync(dist, sandbox.task, { recursive: true }); // COPY --from=build /build/dist/ ${LAMBDA_TASK_ROOT}/
    const bundleMs = performance.now() - started;

    started = performance.now();
    await bakeRandomWeights(baseModel, home);
    const warm = join(build, 'warm');
    mkdirSync(warm);
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).jpeg().toFile(join(warm, 'warm.jpg'));
    for (const args of warmCommands(baseModel, join(warm, 'warm.jpg'), join(warm, 'out'))) {
      execFileSync(node22(), args, { cwd: build, env, stdio: 'pipe', timeout: 300_000 });
    }
    const weightsMs = performance.now() - started;

    runtimeModules(sandbox.runtime);
    const unzippedBytes = dirBytes(sandbox.task) + dirBytes(sandbox.opt);
    readOnly(sandbox.task);
    readOnly(sandbox.opt);
    return { ...sandbox, image, env: finalEnv, unzippedBytes, home, baseModel, timings: { depsMs: deps.ms, depsCached: deps.cached, bundleMs, weightsMs } };
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

/** A change to an image's task root for the harness's own tests of what must fail (paths relative to the task root). */
export interface TaskRootChange {
  /** Moved out of the sandbox for the run. */
  remove?: string[];
  /** Copied in for the run: target path → source. */
  add?: Record<string, string>;
}

/**
 * Runs `run` on a variant of the image: the task root changed, then put back as it was (another layout would
 * cost ~20,000 more files to make and remove). Removed paths wait outside the task root, where the function
 * cannot read them.
 */
export async function withTaskRootChange<T>(sandbox: ImageSandbox, change: TaskRootChange, run: () => Promise<T>): Promise<T> {
  const aside = mkdtempSync(join(sandbox.root, 'aside-'));
  const removed = (change.remove ?? []).map((path, i) => ({ path: join(sandbox.task, path), aside: join(aside, String(i)) }));
  const added = Object.entries(change.add ?? {}).map(([path, source]) => ({ path: join(sandbox.task, path), source }));
  const parents = [...new Set([...removed, ...added].map(({ path }) => dirname(path)))];
  const writable = (on: boolean) => parents.filter((dir) => existsSync(dir)).forEach((dir) => chmodSync(dir, on ? 0o755 : 0o555));
  writable(true);
  for (const { path, aside: to } of removed) renameSync(path, to);
  for (const { path, source } of added) cpSync(source, path, { recursive: true });
  writable(false);
  try {
    return await run();
  } finally {
    writable(true);
    for (const { path } of added) rmSync(path, { recursive: true, force: true });
    for (const { path, aside: from } of removed) renameSync(from, path);
    writable(false);
    rmSync(aside, { recursive: true, force: true });
  }
}

/**
 * What `headstart weights pull <model>` leaves in HEADSTART_HOME, with random weights instead of the official
 * ones (the pull needs the network). Only MobileNetV2, the stack's default BASE_MODEL, has a random-weights helper.
 */
async function bakeRandomWeights(model: string, home: string): Promise<void> {
  if (model !== 'mobilenet_v2') throw new Error(`the harness bakes random weights for mobilenet_v2 only, the image asks for ${model}`);
  const random = await randomMobileNetHome('headstart-image');
  try {
    cpSync(random, home, { recursive: true });
  } finally {
    rmSync(random, { recursive: true, force: true });
  }
}
