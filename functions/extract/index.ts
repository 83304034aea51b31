import { Ingestor } from '../../src/features/ingest.js';
import { extractSessions, pipelineFromConfig } from '../shared/pipeline.js';
import { configFromEnv, once, storeFromConfig } from '../shared/runtime.js';
import { createExtractHandler } from './handler.js';

/** Built on the first invocation and reused while the Lambda stays warm. */
const deps = once(async () => {
  const env = configFromEnv();
  const config = { ...env, sessions: extractSessions(env.model) };
  const store = storeFromConfig(config);
  return { ingestor: new Ingestor(store, await pipelineFromConfig(config, store)) };
});

export const handler = createExtractHandler(deps);
