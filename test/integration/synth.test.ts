import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_UNZIPPED_LIMIT_BYTES } from '../../layers/build-tfjs-layer.js';
import { DEFAULT_ENTRIES, REPO_ROOT } from '../../infra/entries.js';
import { realSynth } from '../helpers/lambda-artifacts.js';
import { staticPackageImports } from '../unit/infra/bundle-imports.js';

/**
 * The real app, the real handlers, the real CLI: `npx cdk synth` as a user runs it (cdk.json → bin/run-ts.js →
 * infra/app.ts), offline and without Docker. Skipped, saying which, until every handler exists.
 */
const missing = Object.values(DEFAULT_ENTRIES).filter((entry) => !existsSync(join(REPO_ROOT, entry)));

interface Synth {
  dir: string;
  template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>; Outputs: Record<string, unknown> };
  assets: {
    files: Record<string, { displayName: string; source: { path: string } }>;
    dockerImages: Record<string, { source: { dockerFile: string; dockerBuildArgs: Record<string, string>; dockerBuildTarget?: string } }>;
  };
}

/** The real `cdk synth`, shared with the artifact harness (cached by its inputs in node_modules/.cache). */
function cdkSynth(...context: string[]): Synth {
  return realSynth(...context) as unknown as Synth;
}

function asset(synth: Synth, displayName: string): string {
  const entry = Object.values(synth.assets.files).find((f) => f.displayName === displayName);
  if (!entry) throw new Error(`no asset ${displayName} in ${synth.dir}`);
  return join(synth.dir, entry.source.path);
}

function dirBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
}

function unzippedBytes(zip: string): number {
  const script = 'import sys, zipfile; print(sum(i.file_size for i in zipfile.ZipFile(sys.argv[1]).infolist()))';
  return Number(execFileSync('python3', ['-c', script, zip], { encoding: 'utf8' }));
}

describe.skipIf(missing.length > 0)(`cdk synth of the real app${missing.length ? ` (waiting for ${missing.join(', ')})` : ''}`, () => {
  let lambdaMode: Synth;
  let bothMode: Synth;

  beforeAll(() => {
    lambdaMode = cdkSynth();
    bothMode = cdkSynth('extractionMode=both', 'spot=true', 'finetune=true');
  }, 480_000);

  it('passes CloudFormation schema validation in both configurations', () => {
    for (const synth of [lambdaMode, bothMode]) {
      const report = JSON.parse(readFileSync(join(synth.dir, 'validation-report.json'), 'utf8'));
      expect(report.pluginReports.flatMap((r: { violations: unknown[] }) => r.violations)).toEqual([]);
    }
  });

  it('runs the six handlers: zip functions on nodejs22.x, the rest (extract, classify, predict) as images', () => {
    const ours = Object.values(lambdaMode.template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).startsWith('headstart:'),
    );

    expect(ours).toHaveLength(6);
    expect(ours.filter((r) => r.Properties.PackageType !== 'Image').map((r) => r.Properties.Runtime)).toEqual(['nodejs22.x', 'nodejs22.x', 'nodejs22.x']);
  });

  it('stages the Lambda image with the real entries, no GPU image by default, and the GPU images when asked', () => {
    const named = (synth: Synth) =>
      Object.values(synth.assets.dockerImages)
        .map((i) => `${i.source.dockerFile}${i.source.dockerBuildTarget ? `#${i.source.dockerBuildTarget}` : ''}`)
        .sort();
    const lambdaImage = Object.values(lambdaMode.assets.dockerImages).find((i) => i.source.dockerFile === 'docker/extract/Dockerfile');

    expect(lambdaImage?.source).toEqual(
      expect.objectContaining({
        dockerBuildArgs: { EXTRACT_ENTRY: DEFAULT_ENTRIES.extract, CLASSIFY_ENTRY: DEFAULT_ENTRIES.classify, PREDICT_ENTRY: DEFAULT_ENTRIES.predict, BASE_MODEL: 'mobilenet_v2' },
      }),
    );
    expect(named(lambdaMode)).toEqual(['docker/extract/Dockerfile']);
    expect(named(bothMode)).toEqual(['docker/batch/Dockerfile#extract', 'docker/batch/Dockerfile#finetune', 'docker/extract/Dockerfile']);
  });

  it('bundles the train handler so that it only needs what the runtime and the TF.js layer provide', () => {
    const bundle = readFileSync(join(asset(lambdaMode, 'Train/Function/Code'), 'index.mjs'), 'utf8');
    // SQS and EventBridge: batch prediction's extract queue and completion event (the runtime ships SDK v3).
    const allowed = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@aws-sdk/client-lambda', '@aws-sdk/client-batch', '@aws-sdk/client-sqs', '@aws-sdk/client-eventbridge'];

    expect(staticPackageImports(bundle).filter((p) => !allowed.includes(p))).toEqual([]);
  });

  it('bundles the API handler with no native import: only TF.js, which its layer provides', () => {
    const bundle = readFileSync(join(asset(lambdaMode, 'Api/Function/Code'), 'index.mjs'), 'utf8');
    const allowed = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@aws-sdk/client-lambda', '@aws-sdk/client-batch'];

    expect(staticPackageImports(bundle).filter((p) => !allowed.includes(p))).toEqual([]);
  });

  it('keeps the train function plus its layer under the 250 MB unzipped limit', () => {
    const functionBytes = dirBytes(asset(lambdaMode, 'Train/Function/Code'));
    const layerBytes = unzippedBytes(asset(lambdaMode, 'Train/TfjsLayer/Code'));

    expect(functionBytes + layerBytes).toBeLessThan(LAMBDA_UNZIPPED_LIMIT_BYTES);
  });

  it('outputs what a user needs after deploy', () => {
    expect(Object.keys(lambdaMode.template.Outputs)).toEqual(
      expect.arrayContaining(['ApiUrl', 'ApiKeyId', 'BucketName', 'IngestQueueUrl', 'DeadLetterQueueUrl']),
    );
    for (const gpu of ['BatchJobQueueArn', 'FinetuneJobDefinitionArn', 'BatchJobDefinitionArn']) expect(Object.keys(lambdaMode.template.Outputs)).not.toContain(gpu);
    expect(Object.keys(bothMode.template.Outputs)).toEqual(
      expect.arrayContaining(['BatchJobQueueArn', 'BatchJobDefinitionArn', 'FinetuneJobDefinitionArn']),
    );
  });
});
