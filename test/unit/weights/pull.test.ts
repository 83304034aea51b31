import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/engine/backend.js';
import { loadCachedWeights, readCacheEntry } from '../../../src/weights/cache.js';
import { WeightsIntegrityError, WeightsUnavailableError } from '../../../src/weights/errors.js';
import { pullWeightsFor } from '../../../src/weights/pull.js';
import { weightsDigest } from '../../../src/weights/weightsFile.js';
import { expectNoLeak } from '../../helpers/tf.js';
import { outline, patternWeights, tinyModel, tinyTarget, writeKerasH5 } from './fixtures.js';

let dir: string;
let server: Server;
let baseUrl: string;
let requests: string[] = [];
let topFile: Buffer;
const source = patternWeights(tinyModel(), 11);

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'headstart-pull-'));
  const path = join(dir, 'tiny_weights_tf_dim_ordering_tf_kernels.h5');
  await writeKerasH5(path, source, { emptyLayers: ['input_1', 'avg_pool'] });
  topFile = await readFile(path);
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/short/tiny_weights_tf_dim_ordering_tf_kernels.h5') {
      // The connection drops halfway through the promised body.
      res.writeHead(200, { 'content-length': topFile.byteLength });
      res.write(topFile.subarray(0, 1000), () => res.destroy());
      return;
    }
    if (req.url !== '/mirror/tiny_weights_tf_dim_ordering_tf_kernels.h5') {
      res.writeHead(404).end('not here');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': topFile.byteLength });
    // Two writes, so the client streams more than one chunk.
    res.write(topFile.subarray(0, 1000));
    res.end(topFile.subarray(1000));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mirror`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
const freshHome = () => mkdtemp(join(dir, 'home-'));

describe('pullWeights', () => {
  it('downloads, verifies the md5, converts and caches; the next pull is served from the cache', async () => {
    const home = await freshHome();
    const target = tinyTarget({ top: md5(topFile), notop: null });
    requests = [];
    const entry = await expectNoLeak(() => pullWeightsFor(target, { baseUrl, home }));
    expect(requests).toEqual(['/mirror/tiny_weights_tf_dim_ordering_tf_kernels.h5']);
    expect(entry.index).toMatchObject({
      model: 'tiny',
      variant: 'top',
      digest: weightsDigest(source),
      source: { fileName: 'tiny_weights_tf_dim_ordering_tf_kernels.h5', url: `${baseUrl}/tiny_weights_tf_dim_ordering_tf_kernels.h5`, md5: md5(topFile) },
    });
    const cached = await loadCachedWeights(entry);
    expect(outline(cached)).toEqual(outline(source));
    expect(cached[4]!.weights[0]!.data).toEqual(source[4]!.weights[0]!.data);
    // No download leftovers.
    expect(await readdir(join(home, 'weights', '.downloads'))).toEqual([]);

    const again = await pullWeightsFor(target, { baseUrl, home });
    expect(again.index.digest).toBe(entry.index.digest);
    expect(requests).toHaveLength(1);
  });

  it('fails on a wrong md5 with both hashes, and caches nothing', async () => {
    const home = await freshHome();
    const target = tinyTarget({ top: '0123456789abcdef0123456789abcdef', notop: null });
    const error = await pullWeightsFor(target, { baseUrl, home }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsIntegrityError);
    expect((error as Error).message).toBe(
      `Downloaded tiny_weights_tf_dim_ordering_tf_kernels.h5 from ${baseUrl}/tiny_weights_tf_dim_ordering_tf_kernels.h5 has md5 ${md5(topFile)}, ` +
        `expected 0123456789abcdef0123456789abcdef (Keras' file_hash): the file is damaged or not the official one. Nothing was cached.`,
    );
    expect(await readCacheEntry('tiny', 'top', home)).toBeUndefined();
    expect(await readdir(join(home, 'weights'))).toEqual(['.downloads']);
    expect(await readdir(join(home, 'weights', '.downloads'))).toEqual([]);
  });

  it('fails fast on a closed port, saying which file, from where, the import command and the cache folder', async () => {
    const home = await freshHome();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const started = Date.now();
    const error = await pullWeightsFor(tinyTarget(), { baseUrl: `http://127.0.0.1:${port}`, home, includeTop: false }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error).toBeInstanceOf(WeightsUnavailableError);
    const message = (error as Error).message;
    expect(message).toContain(`Cannot download tiny_weights_tf_dim_ordering_tf_kernels_notop.h5 from http://127.0.0.1:${port}/tiny_weights_tf_dim_ordering_tf_kernels_notop.h5: connect ECONNREFUSED`);
    expect(message).toContain('headstart weights import <path to tiny_weights_tf_dim_ordering_tf_kernels_notop.h5> --model tiny');
    expect(message).toContain(`cached in ${join(home, 'weights', 'tiny', 'notop')}`);
    expect(await readCacheEntry('tiny', 'notop', home)).toBeUndefined();
  });

  it('reports an HTTP error status as unavailable', async () => {
    const home = await freshHome();
    const error = await pullWeightsFor(tinyTarget(), { baseUrl: `${baseUrl}/elsewhere`, home }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsUnavailableError);
    expect((error as Error).message).toMatch(/elsewhere\/tiny_weights_tf_dim_ordering_tf_kernels.h5: HTTP 404 Not Found\./);
  });

  it('treats a body cut short as unavailable, even without a hash to check, and caches nothing', async () => {
    const home = await freshHome();
    const error = await pullWeightsFor(tinyTarget(), { baseUrl: baseUrl.replace('/mirror', '/short'), home }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsUnavailableError);
    expect((error as Error).message).toMatch(/^Cannot download tiny_weights_tf_dim_ordering_tf_kernels.h5 from http:\/\/127.0.0.1:\d+\/short\/tiny_weights_tf_dim_ordering_tf_kernels.h5: /);
    expect(await readCacheEntry('tiny', 'top', home)).toBeUndefined();
    expect(await readdir(join(home, 'weights', '.downloads'))).toEqual([]);
  });

  it('gives up after the connect timeout when no response comes', async () => {
    const home = await freshHome();
    const hanging: typeof fetch = (_url, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
    const error = await pullWeightsFor(tinyTarget(), { home, fetch: hanging, connectTimeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsUnavailableError);
    expect((error as Error).message).toContain(
      'Cannot download tiny_weights_tf_dim_ordering_tf_kernels.h5 from https://storage.googleapis.com/tensorflow/keras-applications/tiny/tiny_weights_tf_dim_ordering_tf_kernels.h5: no response within 0.05 s.',
    );
  });
});
