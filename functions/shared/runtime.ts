import { parsePrecision, type Precision } from '../../src/engine/extractor.js';
import { InvalidArgumentError } from '../../src/errors.js';
import type { FeatureCut } from '../../src/features/pipeline.js';
import { createS3Client, S3Store, type ObjectStore } from '../../src/store/index.js';
import { headstartHome, readCacheEntry, weightsCacheDir } from '../../src/weights/cache.js';
import type { Pooling } from '../../src/zoo/types.js';
import type { FeatureNamespace } from '../../src/features/namespace.js';
import { WeightsUnavailableError } from '../../src/weights/errors.js';
import { getModelSpec, poolingLayerName } from '../../src/zoo/index.js';
import { weightsIndexKey, weightsPrefix } from '../../src/layout.js';
import { readJson } from '../../src/util/json.js';

/** Process-wide settings of a handler, from its environment (the CDK stack and `headstart dev` set them). */
export interface RuntimeConfig {
  bucket: string;
  endpoint?: string;
  model: string;
  cut?: FeatureCut;
  home: string;
  /** HEADSTART_PRECISION: 'int8' extracts (and so trains and classifies) in the int8 namespace. @default 'fp32' */
  precision?: Precision;
  /** HEADSTART_CALIBRATION: a folder of calibration images, for when no int8 graph is cached yet. */
  calibration?: string;
  /** ONNX Runtime sessions of the model (extraction sets it: extractSessions). @default HEADSTART_SESSIONS, else 1 */
  sessions?: number;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const bucket = env.HEADSTART_BUCKET;
  if (!bucket) throw new InvalidArgumentError('HEADSTART_BUCKET is not set: the bucket the service reads and writes.');
  const layer = env.HEADSTART_FEATURE_LAYER;
  const pooling = env.HEADSTART_POOLING as Pooling | undefined;
  return {
    bucket,
    endpoint: env.HEADSTART_S3_ENDPOINT || undefined,
    model: env.HEADSTART_MODEL ?? 'mobilenet_v2',
    cut: layer ? { layer } : pooling ? { pooling } : undefined,
    // Lambda's only writable disk is /tmp.
    home: headstartHome(env.HEADSTART_HOME ?? (env.AWS_LAMBDA_FUNCTION_NAME ? '/tmp/headstart' : undefined)),
    ...(parsePrecision(env.HEADSTART_PRECISION) === 'int8' ? { precision: 'int8' as const } : {}),
    ...(env.HEADSTART_CALIBRATION ? { calibration: env.HEADSTART_CALIBRATION } : {}),
  };
}

/** Memoises an async factory for the life of the process (warm reuse); a failed attempt is not cached. */
export function once<T>(factory: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= factory().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

export function storeFromConfig(config: RuntimeConfig): ObjectStore {
  return new S3Store(createS3Client({ endpoint: config.endpoint }), config.bucket);
}

export interface NamespaceOptions {
  /** The weights digest when it is known without an index (HEADSTART_WEIGHTS_DIGEST). */
  weightsDigest?: string;
  /** Reads `weights/<model>/<variant>/index.json` from the bucket when the local cache has no entry. */
  store?: ObjectStore;
  env?: NodeJS.ProcessEnv;
}

/** The weights index the pipeline would load: pooled cuts use the no-top weights, else (or failing that) the full model's. */
async function weightsDigestFor(config: RuntimeConfig, pooled: boolean, options: NamespaceOptions): Promise<string> {
  const explicit = options.weightsDigest ?? (options.env ?? process.env).HEADSTART_WEIGHTS_DIGEST;
  if (explicit) return explicit;
  const variants: Array<'top' | 'notop'> = pooled ? ['notop', 'top'] : ['top'];
  for (const variant of variants) {
    const entry = await readCacheEntry(config.model, variant, config.home);
    if (entry) return entry.index.digest;
  }
  for (const variant of options.store ? variants : []) {
    const index = await readJson<{ digest: string }>(options.store!, weightsIndexKey(config.model, variant));
    if (index) return index.digest;
  }
  throw new WeightsUnavailableError(
    `No weights index for '${config.model}' in ${weightsCacheDir(config.model, variants[0]!, config.home)}` +
      `${options.store ? ` or at ${weightsPrefix(config.model, variants[0]!)} in the bucket` : ''}: ` +
      `run \`headstart weights pull ${config.model}\` (and \`headstart weights push ${config.model}\` for the cloud), or set HEADSTART_WEIGHTS_DIGEST.`,
  );
}

/**
 * The FeatureNamespace of the service's model without loading the model: what FeaturePipeline.create
 * would report for this config (model, weights digest from the cached weights index, layer, pooling,
 * preprocess mode, input size, 'nearest' interpolation). The API and the train function use it to find
 * the features the extract function wrote.
 */
export async function namespaceFor(config: RuntimeConfig, options: NamespaceOptions = {}): Promise<FeatureNamespace> {
  const spec = getModelSpec(config.model);
  const cut = config.cut;
  const pooling = typeof cut === 'object' && 'pooling' in cut ? cut.pooling : null;
  // 'classifier' keeps the whole network: its last layer is Keras' 'predictions'.
  const named = typeof cut === 'object' && 'layer' in cut ? cut.layer : undefined;
  const layer = pooling ? poolingLayerName(spec, pooling) : cut === 'classifier' ? 'predictions' : (named ?? spec.defaultFeatureLayer);
  return {
    model: spec.id,
    weightsDigest: await weightsDigestFor(config, pooling !== null, options),
    layer,
    pooling,
    preprocess: spec.preprocess,
    inputSize: [spec.inputSize, spec.inputSize],
    interpolation: 'nearest',
    dtype: 'float32',
    ...(config.precision === 'int8' ? { precision: 'int8' as const } : {}),
  };
}
