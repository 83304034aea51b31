import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENTRIES, REPO_ROOT } from '../../../infra/entries.js';
import { DOCKERFILES, FUNCTION_IMAGE_HANDLERS, functionImageOptions } from '../../../infra/images.js';
import { parseDockerfile } from '../../helpers/dockerfile-rules.js';
import { BUNDLE_SCRIPT, bundleEntries, DEPS_FILES, FIXED_BUNDLE_ENTRIES, imageStages, NPM_CI_ARGS, PRUNE_SCRIPT, stageEnv, warmCommands } from '../../helpers/lambda-containers.js';

/**
 * The artifact harness builds the Lambda image without Docker (test/helpers/lambda-containers.ts), step by step
 * as docker/extract/Dockerfile's stages do. These tests hold each step to the Dockerfile's own line, so a change
 * to one without the other fails here, not in production.
 */
const text = readFileSync(join(REPO_ROOT, DOCKERFILES.function), 'utf8');
const { build, deps, final } = imageStages(text);
const buildArgs = functionImageOptions(DEFAULT_ENTRIES, 'mobilenet_v2').buildArgs!;

/** The words of each command of a RUN line (quotes removed, redirections dropped). */
function commands(run: string): string[][] {
  return run.split(/\s&&\s/).map((command) =>
    [...command.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!).filter((word) => !/^\d?>/.test(word)),
  );
}

/** ${NAME} and $NAME replaced with the build args (the values `cdk deploy` passes), else the ARG's default. */
function substitute(word: string, args: Record<string, string>): string {
  const defaults = Object.fromEntries(build.instructions.filter((i) => i.keyword === 'ARG').map((i) => i.args.split(/=(.*)/s, 2) as [string, string?]));
  return word.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => args[a ?? b] ?? defaults[a ?? b] ?? '');
}

const runs = (stage: typeof build) => stage.instructions.filter((i) => i.keyword === 'RUN').flatMap((i) => commands(i.args));

describe(`the artifact harness's image build matches ${DOCKERFILES.function}`, () => {
  it('bundles the entries the build args name, plus the fixed ones, with the same script', () => {
    const bundle = runs(build).find((words) => words[0] === 'node' && words[1] === BUNDLE_SCRIPT);
    expect(bundle, 'the build stage runs the bundle script').toBeDefined();
    const pairs = bundle!.slice(3).map((word) => substitute(word, buildArgs).split(/=(.*)/s, 2));

    expect(Object.fromEntries(pairs)).toEqual(bundleEntries(buildArgs));
  });

  it('declares an ARG in the build stage for every handler entry the stack passes, and the stack one for each CMD', () => {
    const declared = build.instructions.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=')[0]);
    const entryArgs = Object.keys(buildArgs).filter((arg) => arg.endsWith('_ENTRY'));

    expect(entryArgs.length).toBeGreaterThan(0);
    expect(declared).toEqual(expect.arrayContaining(entryArgs));
    // Each function's CMD `<name>.handler` is a bundle entry's output `<name>.mjs`.
    for (const cmd of Object.values(FUNCTION_IMAGE_HANDLERS)) expect(Object.keys(bundleEntries(buildArgs))).toContain(cmd.slice(0, cmd.lastIndexOf('.')));
  });

  it('derives the bundle entries from any <NAME>_ENTRY build arg, so a handler added to the image needs no harness change', () => {
    expect(bundleEntries({ EXTRACT_ENTRY: 'functions/extract/index.ts', PREDICT_ENTRY: 'functions/predict/index.ts', BASE_MODEL: 'mobilenet_v2' })).toEqual({
      extract: 'functions/extract/index.ts',
      predict: 'functions/predict/index.ts',
      ...FIXED_BUNDLE_ENTRIES,
    });
  });

  it('warms the baked weights with the same two commands', () => {
    const warm = runs(build).filter((words) => words[0] === 'node' && words[1] === 'bin/headstart.js' && words[2] !== 'weights');
    const expected = warmCommands('${BASE_MODEL}', '/tmp/warm.jpg', '/tmp/warm').map((args) => ['node', ...args]);

    expect(warm).toEqual(expected);
    expect(runs(build)).toContainEqual(['node', 'bin/headstart.js', 'weights', 'pull', '${BASE_MODEL}']);
  });

  it('makes production node_modules with the same npm ci and prune, from the same files', () => {
    const copied = deps.instructions.filter((i) => i.keyword === 'COPY').flatMap((i) => i.args.split(/\s+/).slice(0, -1));

    expect(runs(deps)).toEqual([['npm', ...NPM_CI_ARGS], ['node', 'prune-node-modules.mjs', 'node_modules']]);
    expect(copied.sort()).toEqual([...DEPS_FILES, PRUNE_SCRIPT].sort());
    expect(stageEnv(deps)).toMatchObject({ ONNXRUNTIME_NODE_INSTALL: 'skip' });
  });

  it('lays out exactly what the final stage COPYs, and bakes the weights where the function looks for them', () => {
    const copies = final.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args.split(/\s+/));

    expect(copies).toEqual([
      ['--from=deps', '/deps/node_modules', '${LAMBDA_TASK_ROOT}/node_modules'],
      ['--from=build', '/build/dist/', '${LAMBDA_TASK_ROOT}/'],
      ['--from=build', '/opt/headstart', '/opt/headstart'],
    ]);
    expect(final.instructions.filter((i) => i.keyword === 'RUN')).toEqual([]);
    expect(stageEnv(final)).toEqual({ NODE_ENV: 'production', NODE_OPTIONS: '--enable-source-maps', HEADSTART_HOME: '/opt/headstart', HEADSTART_ENGINE: 'onnx' });
    expect(stageEnv(build).HEADSTART_HOME).toBe(stageEnv(final).HEADSTART_HOME);
  });
});

describe('stageEnv', () => {
  it('reads both ENV forms, quoted values included', () => {
    const [stage] = parseDockerfile('FROM scratch\nENV A=1 B="two words" \\\n    C=--flag\nENV D 4 5\n');

    expect(stageEnv(stage!)).toEqual({ A: '1', B: 'two words', C: '--flag', D: '4 5' });
  });
});
