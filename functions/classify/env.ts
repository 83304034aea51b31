import { HeadCache } from '../../src/registry/index.js';
import { pipelineFromConfig } from '../shared/pipeline.js';
import { configFromEnv, once, storeFromConfig } from '../shared/runtime.js';
import { createClassifyRoutes, type ClassifyRoutes } from './routes.js';
import { logger } from '../../src/logger.js';

/**
 * The classify routes of this process, built once from the environment (HEADSTART_BUCKET, HEADSTART_MODEL,
 * HEADSTART_FEATURE_LAYER / HEADSTART_POOLING, HEADSTART_HOME): each pipeline takes its weights from the
 * local cache or the bucket. Nothing loads until the first request or `warmUp()`.
 */
export const classifyRoutesFromEnv = once(async (): Promise<ClassifyRoutes> => {
  const config = configFromEnv();
  const store = storeFromConfig(config);
  return createClassifyRoutes({
    store,
    defaultModel: config.model,
    featureCut: config.cut,
    createPipeline: (model, cut) => pipelineFromConfig({ ...config, model, cut }, store),
    heads: new HeadCache(store),
    home: config.home,
  });
});

/** Builds the routes and warms the default model; a failure is logged and left to the first request. */
export async function warmUpFromEnv(): Promise<void> {
  try {
    const started = performance.now();
    await (await classifyRoutesFromEnv()).warmUp();
    logger.info('classify warm-up done', { ms: Math.round(performance.now() - started) });
  } catch (error) {
    logger.error('classify warm-up failed', error as Error);
  }
}
