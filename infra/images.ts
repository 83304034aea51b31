import { type Duration, IgnoreMode, RemovalPolicy } from 'aws-cdk-lib';
import { Platform, type DockerImageAssetOptions } from 'aws-cdk-lib/aws-ecr-assets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { HandlerEntries } from './entries.js';

/** Dockerfiles, relative to the project root (the build context). */
export const DOCKERFILES = {
  /** Lambda image for the extract, classify and predict functions (CPU ONNX Runtime). */
  function: 'docker/extract/Dockerfile',
  /** Batch images, one target each (CUDA 12 for ONNX Runtime, CUDA 11.8 for tfjs-node-gpu: see the file). */
  batch: 'docker/batch/Dockerfile',
} as const;

/** The final stages of the Batch Dockerfile. */
export const BATCH_TARGETS = {
  /** GPU backfills: ONNX Runtime with the CUDA execution provider. */
  extract: 'extract',
  /** Fine-tuning: TF.js on @tensorflow/tfjs-node-gpu. */
  finetune: 'finetune',
} as const;

/** The Lambda image's handlers: the Dockerfile bundles each entry to `<name>.mjs` in LAMBDA_TASK_ROOT. */
export const FUNCTION_IMAGE_HANDLERS = { extract: 'extract.handler', classify: 'classify.handler', predict: 'predict.handler' } as const;

/**
 * What the images need from the repository; everything else stays out of the staged build context, which CDK
 * copies into cdk.out on every synth (node_modules alone is over a gigabyte; the images run `npm ci`).
 * Docker-style patterns: exclude all, then re-include.
 */
const CONTEXT_INCLUDES = ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'bin', 'src', 'functions', 'docker'];

/** Staging and build options for an image built from the project root. */
export function imageAssetOptions(
  file: string,
  buildArgs: Record<string, string>,
  extraIncludes: readonly string[] = [],
): DockerImageAssetOptions {
  const includes = [...CONTEXT_INCLUDES, ...extraIncludes];
  return {
    file,
    buildArgs,
    platform: Platform.LINUX_AMD64,
    ignoreMode: IgnoreMode.DOCKER,
    exclude: ['*', ...includes.map((p) => `!${p}`), '**/node_modules', '**/*.test.ts'],
  };
}

/** Build options of the Lambda image: which handler files to bundle, which model weights to bake in. */
export function functionImageOptions(entries: HandlerEntries, baseModel: string): DockerImageAssetOptions {
  return imageAssetOptions(
    DOCKERFILES.function,
    { EXTRACT_ENTRY: entries.extract, CLASSIFY_ENTRY: entries.classify, PREDICT_ENTRY: entries.predict, BASE_MODEL: baseModel },
    outsideDefaultIncludes([entries.extract, entries.classify, entries.predict]),
  );
}

/** Build options of the GPU extraction image. */
export function batchImageOptions(baseModel: string): DockerImageAssetOptions {
  return { ...imageAssetOptions(DOCKERFILES.batch, { BASE_MODEL: baseModel }), target: BATCH_TARGETS.extract };
}

/** Build options of the GPU fine-tuning image: same file and context as extraction, its own target. */
export function finetuneImageOptions(baseModel: string): DockerImageAssetOptions {
  return { ...imageAssetOptions(DOCKERFILES.batch, { BASE_MODEL: baseModel }), target: BATCH_TARGETS.finetune };
}

/** Handler folders not already in the context (fixtures in tests, handlers kept elsewhere). */
function outsideDefaultIncludes(entries: readonly string[]): string[] {
  const dirs = entries.map((e) => e.slice(0, e.lastIndexOf('/')) || e);
  return [...new Set(dirs)].filter((dir) => !CONTEXT_INCLUDES.some((inc) => dir === inc || dir.startsWith(`${inc}/`)));
}

export interface ImageFunctionProps {
  readonly projectRoot: string;
  readonly entries: HandlerEntries;
  readonly bucket: s3.IBucket;
  readonly baseModel: string;
  /** Which of the image's handlers the function runs (its CMD). */
  readonly handler: keyof typeof FUNCTION_IMAGE_HANDLERS;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly retainLogs: boolean;
}

/**
 * A function on the Lambda image (extract, classify, predict): the same image asset for all (built and pushed
 * once), its own CMD, x86_64 (the image's ONNX Runtime binaries), X-Ray, a month of logs; the image counterpart
 * of nodeFunction (infra/node-function.ts).
 */
export function imageFunction(scope: Construct, id: string, props: ImageFunctionProps): lambda.DockerImageFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  return new lambda.DockerImageFunction(scope, id, {
    code: lambda.DockerImageCode.fromImageAsset(props.projectRoot, {
      ...functionImageOptions(props.entries, props.baseModel),
      cmd: [FUNCTION_IMAGE_HANDLERS[props.handler]],
    }),
    description: props.description,
    architecture: lambda.Architecture.X86_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    tracing: lambda.Tracing.ACTIVE,
    environment: { HEADSTART_BUCKET: props.bucket.bucketName, HEADSTART_MODEL: props.baseModel, HEADSTART_ENGINE: 'onnx' },
    logGroup,
  });
}
