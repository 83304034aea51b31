import type { WebhookDelivery } from '../jobs/types.js';

export interface WebhookOptions {
  /** Tries in all. @default 4 */
  attempts?: number;
  /** Wait before the second try; doubled before each later one (0.5 s, 1 s, 2 s). @default 500 */
  backoffMs?: number;
  /** Each try gives up after this long. @default 10000 */
  timeoutMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default setTimeout as a promise */
  sleep?: (ms: number) => Promise<void>;
  /** Stops the delivery (the server closing): no further try, the try under way is aborted. */
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** 408, 425, 429 and 5xx may pass on a later try; any other answer is the receiver's final word. */
function retryable(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * POSTs `payload` as JSON to `url`, retrying a refused connection, a timeout, 408/425/429 and 5xx with
 * exponential backoff; a 2xx is delivered. Never throws: the outcome (tries, last status, why it failed)
 * is what the job record keeps.
 */
export async function deliverWebhook(url: string, payload: unknown, options: WebhookOptions = {}): Promise<WebhookDelivery> {
  const { attempts = 4, backoffMs = 500, timeoutMs = 10_000 } = options;
  const post = options.fetch ?? fetch;
  const wait = options.sleep ?? sleep;
  const body = JSON.stringify(payload);
  const delivery: WebhookDelivery = { url, delivered: false, attempts: 0, lastStatus: null };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await wait(backoffMs * 2 ** (attempt - 2));
    if (options.signal?.aborted) break;
    delivery.attempts = attempt;
    try {
      const response = await post(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'headstart-webhook' },
        body,
        redirect: 'manual',
        signal: options.signal ? AbortSignal.any([AbortSignal.timeout(timeoutMs), options.signal]) : AbortSignal.timeout(timeoutMs),
      });
      // The answer's body is not ours to read; release the connection.
      await response.body?.cancel().catch(() => undefined);
      delivery.lastStatus = response.status;
      if (response.ok) {
        delete delivery.lastError;
        return { ...delivery, delivered: true, at: new Date().toISOString() };
      }
      delivery.lastError = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      if (!retryable(response.status)) break;
    } catch (error) {
      delivery.lastStatus = null;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      delivery.lastError = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (cause?.code ?? cause?.message ?? (error as Error).message);
    }
  }
  return { ...delivery, at: new Date().toISOString() };
}
