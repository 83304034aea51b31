/**
 * The classify Lambda's entry (infra/entries.ts): POST /classify and POST /features. Import the routes
 * from './routes.js' (or './env.js') to mount them elsewhere: this module warms the model when it loads.
 */
import { classifyRoutesFromEnv, warmUpFromEnv } from './env.js';
import { createClassifyHandler } from './handler.js';

// In Lambda the init phase loads the model and runs a dummy image, so the first request is not the slow one.
if (process.env.AWS_LAMBDA_FUNCTION_NAME) await warmUpFromEnv();

export const handler = createClassifyHandler(async () => (await classifyRoutesFromEnv()).routes);
