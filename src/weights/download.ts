import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { writeFully } from './cache.js';

export interface DownloadOptions {
  /** Injected fetch (tests, proxies). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Time allowed until the response headers arrive: a closed network fails this fast. @default 10000 */
  connectTimeoutMs?: number;
  /** Longest pause between two body chunks before the download is abandoned. @default 60000 */
  idleTimeoutMs?: number;
}

export interface DownloadResult {
  bytes: number;
  md5: string;
  sha256: string;
}

/** Why a download failed, in words fit for an error message (the network error code when there is one). */
export class DownloadFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DownloadFailure';
  }
}

/**
 * Streams `url` into `dest` (never buffered whole: official files reach 550 MB), hashing as it goes.
 * On any failure `dest` is removed and a DownloadFailure says why.
 */
export async function downloadToFile(url: string, dest: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const { fetch: fetchFn = globalThis.fetch, connectTimeoutMs = 10_000, idleTimeoutMs = 60_000 } = options;
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(new DownloadFailure(`no response within ${connectTimeoutMs / 1000} s`)), connectTimeoutMs);
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let bytes = 0;
  const file = await open(dest, 'w');
  try {
    const response = await fetchFn(url, { signal: controller.signal, redirect: 'follow' });
    if (!response.ok || !response.body) throw new DownloadFailure(`HTTP ${response.status} ${response.statusText}`.trim());
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new DownloadFailure(`stalled for ${idleTimeoutMs / 1000} s after ${bytes} bytes`)), idleTimeoutMs);
      md5.update(chunk);
      sha256.update(chunk);
      await writeFully(file, chunk);
      bytes += chunk.byteLength;
    }
    const expected = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(expected) && bytes !== expected) throw new DownloadFailure(`connection closed after ${bytes} of ${expected} bytes`);
  } catch (error) {
    await file.close();
    await rm(dest, { force: true });
    throw new DownloadFailure(describeFailure(error, controller.signal), { cause: error });
  } finally {
    clearTimeout(timer);
  }
  await file.close();
  return { bytes, md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}

/** fetch reports 'fetch failed' with the useful part (ECONNREFUSED, ENOTFOUND …) in its cause. */
function describeFailure(error: unknown, signal: AbortSignal): string {
  if (signal.aborted && signal.reason instanceof DownloadFailure) return signal.reason.message;
  if (error instanceof DownloadFailure) return error.message;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.message && !cause.message.includes(cause.code) ? `${cause.code} (${cause.message})` : cause.message ?? cause.code;
  return (error as Error).message ?? String(error);
}
