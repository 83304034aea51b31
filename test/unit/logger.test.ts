import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../src/logger.js';
import { lambdaContext } from '../helpers/events.js';

/** The JSON lines the logger printed through `console[level]` (POWERTOOLS_DEV, set in vitest.config.ts). */
function printed(level: 'info' | 'warn' | 'error') {
  const spy = vi.spyOn(console, level).mockImplementation(() => undefined);
  return () => spy.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, any>);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the shared logger (src/logger.ts)', () => {
  it('prints one JSON object per call with level, message, service and the fields; an Error field keeps name, message and stack', () => {
    const lines = printed('error');

    logger.error('request failed', { route: 'GET /models', error: new TypeError('boom') });

    const [line] = lines();
    expect(line).toMatchObject({ level: 'ERROR', message: 'request failed', service: 'headstart', route: 'GET /models' });
    expect(line!.error).toMatchObject({ name: 'TypeError', message: 'boom' });
    // A list of lines in dev mode, one string in Lambda.
    expect(String(line!.error.stack)).toContain('logger.test.ts');
    expect(Date.parse(line!.timestamp)).not.toBeNaN();
  });

  it('inside a middy handler with injectLambdaContext every line carries the request id, and the next invocation does not keep it', async () => {
    const lines = printed('info');
    const handler = middy(async () => {
      logger.info('inside');
    }).use(injectLambdaContext(logger, { resetKeys: true }));

    await handler({}, { ...lambdaContext(), awsRequestId: 'req-1' });
    await handler({}, { ...lambdaContext(), awsRequestId: 'req-2' });

    expect(lines().map((l) => l.function_request_id)).toEqual(['req-1', 'req-2']);
  });

  it('works outside a handler (the CLI, background work of npm start): the same line', () => {
    const lines = printed('warn');

    logger.warn('could not read the worker status', { jobId: 'job-1' });

    expect(lines()).toEqual([expect.objectContaining({ level: 'WARN', message: 'could not read the worker status', jobId: 'job-1' })]);
  });
});
