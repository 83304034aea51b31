/**
 * The classify Lambda's entry (infra/entries.ts): POST /classify, POST /features, POST /explain, GET /thumbnails and GET /models/{id}/export (this
 * function's image has sharp) on the API's HTTP layer. Import the routes from './routes.js' (or './env.js') to
 * mount them elsewhere: this module warms the model when it loads.
 */
import { createHttpHandler } from '../api/http-handler.js';
import { exportRoutes } from '../api/routes/export.js';
import { thumbnailRoutes } from '../api/routes/thumbnails.js';
import { presignClient, S3UploadSigner } from '../api/uploads.js';
import { configFromEnv, once, storeFromConfig } from '../shared/runtime.js';
import { classifyRoutesFromEnv, warmUpFromEnv } from './env.js';

// In Lambda the init phase loads the model and runs a dummy image, so the first request is not the slow one.
if (process.env.AWS_LAMBDA_FUNCTION_NAME) await warmUpFromEnv();

const routes = once(async () => {
  const config = configFromEnv();
  const store = storeFromConfig(config);
  // GET /models/{id}/export answers a presigned GET of the bundle it stored under exports/ (too big for a response).
  const signer = new S3UploadSigner(presignClient({ endpoint: config.endpoint }), config.bucket);
  return [...(await classifyRoutesFromEnv()).routes, ...thumbnailRoutes({ store }), ...exportRoutes({ store, home: config.home, signer })];
});

export const handler = createHttpHandler(routes);
