import type { FeatureNamespace } from '../../features/namespace.js';
import { FeaturePipeline } from '../../features/pipeline.js';
import { modelOptions } from '../args.js';
import { openStoreSource, type StoreSource } from '../store-source.js';
import { cutOption, pipelineOptions } from './model-options.js';

/** Where the local service (`npm start`) keeps its bucket, as `headstart upload` reaches it. */
const LOCAL_ENDPOINT = 'http://127.0.0.1:4569';

/** The flags of a command that reads a dataset's cached features: the bucket, and the model and cut that name the namespace. */
export const featureCacheOptions = {
  ...modelOptions,
  layer: { type: 'string' },
  pooling: { type: 'string' },
  store: { type: 'string' },
  endpoint: { type: 'string' },
} as const;

export const FEATURE_CACHE_USAGE = '--model <id> [--layer L | --pooling avg|max] [--store s3://bucket | dir] [--endpoint URL|aws]';

export interface FeatureCacheFlags {
  model?: string;
  layer?: string;
  pooling?: string;
  store?: string;
  endpoint?: string;
  engine?: string;
  backend?: string;
  interpolation?: string;
  weights?: string;
  threads?: string;
  sessions?: string;
  precision?: string;
}

/**
 * The bucket (`--store`, else HEADSTART_STORE, else the local service's s3://headstart at --endpoint, else
 * HEADSTART_S3_ENDPOINT, else 127.0.0.1:4569; `--endpoint aws` for AWS) or a folder laid out like it.
 */
export function openFeatureStore(values: FeatureCacheFlags): Promise<StoreSource> {
  const endpoint = values.endpoint ?? process.env.HEADSTART_S3_ENDPOINT ?? LOCAL_ENDPOINT;
  return openStoreSource(values.store ?? process.env.HEADSTART_STORE ?? 's3://headstart', endpoint === 'aws' ? '' : endpoint);
}

/**
 * The model's pipeline for the flags' cut: its namespace is the one extraction wrote (FeaturePipeline decides
 * it, the same code as `headstart extract` and the service), and it extracts a query image. Without a query
 * image the engine is TF.js (no ONNX export for a namespace). The caller disposes it.
 */
export function featurePipeline(values: FeatureCacheFlags, forExtraction: boolean): Promise<FeaturePipeline> {
  const options = pipelineOptions(values);
  return FeaturePipeline.create({ ...options, engine: options.engine ?? (forExtraction ? undefined : 'tfjs'), cut: cutOption(values) });
}

export type { FeatureNamespace };
