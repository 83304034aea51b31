import { availableParallelism } from 'node:os';
import { calibrationImages } from '../../src/features/calibration.js';
import { FeaturePipeline } from '../../src/features/pipeline.js';
import type { ObjectStore } from '../../src/store/index.js';
import { publishWeightsIndex, syncWeightsFromStore } from '../../src/weights/bucket.js';
import { getModelSpec } from '../../src/zoo/index.js';
import type { RuntimeConfig } from './runtime.js';

// The model-running half of the function runtime: only the extract and classify images import it
// (sharp, ONNX Runtime); the API and train zips import runtime.ts alone.

/** The feature pipeline of this process, built once: weights from the local cache or the bucket. */
export async function pipelineFromConfig(config: RuntimeConfig, store: ObjectStore): Promise<FeaturePipeline> {
  const pooled = config.cut !== undefined && typeof config.cut === 'object' && 'pooling' in config.cut;
  const variants: Array<'top' | 'notop'> = pooled ? ['notop', 'top'] : ['top'];
  for (const variant of variants) {
    if (await syncWeightsFromStore(store, config.model, variant, config.home)) break;
  }
  const calibration = await calibrationImages(config.calibration);
  const pipeline = await FeaturePipeline.create({ model: config.model, cut: config.cut, home: config.home, precision: config.precision ?? 'fp32', calibration, sessions: config.sessions });
  await publishWeightsIndex(store, config.model, variants, config.home);
  return pipeline;
}

/** Models up to this many parameters get a session per core for extraction: each session holds its own copy of the weights. */
const PARALLEL_SESSIONS_MAX_PARAMS = 30_000_000;

/**
 * ONNX Runtime sessions for extraction (the extract function, the local stack's ingest), where a deep queue keeps
 * two model batches in flight: two single-threaded sessions on two cores or more, for the zoo's models up to
 * 30 M parameters (on 2 cores, ingest 5–20 % more images/s for every zoo model, docs/benchmarks.md); VGG16 and VGG19
 * (138–144 M) keep one, their weights once in memory. HEADSTART_SESSIONS set wins: undefined then, and
 * engineSettings reads it. A classify function answers one request at a time and keeps one session, all cores to it.
 */
export function extractSessions(model: string, cores = availableParallelism(), env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (env.HEADSTART_SESSIONS) return undefined;
  return cores >= 2 && getModelSpec(model).paramsWithTop <= PARALLEL_SESSIONS_MAX_PARAMS ? 2 : 1;
}
