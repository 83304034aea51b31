import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDevStack, type DevStack } from '../../local/dev.js';
import { FASHION_MNIST as FMNIST } from '../helpers/fixtures.js';
import { makeTruncatedJpeg } from '../helpers/images.js';
import { createS3Client, S3Store } from '../../src/store/index.js';
import { describeWhen, realWeights } from '../helpers/real-weights.js';

/**
 * The console in a real browser (headless Chromium, the Debian package, driven by puppeteer-core): the
 * README journey on a stack of its own (free ports, an API key, real DenseNet121 weights): sign in with the
 * key, upload a folder of class folders, watch extraction finish, look at a label's thumbnails, train a head
 * with the form's defaults, watch its curves, open the model page, select a confusion-matrix cell and see
 * its images, classify an image. Controls are checked for labels and reached by keyboard on the way.
 */
const ROOT = join(import.meta.dirname, '../..');
const weights = await realWeights();
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots of each step, for a person to look at (gitignored). */
export const SCREENSHOTS = join(ROOT, 'test/e2e/screenshots/console');
const KEY = 'console-test-key';
/** Three classes fashion-MNIST confuses, so the confusion matrix has cells off its diagonal. */
const LABELS = ['coat', 'pullover', 'shirt'];
const PER_LABEL = 10;

const missing = [
  !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
  weights.reason,
].filter((m): m is string => typeof m === 'string');

/** Every form control has a label (a <label>, aria-label or aria-labelledby) and every button a name. */
async function unlabelledControls(page: Page): Promise<string[]> {
  // Runs in the page (a string: this project's types are Node's, not the DOM's).
  return page.evaluate(`(() => {
    const bad = [];
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (el.type === 'hidden') continue;
      if (!(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby'))) bad.push(el.outerHTML.slice(0, 120));
    }
    for (const el of document.querySelectorAll('button, a[href]')) {
      if (!(el.getAttribute('aria-label') || el.textContent.trim())) bad.push(el.outerHTML.slice(0, 120));
    }
    return bad;
  })()`) as Promise<string[]>;
}

/** Presses Tab until the element matching `selector` has focus; false when it is not reachable in `max` presses. */
async function tabTo(page: Page, selector: string, max = 80): Promise<boolean> {
  await page.evaluate('document.activeElement && document.activeElement.blur()');
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(`!!document.activeElement && document.activeElement.matches(${JSON.stringify(selector)})`)) return true;
  }
  return false;
}

const text = (page: Page, selector: string) => page.$eval(selector, (el) => el.textContent ?? '');

describeWhen({ reason: missing.join('; ') || undefined }, `the console in headless Chromium (screenshots in ${SCREENSHOTS})`, () => {
  let home: string;
  let data: string;
  let folder: string;
  let stack: DevStack;
  let browser: Browser;
  let page: Page;
  const origins = new Set<string>();
  const pageErrors: string[] = [];
  let headId = '';

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'hs-console-home-'));
    data = mkdtempSync(join(tmpdir(), 'hs-console-data-'));
    folder = mkdtempSync(join(tmpdir(), 'hs-console-upload-'));
    for (const label of LABELS) {
      mkdirSync(join(folder, 'shop', label), { recursive: true });
      for (const file of readdirSync(join(FMNIST, 'train', label)).sort().slice(0, PER_LABEL)) cpSync(join(FMNIST, 'train', label, file), join(folder, 'shop', label, file));
    }
    // One damaged image: it fails extraction, and the page says which and why.
    writeFileSync(join(folder, 'shop', LABELS[0]!, 'broken.jpg'), await makeTruncatedJpeg(7));
    rmSync(SCREENSHOTS, { recursive: true, force: true });
    mkdirSync(SCREENSHOTS, { recursive: true });
    await weights.installInto(home);
    stack = await startDevStack({ port: 0, s3Port: 0, dataDir: data, home, model: 'densenet121', apiKey: KEY, log: () => undefined });
    const { default: puppeteer } = await import('puppeteer-core');
    browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], headless: true });
    page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    page.on('request', (request) => origins.add(new URL(request.url()).origin));
    page.on('pageerror', (error) => pageErrors.push(String(error)));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    for (const dir of [home, data, folder]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  it('redirects / to /console/, asks for the API key on a 403, and keeps it for the tab', async () => {
    const response = await fetch(`${stack.api.url}/`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/console/');
    // The page and bundle need no key; the API still does.
    expect((await fetch(`${stack.api.url}/console/assets/main.js`)).status).toBe(200);
    expect((await fetch(`${stack.api.url}/datasets`)).status).toBe(403);

    await page.goto(`${stack.api.url}/`);
    expect(page.url()).toBe(`${stack.api.url}/console/`);
    await page.waitForSelector('.keybar input[type=password]');
    expect(await text(page, '.keybar')).toContain('403');
    await page.type('.keybar input[type=password]', KEY);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await page.waitForSelector('main h1');
    // The list shows once GET /datasets answers.
    await page.waitForFunction(`document.querySelector('main')?.textContent.includes('No datasets yet')`);
  });

  it('uploads a folder of class folders through presigned PUTs and shows extraction finish, per label', async () => {
    expect(await tabTo(page, 'input[placeholder="e.g. flowers"]')).toBe(true);
    await page.keyboard.type('shop');
    const picker = await page.$('input[type=file][webkitdirectory]');
    await picker!.uploadFile(join(folder, 'shop'));
    await page.waitForFunction(`location.pathname === '/console/datasets/shop'`);
    // The counts update while extraction runs: every summary the page shows, until it says it is done.
    const seen: string[] = [];
    for (let i = 0; i < 300; i++) {
      const summary = await page.$eval('.summary', (el) => el.textContent ?? '').catch(() => '');
      if (summary && summary !== seen.at(-1)) seen.push(summary);
      if (summary.includes('extraction finished')) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    const total = LABELS.length * PER_LABEL + 1;
    expect(seen.at(-1)).toContain(`${total} images: ${total - 1} extracted, 1 failed, 0 pending`);
    expect(seen.length, seen.join(' | ')).toBeGreaterThan(1);
    const extracted = seen.map((line) => Number(/(\d+) extracted/.exec(line)?.[1]));
    expect(extracted).toEqual([...extracted].sort((a, b) => a - b));
    const rows = await page.$$eval('table.counts tbody tr', (trs) => trs.map((tr) => [...tr.children].slice(0, 5).map((c) => c.textContent)));
    expect(rows).toEqual(LABELS.map((label, i) => (i === 0 ? [label, String(PER_LABEL + 1), String(PER_LABEL), '1', '0'] : [label, String(PER_LABEL), String(PER_LABEL), '0', '0'])));
    const failures = await page.$$eval('ul.failures li', (lis) => lis.map((li) => li.textContent ?? ''));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain(`images/shop/${LABELS[0]}/broken.jpg`);
    expect(failures[0]).toMatch(/Corrupt|Truncated|Decode/i);
    expect(await unlabelledControls(page)).toEqual([]);
    await shot('1-dataset');
  }, 120_000);

  it("shows a label's images as thumbnails from GET /thumbnails", async () => {
    const button = (await page.$$('table.counts tbody button'))[0]!;
    await button.focus();
    await page.keyboard.press('Enter');
    const grid = `section[aria-label="Images of ${LABELS[0]}"] .thumb img`;
    await page.waitForFunction(`document.querySelectorAll('${grid}').length === ${PER_LABEL}`, { timeout: 20_000 });
    const sizes = await page.evaluate(`[...document.querySelectorAll('${grid}')].map((img) => [img.naturalWidth, img.naturalHeight])`);
    // fashion-MNIST is 28×28: the thumbnail's longer side is the default size, 160.
    expect(sizes).toEqual(Array.from({ length: PER_LABEL }, () => [160, 160]));
    // The damaged image has no thumbnail; its tile says it failed.
    await page.waitForFunction(`[...document.querySelectorAll('section[aria-label="Images of ${LABELS[0]}"] .thumb')].some((f) => f.textContent.includes('failed') && f.querySelector('.placeholder')?.textContent === '⚠')`, { timeout: 20_000 });
    await shot('2-thumbnails');
  });

  it('trains a head from the form (pre-filled with the API defaults) and shows its curves per epoch', async () => {
    const defaults = (await (await fetch(`${stack.api.url}/train/defaults`, { headers: { 'x-api-key': KEY } })).json()) as { head: { epochs: number; dropout: number } };
    const form = await page.evaluate(`[...document.querySelectorAll('form.train input[type=number]')].map((i) => i.value)`);
    expect(form).toContain(String(defaults.head.epochs));
    expect(form).toContain(String(defaults.head.dropout));
    expect(await tabTo(page, 'form.train button[type=submit]')).toBe(true);
    await page.keyboard.press('Enter');
    await page.waitForFunction(`location.pathname.startsWith('/console/jobs/')`);
    await page.waitForFunction(`document.querySelector('.status')?.textContent === 'succeeded'`, { timeout: 60_000 });
    const job = (await (await fetch(`${stack.api.url}/jobs/${decodeURIComponent(page.url().split('/').pop()!)}`, { headers: { 'x-api-key': KEY } })).json()) as {
      history: Array<Partial<Record<'loss' | 'valLoss' | 'accuracy' | 'valAccuracy', number>>>;
      headId: string;
      request: { head?: unknown };
    };
    // "The API's choice" is the default: the request leaves 'head' out, as the README's curl does.
    expect(job.request.head).toBeUndefined();
    headId = job.headId;
    // One point per value the API recorded per epoch, on each curve of each chart (the auto head's refit on all
    // rows has no validation rows, so its validation curves may be empty).
    const recorded = (field: 'loss' | 'valLoss' | 'accuracy' | 'valAccuracy') => job.history.filter((h) => typeof h[field] === 'number').length;
    expect(job.history.length).toBeGreaterThan(0);
    const points = await page.$$eval('.chart', (charts) =>
      charts.map((c) => [c.querySelectorAll('g.s-train circle').length, c.querySelectorAll('g.s-val circle').length]));
    expect(points).toEqual([[recorded('loss'), recorded('valLoss')], [recorded('accuracy'), recorded('valAccuracy')]]);
    await shot('3-job');
  }, 90_000);

  it('opens the model page: accuracy, per-class table, confusion matrix; a cell shows its evaluation images', async () => {
    await page.click(`a[href="/console/models/${headId}"]`);
    await page.waitForSelector('table.confusion');
    const model = (await (await fetch(`${stack.api.url}/models/${headId}`, { headers: { 'x-api-key': KEY } })).json()) as {
      metrics: { accuracy: number; confusionMatrix: number[][]; labels: string[]; evaluation?: { samples?: Array<{ label: string; predicted: string }> } };
    };
    expect(await text(page, '.facts .big')).toBe(`${(model.metrics.accuracy * 100).toFixed(1)}%`);
    expect(await page.$$eval('table.perclass tbody th', (ths) => ths.map((t) => t.textContent))).toEqual(LABELS);
    const cells = await page.$$eval('table.confusion tbody button', (bs) => bs.map((b) => Number(b.textContent)));
    expect(cells).toEqual(model.metrics.confusionMatrix.flat());
    expect(await unlabelledControls(page)).toEqual([]);

    // The busiest cell off the diagonal (else on it), selected by keyboard.
    const off = cells.map((n, i) => (i % (LABELS.length + 1) === 0 ? -1 : n));
    const busiest = Math.max(...off) > 0 ? off.indexOf(Math.max(...off)) : cells.indexOf(Math.max(...cells));
    const [truth, predicted] = [LABELS[Math.floor(busiest / LABELS.length)]!, LABELS[busiest % LABELS.length]!];
    const cell = `table.confusion button[aria-label^="true ${truth}, predicted ${predicted}:"]`;
    await page.focus(cell);
    await page.keyboard.press('Space');
    await page.waitForSelector('.cell-images');
    expect(await text(page, '.cell-images h2')).toContain(`True ${truth}, predicted ${predicted}`);
    const samples = model.metrics.evaluation?.samples;
    if (samples) {
      const expected = samples.filter((s) => s.label === truth && s.predicted === predicted).length;
      await page.waitForFunction(`document.querySelectorAll('.cell-images .thumb img').length === ${expected}`, { timeout: 20_000 });
      expect(await page.$$eval('.cell-images figcaption', (fs) => fs.every((f) => /\d+\.\d%$/.test(f.textContent ?? '')))).toBe(true);
    } else {
      console.warn('console test: this head has no metrics.evaluation.samples (per-image evaluation not in the trainer yet): the cell shows the note, not images');
      expect(await text(page, '.cell-images')).toContain('no per-image results');
    }
    await shot('4-model');
  });

  it('classifies an image with the head: top-k bars', async () => {
    await page.goto(`${stack.api.url}/console/classify?model=${headId}`);
    await page.waitForFunction(`document.querySelector('select')?.value === 'head:${headId}'`);
    const picker = await page.$('input[type=file][accept="image/*"]');
    const test = join(FMNIST, 'test', LABELS[0]!);
    await picker!.uploadFile(join(test, readdirSync(test).sort()[0]!));
    await page.waitForSelector('ol.bars li');
    const bars = await page.$$eval('ol.bars li .bar-label', (ls) => ls.map((l) => l.textContent));
    expect([...bars].sort()).toEqual(LABELS);
    expect(await unlabelledControls(page)).toEqual([]);
    await shot('5-classify');
  });

  it('starts a batch prediction of the dataset from its page, watches it, and judges the results: thumbnails, label, probability, top-k, the failed image, downloads', async () => {
    // A webhook receiver: the job page says whether the completion was delivered.
    const received: string[] = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push(body);
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`;
    try {
      await page.goto(`${stack.api.url}/console/datasets/shop`);
      await page.click('a[href="/console/predict?dataset=shop"]');
      await page.waitForFunction(`location.pathname === '/console/predict'`);
      await page.waitForFunction(`[...document.querySelectorAll('form.predict select')].every((s) => s.options.length > 0)`);
      expect(await page.evaluate(`document.querySelector('form.predict select[name=dataset]').value`)).toBe('shop');
      await page.select('form.predict select[name=target]', `head:${headId}`);
      await page.focus('form.predict input[type=number]');
      await page.keyboard.down('Control');
      await page.keyboard.press('KeyA');
      await page.keyboard.up('Control');
      await page.keyboard.type('2');
      await page.type('form.predict input[type=url]', webhook);
      expect(await unlabelledControls(page)).toEqual([]);
      await shot('5d-predict-form');
      expect(await tabTo(page, 'form.predict button[type=submit]')).toBe(true);
      await page.keyboard.press('Enter');
      await page.waitForFunction(`location.pathname.startsWith('/console/jobs/') || document.querySelector('form.predict .error')`);
      expect(await page.$eval('form.predict .error', (el) => el.textContent).catch(() => null)).toBeNull();
      const jobId = decodeURIComponent(page.url().split('/').pop()!);
      await page.waitForFunction(`document.querySelector('.status')?.textContent === 'succeeded'`, { timeout: 60_000 });
      const total = LABELS.length * PER_LABEL + 1;
      expect(await text(page, '.progress-images')).toBe(`${total} of ${total} images: ${total - 1} predicted, 1 failed (${total - 1} cached, 0 extracted)`);
      const job = await api<{ request: unknown; webhook: { delivered: boolean }; results: { csv: string; jsonl: string } }>('GET', `/jobs/${jobId}`);
      expect(job.request).toEqual({ dataset: 'shop', head: headId, top: 2, webhook });
      expect(job.webhook.delivered).toBe(true);
      expect(JSON.parse(received[0]!)).toMatchObject({ jobId, status: 'succeeded' });
      await page.waitForFunction(`document.querySelector('.webhook')?.textContent.startsWith('delivered')`);

      // The table is the API's page: one row per image in key order, top-2 each, the broken image with its error.
      const { rows } = await api<{ rows: Array<{ key: string; label?: string; probability?: number; top?: Array<{ label: string }>; error?: { code: string } }> }>('GET', `/jobs/${jobId}/results?limit=100`);
      expect(rows).toHaveLength(total);
      await page.waitForFunction(`document.querySelectorAll('table.predictions tbody tr').length === ${total}`);
      const shown = await page.$$eval('table.predictions tbody tr', (trs) =>
        trs.map((tr) => ({
          key: tr.querySelector('.thumb')?.getAttribute('title'),
          label: tr.querySelector('td.label')?.textContent ?? null,
          probability: tr.querySelector('td.probability')?.textContent ?? null,
          top: [...tr.querySelectorAll('ol.topk li')].map((li) => li.firstChild?.textContent?.trim()),
          error: tr.querySelector('td.bad')?.textContent ?? null,
        })),
      );
      expect(shown).toEqual(
        rows.map((r) => ({
          key: r.key,
          label: r.label ?? null,
          probability: r.probability === undefined ? null : `${(r.probability * 100).toFixed(1)}%`,
          top: (r.top ?? []).map((t) => t.label),
          error: r.error ? expect.stringContaining(r.error.code) : null,
        })),
      );
      expect(rows.every((r) => r.error || r.top!.length === 2)).toBe(true);
      // One page of 50 holds them all: the pager says so.
      expect(await text(page, 'section.results .summary')).toBe(`Images 1–${total} of ${total}`);
      expect(await page.$$eval('.pager button', (bs) => bs.map((b) => [b.textContent, b.disabled]))).toEqual([
        ['Previous page', true],
        ['Next page', true],
      ]);
      const broken = shown.find((r) => r.error);
      expect(broken?.key).toBe(`images/shop/${LABELS[0]}/broken.jpg`);
      // Thumbnails of the predicted images, loaded as they scroll into view: all of them on a page this tall.
      await page.setViewport({ width: 1200, height: 6000 });
      await page.waitForFunction(`document.querySelectorAll('table.predictions .thumb img').length === ${total - 1}`, { timeout: 20_000 });
      // fashion-MNIST is square: 96×96 at size 96.
      expect(await page.evaluate(`[...document.querySelectorAll('table.predictions .thumb img')].every((img) => img.naturalWidth === 96 && img.naturalHeight === 96)`)).toBe(true);
      // Most of the head's labels are right: the folder is the truth for these training images.
      const right = rows.filter((r) => r.label && r.key.split('/')[2] === r.label).length;
      expect(right).toBeGreaterThan((total - 1) / 2);
      expect(await unlabelledControls(page)).toEqual([]);
      await page.setViewport({ width: 1200, height: 900 });
      await shot('5e-predict-results');

      // Only the failed images.
      await page.select('section.results select', 'failed');
      await page.waitForFunction(`document.querySelectorAll('table.predictions tbody tr').length === 1`);
      expect(await text(page, 'table.predictions tbody tr td.bad')).toMatch(/Corrupt|Truncated|Decode/i);

      // The download links are the files the job wrote.
      const store = new S3Store(createS3Client({ endpoint: stack.s3.endpoint }), stack.s3.bucket);
      const links = await page.$$eval('.downloads a', (as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
      expect(links.map(([label]) => label)).toEqual(['Download results.csv', 'Download results.jsonl']);
      for (const [label, href] of links) {
        const format = label!.endsWith('csv') ? 'csv' : 'jsonl';
        const response = await fetch(href!);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-disposition')).toContain(`${jobId}-results.${format}`);
        expect(await response.text()).toBe((await store.get(job.results[format])).toString());
      }
    } finally {
      receiver.close();
    }
  }, 120_000);

  const api = async <T,>(method: string, path: string, body?: unknown): Promise<T> => {
    const init: RequestInit = { method, headers: { 'x-api-key': KEY } };
    if (body instanceof Uint8Array) Object.assign(init, { body, headers: { 'x-api-key': KEY, 'content-type': 'image/png' } });
    else if (body !== undefined) Object.assign(init, { body: JSON.stringify(body), headers: { 'x-api-key': KEY, 'content-type': 'application/json' } });
    const response = await fetch(`${stack.api.url}${path}`, init);
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };

  it("lists an image uploaded twice under the dataset's issues, with both thumbnails", async () => {
    // The same bytes as an image already in the dataset, under another name (through a presigned PUT, as the console uploads).
    const first = readdirSync(join(folder, 'shop', LABELS[1]!)).sort()[0]!;
    const signed = await api<{ key: string; url: string; headers: Record<string, string> }>('POST', '/uploads', { dataset: 'shop', label: LABELS[1], file: 'again.png', contentType: 'image/png' });
    expect((await fetch(signed.url, { method: 'PUT', headers: signed.headers, body: readFileSync(join(folder, 'shop', LABELS[1]!, first)) })).status).toBe(200);
    const total = LABELS.length * PER_LABEL + 2;
    for (let i = 0; i < 100; i++) {
      const { totals } = await api<{ totals: { images: number; pending: number } }>('GET', '/datasets/shop');
      if (totals.images === total && totals.pending === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await page.goto(`${stack.api.url}/console/datasets/shop`);
    await page.click('a[href="/console/datasets/shop/issues"]');
    await page.waitForFunction(`location.pathname === '/console/datasets/shop/issues'`);
    await page.waitForSelector('section[aria-label="Duplicates"] h2', { timeout: 30_000 });
    const groups = await page.$$eval('section[aria-label="Duplicates"] li', (lis) => lis.map((li) => [...li.querySelectorAll('.thumb')].map((f) => f.getAttribute('title')).sort()));
    expect(groups[0]).toEqual([`images/shop/${LABELS[1]}/${first}`, signed.key].sort());
    expect(await text(page, 'section[aria-label="Duplicates"] li')).toContain('identical bytes');
    // Each list is there, with its count, and its rows have thumbnails.
    expect(await page.$$eval('main.issues section h2', (hs) => hs.map((h) => (h.textContent ?? '').replace(/ \(\d+\)$/, '')))).toEqual(['Duplicates', 'Likely label errors', 'Outliers']);
    await page.waitForFunction(`document.querySelectorAll('section[aria-label="Duplicates"] li:first-child .thumb img').length === 2`, { timeout: 20_000 });
    expect(await unlabelledControls(page)).toEqual([]);
    await shot('5b-issues');
  }, 60_000);

  it('labels one queued review (the image moves into the dataset) and discards another', async () => {
    const image = new Uint8Array(readFileSync(join(FMNIST, 'test', LABELS[2]!, readdirSync(join(FMNIST, 'test', LABELS[2]!)).sort()[0]!)));
    for (let i = 0; i < 2; i++) await api('POST', `/classify?head=${headId}&review=true`, image);
    const { reviews } = await api<{ reviews: Array<{ id: string; predictions: Array<{ label: string }> }> }>('GET', '/reviews?dataset=shop');
    expect(reviews).toHaveLength(2);
    await page.goto(`${stack.api.url}/console/datasets/shop/reviews`);
    await page.waitForFunction(`document.querySelectorAll('li.review').length === 2 && [...document.querySelectorAll('li.review select')].every((s) => s.options.length === ${LABELS.length})`);
    // The picker offers the dataset's labels and starts at the prediction.
    expect(await page.evaluate(`[...document.querySelectorAll('li.review select')].map((s) => s.value)`)).toEqual(reviews.map((r) => r.predictions[0]!.label));
    expect(await unlabelledControls(page)).toEqual([]);
    await shot('5c-reviews');
    const [accepted, discarded] = reviews.map((r) => `li.review[aria-label="Review ${r.id}"]`);
    const target = LABELS.find((l) => l !== reviews[0]!.predictions[0]!.label)!;
    await page.select(`${accepted} select`, target);
    await page.click(`${accepted} button.primary`);
    await page.waitForFunction(`document.querySelectorAll('li.review').length === 1`);
    await page.click(`${discarded} button:not(.primary)`);
    await page.waitForFunction(`document.querySelectorAll('li.review').length === 0`);
    expect(await text(page, '.summary')).toContain('Nothing waiting');
    const store = new S3Store(createS3Client({ endpoint: stack.s3.endpoint }), stack.s3.bucket);
    const uuid = reviews[0]!.id.split('~')[1]!;
    expect(await store.exists(`images/shop/${target}/review-${uuid}.png`)).toBe(true);
    const left: string[] = [];
    for await (const info of store.listAll('reviews/shop/')) left.push(info.key);
    expect(left).toEqual([]);
    expect((await api<{ reviews: unknown[] }>('GET', '/reviews?dataset=shop')).reviews).toEqual([]);
  }, 60_000);

  it('stops a long training run from its job page (POST /jobs/{id}/stop): the job ends failed with JobStopped', async () => {
    await page.goto(`${stack.api.url}/console/datasets/shop`);
    await page.waitForSelector('form.train');
    await page.click('form.train input[name=head-settings][value=custom]');
    // The form is pre-filled once GET /train/defaults answers.
    await page.waitForFunction(`[...document.querySelectorAll('form.train input[type=number]')].every((i) => i.value !== '')`);
    const epochs = await page.$$('form.train input[type=number]');
    // Epochs (the 3rd number field) and patience (the 6th): far more than the test waits for.
    for (const index of [2, 5]) {
      await epochs[index]!.focus();
      await page.keyboard.down('Control');
      await page.keyboard.press('KeyA');
      await page.keyboard.up('Control');
      await page.keyboard.type('1000');
    }
    const { head } = (await (await fetch(`${stack.api.url}/train/defaults`, { headers: { 'x-api-key': KEY } })).json()) as { head: Record<string, number> };
    expect(await page.evaluate(`[...document.querySelectorAll('form.train input[type=number]')].map((i) => i.value)`)).toEqual(
      [head.dropout, head.learningRate, 1000, head.batchSize, head.validationSplit, 1000].map(String),
    );
    await page.focus('form.train button[type=submit]');
    await page.keyboard.press('Enter');
    // On the job page, or the form's error says why not.
    await page.waitForFunction(`location.pathname.startsWith('/console/jobs/') || document.querySelector('form.train .error')`);
    expect(await page.$eval('form.train .error', (el) => el.textContent).catch(() => null)).toBeNull();
    await page.waitForFunction(`/^([2-9]|\\d{2,}) of 1000/.test(document.querySelector('.facts dd:nth-of-type(4)')?.textContent ?? '')`, { timeout: 30_000 });
    // While it runs: the ETA from the job's progress, as a duration.
    expect(await text(page, '.facts dd:nth-of-type(7)')).toMatch(/^\d+ (s|min|h)/);
    expect(await tabTo(page, 'main button')).toBe(true);
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Stop');
    await page.keyboard.press('Enter');
    await page.waitForFunction(`document.querySelector('.status')?.textContent === 'failed'`, { timeout: 20_000 });
    expect(await text(page, 'p.error[role=alert]')).toContain('JobStopped');
    const epochsRun = Number((await text(page, '.facts dd:nth-of-type(4)')).split(' ')[0]);
    expect(epochsRun).toBeLessThan(1000);
    await shot('6-stopped');
  }, 60_000);

  it('deletes the model from its page', async () => {
    await page.goto(`${stack.api.url}/console/models/${headId}`);
    await page.waitForSelector('button.danger');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('button.danger');
    await page.waitForFunction(`location.pathname === '/console/models'`);
    await page.waitForSelector('main h1');
    expect((await fetch(`${stack.api.url}/models/${headId}`, { headers: { 'x-api-key': KEY } })).status).toBe(404);
    expect(await text(page, 'main')).not.toContain(headId);
  });

  it('deep links load their page, and nothing was fetched from another origin than the API and its bucket', async () => {
    await page.goto(`${stack.api.url}/console/datasets/shop`);
    await page.waitForFunction(`document.querySelector('.summary')?.textContent.includes('extracted')`);
    expect(await text(page, 'h1')).toContain('shop');
    expect([...origins].sort()).toEqual([stack.api.url, stack.s3.endpoint].sort());
    expect(pageErrors).toEqual([]);
  });
});
