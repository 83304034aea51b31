import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Every zip function runs on this (nodejs20.x is deprecated on AWS, even though development runs Node 20). */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_22_X;

/**
 * Packages no zip function bundles. TF.js comes from the layer (one copy, so tfjs-core's kernel registry is
 * shared with the wasm backend); tfjs-node is optional and never in a zip; sharp and onnxruntime-node are
 * native and live in the container image only. The Lambda and Batch clients (async train invoke, backfill
 * submit) are taken from the nodejs22.x runtime, which ships SDK v3; the S3 client and the rest are bundled.
 */
export const ZIP_EXTERNALS = [
  '@tensorflow/*',
  'sharp',
  'onnxruntime-node',
  '@aws-sdk/client-lambda',
  '@aws-sdk/client-batch',
  '@aws-sdk/client-sqs',
  '@aws-sdk/client-eventbridge',
] as const;

export interface NodeFunctionProps {
  readonly projectRoot: string;
  /** Entry file relative to projectRoot. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  readonly layers?: lambda.ILayerVersion[];
  readonly retainLogs: boolean;
}

/**
 * A zip function bundled by esbuild on this machine (never in Docker): ESM output so `import.meta.url` and
 * top-level await work as in development, a `require` shim for CommonJS dependencies that call it, and the
 * S3 client bundled rather than taken from the runtime, so the version tested is the version deployed.
 * arm64: these functions are pure JavaScript (+ wasm), and arm64 Lambda costs 20% less per GB-second.
 */
export function nodeFunction(scope: Construct, id: string, props: NodeFunctionProps): NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  return new NodejsFunction(scope, id, {
    entry: join(props.projectRoot, props.entry),
    handler: 'handler',
    projectRoot: props.projectRoot,
    depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
    runtime: NODE_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    description: props.description,
    memorySize: props.memorySize,
    timeout: props.timeout,
    environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
    layers: props.layers,
    logGroup,
    // X-Ray: a slow cold start or S3 call shows where the time went (sampled: 1 request/s + 5%).
    tracing: lambda.Tracing.ACTIVE,
    bundling: {
      forceDockerBundling: false,
      format: OutputFormat.ESM,
      target: 'node22',
      mainFields: ['module', 'main'],
      banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      externalModules: [...ZIP_EXTERNALS],
      sourceMap: true,
      sourcesContent: false,
    },
  });
}
