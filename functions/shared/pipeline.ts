import { calibrationImages } from '../../src/features/calibration.js';
import { FeaturePipeline } from '../../src/features/pipeline.js';
import type { ObjectStore } from '../../src/store/index.js';
import { publishWeightsIndex, syncWeightsFromStore } from '../../src/weights/bucket.js';
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
  const pipeline = await FeaturePipeline.create({ model: config.model, cut: config.cut, home: config.home, precision: config.precision ?? 'fp32', calibration });
  await publishWeightsIndex(store, config.model, variants, config.home);
  return pipeline;
}

