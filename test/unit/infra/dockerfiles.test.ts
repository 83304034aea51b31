import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../infra/entries.js';
import { DOCKERFILES } from '../../../infra/images.js';
import { checkDockerfile, LAMBDA_BASE_IMAGE, parseDockerfile, runCommands } from '../../helpers/dockerfile-rules.js';

const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');

describe('the Dockerfile checker', () => {
  it('finds the commands of a RUN line, not the words inside quoted scripts', () => {
    expect(runCommands(`npm ci --omit=dev && rm -rf x \\ && find node_modules -name '*.map' -delete`)).toEqual(['npm', 'rm', 'find']);
    expect(runCommands(`node -e "require('a'); x | y" >/dev/null && FOO=1 npx esbuild a; test -f b`)).toEqual(['node', 'npx', 'test']);
  });

  it("catches the `find` that broke the Lambda image's deps stage on AL2023-minimal (aws/aws-lambda-base-images#173)", () => {
    const before = [
      'ARG LAMBDA_BASE=public.ecr.aws/lambda/nodejs:22',
      'FROM ${LAMBDA_BASE} AS deps',
      "RUN npm ci --omit=dev \\",
      " && find node_modules -name '*.map' -type f -delete",
      'FROM deps',
      'RUN tar xf x.tgz',
    ].join('\n');

    expect(checkDockerfile(before).map((v) => v.message)).toEqual([
      "stage deps: base image 'public.ecr.aws/lambda/nodejs:22' is not pinned by digest",
      "stage deps (Lambda base, AL2023-minimal) runs 'find', which the image does not ship",
      "stage (final) (Lambda base, AL2023-minimal) runs 'tar', which the image does not ship",
    ]);
  });
});

describe.each(Object.values(DOCKERFILES))('%s', (file) => {
  const text = read(file);
  const stages = parseDockerfile(text);

  it('pins every base image by digest, and on a Lambda base runs only node, npm, npx, dnf/microdnf and coreutils', () => {
    expect(stages.length).toBeGreaterThan(1);
    expect(checkDockerfile(text)).toEqual([]);
  });

  it('says which tag each pinned digest stands for, in a comment above it', () => {
    const pinnedArgs = text.split('\n').flatMap((line, i, lines) => (/^ARG \w+=\S+@sha256:/.test(line) ? [lines[i - 1]] : []));

    expect(pinnedArgs.length).toBeGreaterThan(0);
    for (const comment of pinnedArgs) expect(comment).toMatch(/^# \S+:\S+/);
  });

  it('sets ONNXRUNTIME_NODE_INSTALL in every stage that installs packages (not only the .npmrc key npm will drop)', () => {
    for (const stage of stages) {
      const installs = stage.instructions.filter((i) => i.keyword === 'RUN' && /\bnpm (ci|install)\b/.test(i.args));
      if (installs.length === 0) continue;
      const env = stage.instructions.some((i) => i.keyword === 'ENV' && /\bONNXRUNTIME_NODE_INSTALL=skip\b/.test(i.args));
      const inline = installs.every((i) => /\bONNXRUNTIME_NODE_INSTALL=\w+ npm\b/.test(i.args));
      expect(env || inline, `stage ${stage.name}`).toBe(true);
    }
  });
});

describe(DOCKERFILES.function, () => {
  it('builds every stage on the Lambda base and leaves the final stage to COPY only', () => {
    const stages = parseDockerfile(read(DOCKERFILES.function));
    const final = stages[stages.length - 1];

    expect(stages.every((s) => LAMBDA_BASE_IMAGE.test(s.baseImage))).toBe(true);
    expect(final.instructions.filter((i) => i.keyword === 'RUN')).toEqual([]);
  });
});
