import { initBackend } from '../../src/engine/backend.js';
import { configFromEnv, namespaceFor, once, storeFromConfig } from '../shared/runtime.js';
import { createTrainHandler } from './handler.js';

/** Built on the first invocation and reused while the Lambda stays warm. */
const deps = once(async () => {
  const config = configFromEnv();
  const store = storeFromConfig(config);
  await initBackend();
  return { store, namespace: once(() => namespaceFor(config, { store })) };
});

export const handler = createTrainHandler(deps);
