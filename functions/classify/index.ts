/**
 * The classify Lambda's entry (infra/entries.ts): POST /classify and POST /features, and GET /thumbnails
 * (this function's image has sharp). Import the routes
 * from './routes.js' (or './env.js') to mount them elsewhere: this module warms the model when it loads.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createThumbnailHandler } from '../api/routes/thumbnails.js';
import { configFromEnv, once, storeFromConfig } from '../shared/runtime.js';
import { classifyRoutesFromEnv, warmUpFromEnv } from './env.js';
import { createClassifyHandler } from './handler.js';

// In Lambda the init phase loads the model and runs a dummy image, so the first request is not the slow one.
if (process.env.AWS_LAMBDA_FUNCTION_NAME) await warmUpFromEnv();

const classify = createClassifyHandler(async () => (await classifyRoutesFromEnv()).routes);
const thumbnails = createThumbnailHandler(once(async () => storeFromConfig(configFromEnv())));

export const handler = (event: APIGatewayProxyEvent, context: Context) => (event.path === '/thumbnails' || event.resource === '/thumbnails' ? thumbnails(event, context) : classify(event, context));
