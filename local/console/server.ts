import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidArgumentError } from '../../src/errors.js';
import { logger } from '../../src/logger.js';
import { CONSOLE_PATH, createConsoleAssets } from './assets.js';
import { createSigner, type SigningOptions } from './sign.js';

export interface ConsoleServerOptions {
  /** The deployed API's base URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/v1 (the stack's ApiUrl output). */
  api: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 8080 */
  port?: number;
  /** Sign every API call with SigV4 for an IAM-authorized API (the stack's default `apiAuth=iam`); absent: calls pass as they came. */
  sign?: SigningOptions;
}

export interface ConsoleServer {
  server: Server;
  /** Where the console is, e.g. http://127.0.0.1:8080/console/. */
  url: string;
  close(): Promise<void>;
}

/** Hop-by-hop headers and those fetch() sets itself: never forwarded. */
const DROP_REQUEST = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'content-length', 'origin', 'referer', 'cookie']);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-encoding', 'content-length']);

export function apiBase(api: string): URL {
  let url: URL;
  try {
    url = new URL(api);
  } catch {
    throw new InvalidArgumentError(`--api must be the API's URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/v1 (the stack's ApiUrl output), got '${api}'.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidArgumentError(`--api must be an http(s) URL, got '${api}'.`);
  if (url.search || url.hash) throw new InvalidArgumentError(`--api must be the API's base URL without a query or fragment, got '${api}'.`);
  return url;
}

async function body(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length ? Buffer.concat(chunks) : undefined;
}

/**
 * The console on this machine for a deployed API (`headstart console --api <url>`): the page and bundle
 * from the package, and every other request passed to the API as it came, with the browser's x-api-key.
 * With `sign`, each call is signed with SigV4 from the user's AWS credentials (the stack's default IAM auth);
 * without, nothing is added and the API's key check decides, as for curl. The browser never holds AWS
 * credentials either way: they stay in this process. Same
 * origin for the page and the API calls, so the API needs no CORS rule for it; presigned uploads go from
 * the browser to the bucket, whose CORS rule (corsOrigins) must allow this server's origin.
 */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const base = apiBase(options.api);
  const prefix = base.pathname.replace(/\/+$/, '');
  const assets = await createConsoleAssets();
  const sign = options.sign && createSigner(base, options.sign);
  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const target = new URL(`${prefix}${req.url ?? '/'}`, base);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || DROP_REQUEST.has(name)) continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const method = req.method ?? 'GET';
    const payload = method === 'GET' || method === 'HEAD' ? undefined : await body(req);
    if (sign) {
      const signed = await sign({ url: target, method, headers: Object.fromEntries(headers), body: payload });
      for (const [name, value] of Object.entries(signed)) if (name !== 'host') headers.set(name, value);
    }
    let upstream: Response;
    try {
      upstream = await fetch(target, { method, headers, body: payload, redirect: 'manual' });
    } catch (error) {
      const message = `The API at ${base.href} could not be reached: ${(error as Error).message}`;
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'ApiUnreachable', message } }));
      return;
    }
    const out: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (!DROP_RESPONSE.has(name)) out[name] = value;
    });
    const bytes = Buffer.from(await upstream.arrayBuffer());
    res.writeHead(upstream.status, { ...out, 'content-length': bytes.length });
    res.end(method === 'HEAD' ? undefined : bytes);
  };
  const server = createServer((req, res) => {
    if (assets.handle(req, res)) return;
    forward(req, res).catch((error: unknown) => {
      logger.error('console proxy failed', { url: req.url, error });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    server,
    url: `http://${host}:${port}${CONSOLE_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
