import { configFromEnv, once, storeFromConfig } from '../shared/runtime.js';
import { createTrainFailedHandler } from './handler.js';

/** Built on the first invocation and reused while the Lambda stays warm. */
const deps = once(async () => ({ store: storeFromConfig(configFromEnv()) }));

export const handler = createTrainFailedHandler(deps);
