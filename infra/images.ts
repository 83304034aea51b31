import { IgnoreMode } from 'aws-cdk-lib';
import { Platform, type DockerImageAssetOptions } from 'aws-cdk-lib/aws-ecr-assets';
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
