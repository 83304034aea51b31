import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toProxyEvent, writeProxyResult } from './gateway.js';
import { logger } from '../../src/logger.js';

/** API Gateway's payload limit for REST APIs. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Answers a request itself (true) or leaves it to the API (false); asked before the API-key check. */
export type PublicRequestHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface LocalApiOptions {
  handler: ProxyHandler;
  /** Public files served beside the API (the console's page and bundle): no key needed, none held. */
  assets?: PublicRequestHandler;
  /** When set, requests without a matching `x-api-key` get 403, as API Gateway with apiKeyRequired. */
  apiKey?: string;
  host?: string;
  port?: number;
}

export interface LocalApi {
  server: Server;
  url: string;
  close(): Promise<void>;
}

class PayloadTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) throw new PayloadTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function lambdaContext(requestId: string): Context {
  return {
    awsRequestId: requestId,
    functionName: 'headstart-api-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:headstart-api-local',
    memoryLimitInMB: '2048',
    logGroupName: '/aws/lambda/headstart-api-local',
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 29_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * An HTTP server on loopback that does what API Gateway does in front of the API function: API-key
 * check, the 10 MB payload limit, the REST proxy event, and the proxy result back as HTTP.
 * A handler that throws becomes a 502, as API Gateway answers for a failed Lambda.
 */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const server = createServer((req, res) => {
    void (async () => {
      if (options.assets?.(req, res)) return;
      if (options.apiKey && req.headers['x-api-key'] !== options.apiKey) {
        req.resume();
        return writeProxyResult(res, json(403, { message: 'Forbidden' }));
      }
      let body: Buffer;
      try {
        body = await readBody(req);
      } catch (error) {
        if (!(error instanceof PayloadTooLarge)) throw error;
        res.setHeader('connection', 'close');
        return writeProxyResult(
          res,
          json(413, { error: { code: 'PayloadTooLarge', message: `Request body over ${MAX_PAYLOAD_BYTES} bytes: upload big images with POST /uploads (a presigned URL) and send { "key": … }.` } }),
        );
      }
      const event = toProxyEvent(req, body);
      try {
        writeProxyResult(res, await options.handler(event, lambdaContext(event.requestContext.requestId)));
      } catch (error) {
        logger.error('API handler failed', error as Error);
        writeProxyResult(res, json(502, { message: 'Internal server error' }));
      }
    })().catch((error: unknown) => {
      logger.error('local API server failed to answer', error as Error);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  // Longer than clients' idle keep-alive (undici: 4 s), so a reused socket is never closed under a request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
