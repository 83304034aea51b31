import { HeadstartError, InvalidArgumentError } from '../../../src/errors.js';
import { cachedImageFeatures, MAX_SIMILAR_K, similarImages } from '../../../src/datatools/similar.js';
import { NotExtractedError } from '../../../src/datatools/errors.js';
import { validateDatasetName } from '../../../src/layout.js';
import type { FeatureNamespace } from '../../../src/features/namespace.js';
import { loadBuiltDatasetFeatures } from '../../../src/features/shards.js';
import type { ObjectStore } from '../../../src/store/index.js';
import { DEFAULT_LIMITS, readRequestImages } from '../../classify/body.js';
import { loadSources } from '../../classify/sources.js';
import { HttpError } from '../errors.js';
import type { ApiRequest } from '../http.js';
import type { Route } from '../router.js';

/** The feature vector of image bytes in the service's namespace (the classify service's POST /features). */
export type Embedder = (bytes: Uint8Array) => Promise<Float32Array>;

export interface SimilarDeps {
  store: ObjectStore;
  namespace: () => Promise<FeatureNamespace>;
  /** Extracts features of sent bytes (and of keys not extracted yet); absent: only extracted `{ key }`s are answered. */
  embed?: Embedder;
}

const DEFAULT_K = 10;

function parseQuery(query: Record<string, string>): { dataset: string; k: number } {
  for (const name of Object.keys(query)) {
    if (!['dataset', 'k'].includes(name)) throw new InvalidArgumentError(`Unknown query parameter '${name}': expected 'dataset' or 'k'.`);
  }
  if (!query.dataset) throw new InvalidArgumentError("POST /similar needs ?dataset=<name>: the dataset to search.");
  const k = query.k === undefined ? DEFAULT_K : /^\d+$/.test(query.k) ? Number(query.k) : NaN;
  if (!(k >= 1 && k <= MAX_SIMILAR_K)) throw new InvalidArgumentError(`'k' must be an integer from 1 to ${MAX_SIMILAR_K}, got '${query.k}'.`);
  return { dataset: validateDatasetName(query.dataset), k };
}

/**
 * POST /similar?dataset=<name>&k=10 with an image (the bodies of POST /classify) or `{ "key": "images/…" }`:
 * `{ neighbours: [{ key, label, score }], dataset, k, namespace, timings }`, cosine on the service's cached
 * features, exact search over the dataset's shards (src/datatools/similar.ts).
 */
export function similarRoutes(deps: SimilarDeps): Route[] {
  async function queryVector(request: ApiRequest, ns: FeatureNamespace): Promise<{ vector: Float32Array; key?: string }> {
    const { sources } = await readRequestImages(request.event, DEFAULT_LIMITS);
    if (sources.length !== 1) throw new InvalidArgumentError(`POST /similar takes one image, got ${sources.length}.`);
    const source = sources[0]!;
    if ('error' in source) throw source.error;
    if ('key' in source) {
      const cached = await cachedImageFeatures(deps.store, ns, source.key);
      if (cached) return { vector: cached, key: source.key };
      if (!deps.embed) throw new NotExtractedError(source.key);
    } else if (!deps.embed) {
      throw new HttpError('KeyRequired', 'This endpoint answers from the feature cache only: send JSON { "key": "images/…" } of an extracted image.');
    }
    const [loaded] = await loadSources(deps.store, [source], DEFAULT_LIMITS.maxObjectBytes);
    if ('error' in loaded!) throw loaded.error;
    return { vector: await deps.embed!(loaded!.bytes), key: 'key' in source ? source.key : undefined };
  }

  async function similar(request: ApiRequest) {
    const started = performance.now();
    const { dataset, k } = parseQuery(request.query);
    const ns = await deps.namespace();
    const { vector, key } = await queryVector(request, ns);
    const embedded = performance.now();
    const data = await loadBuiltDatasetFeatures(deps.store, ns, dataset);
    const loaded = performance.now();
    const neighbours = similarImages(data, vector, k, key);
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return {
      dataset,
      k,
      namespace: data.manifest.namespace,
      neighbours,
      timings: { queryMs: round(embedded - started), loadMs: round(loaded - embedded), searchMs: round(performance.now() - loaded) },
    };
  }

  return [{ method: 'POST', path: '/similar', handler: async (request) => ({ statusCode: 200, body: await similar(request) }) }];
}
