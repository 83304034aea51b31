import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { HeadstartError } from '../../src/errors.js';

/** The console's source (TypeScript + Preact), bundled at start: nothing prebuilt to go stale, nothing from a CDN. */
export const CONSOLE_SOURCE = join(import.meta.dirname, '../../console');
export const CONSOLE_PATH = '/console/';

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json' };
/**
 * Scripts and styles only from this server; images from it or blob: URLs (thumbnails fetched with the API
 * key); API calls to it, and presigned PUTs to the bucket, wherever that is.
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self' http: https:; frame-ancestors 'none'";

function page(): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>headstart console</title>',
    '<link rel="icon" href="data:,">',
    `<link rel="stylesheet" href="${CONSOLE_PATH}assets/main.css">`,
    `<script type="module" src="${CONSOLE_PATH}assets/main.js"></script>`,
    '</head>',
    '<body><div id="app"></div><noscript>The headstart console needs JavaScript.</noscript></body>',
    '</html>',
  ].join('\n');
}

export interface ConsoleAssets {
  /** Answers `/` (redirect), `/console` and everything under `/console/`; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Bundle file names and sizes in bytes. */
  files: Record<string, number>;
}

/** The bundle in memory: `main.js` and `main.css` from console/main.tsx, by esbuild (a dependency of the package). */
export async function buildConsole(options: { minify?: boolean } = {}): Promise<Map<string, Buffer>> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (error) {
    throw new HeadstartError('ConsoleUnavailable', `The console is bundled with esbuild at start, and it is not installed: run 'npm ci' (${(error as Error).message}).`, { cause: error });
  }
  const result = await esbuild.build({
    entryPoints: [join(CONSOLE_SOURCE, 'main.tsx')],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: options.minify ?? true,
    sourcemap: 'linked',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: '/console-out',
    tsconfig: join(CONSOLE_SOURCE, 'tsconfig.json'),
    logLevel: 'silent',
  });
  return new Map(result.outputFiles.map((file) => [file.path.slice('/console-out/'.length), Buffer.from(file.contents)]));
}

/**
 * The console's files for a server: `/` and `/console` redirect to `/console/`; `/console/assets/*` is the
 * bundle; any other path under `/console/` is the page (deep links: the app routes in the browser). No
 * API key is needed for these (they hold no data); the page asks for the key and sends it with each API call.
 */
export async function createConsoleAssets(): Promise<ConsoleAssets> {
  const bundle = await buildConsole();
  const html = Buffer.from(page());
  const send = (res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | string, head: boolean) => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { 'content-length': bytes.length, 'x-content-type-options': 'nosniff', ...headers });
    res.end(head ? undefined : bytes);
  };
  return {
    files: Object.fromEntries([...bundle].map(([name, bytes]) => [name, bytes.length])),
    handle(req, res) {
      const method = req.method ?? 'GET';
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (method !== 'GET' && method !== 'HEAD') return false;
      const head = method === 'HEAD';
      if (path === '/' || path === '/console') {
        send(res, 302, { location: CONSOLE_PATH, 'content-type': 'text/plain; charset=utf-8' }, `The console is at ${CONSOLE_PATH}\n`, head);
        return true;
      }
      if (!path.startsWith(CONSOLE_PATH)) return false;
      req.resume();
      const asset = path.startsWith(`${CONSOLE_PATH}assets/`) ? path.slice(`${CONSOLE_PATH}assets/`.length) : undefined;
      if (asset !== undefined) {
        const bytes = bundle.get(asset);
        if (!bytes) {
          send(res, 404, { 'content-type': 'text/plain; charset=utf-8' }, `No console asset '${asset}': there are ${[...bundle.keys()].join(', ')}.\n`, head);
          return true;
        }
        send(res, 200, { 'content-type': TYPES[asset.slice(asset.lastIndexOf('.'))] ?? 'application/octet-stream', 'cache-control': 'no-cache' }, bytes, head);
        return true;
      }
      send(res, 200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': CSP }, html, head);
      return true;
    },
  };
}
