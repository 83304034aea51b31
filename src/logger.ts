import { Logger } from '@aws-lambda-powertools/logger';

export type { Logger };

/**
 * The one structured logger of headstart (Powertools for AWS Lambda's Logger): one JSON line per call with
 * `level`, `message`, `timestamp`, `service` and the fields passed (an Error passed as a field or as the
 * last argument is written as `{ name, message, stack, location }`).
 *
 * In a handler wrapped with `injectLambdaContext(logger)` (functions/*) every line also carries the Lambda
 * request id, function name and cold start. Outside Lambda (the CLI, `npm start`) it prints the same lines
 * without them. `POWERTOOLS_LOG_LEVEL` sets the level (default INFO), `POWERTOOLS_SERVICE_NAME` the service
 * (default 'headstart'); with `POWERTOOLS_DEV=true` (the test setup) it writes through the global console,
 * so a test can spy on `console.info` / `console.warn` / `console.error`.
 *
 *     import { logger } from '../src/logger.js';
 *     logger.info('extract batch', { source, counts });
 *     logger.error('request failed', { requestId, error });
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'headstart' });
