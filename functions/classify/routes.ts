import type { APIGatewayProxyEvent } from 'aws-lambda';
import { InvalidArgumentError } from '../../src/errors.js';
import { encodeSafetensors } from '../../src/features/format/safetensors.js';
import { namespaceId } from '../../src/features/pipeline.js';
import { header, type ApiResponse } from '../api/http.js';
import type { Route } from '../api/router.js';
import { readRequestImages } from './body.js';
import { explainRequest, ExplainService } from './explain.js';
import { parseClassifyQuery, parseFeaturesQuery, parseMinConfidence } from './query.js';
import { ClassifyService, type ClassifyDeps } from './service.js';

export interface ClassifyRoutes {
  /** POST /classify, POST /features and POST /explain, for the API router (functions/api/http-handler.ts). */
  routes: Route[];
  service: ClassifyService;
  explainer: ExplainService;
  /** Loads the default model and runs a dummy image through it; call once at process start. */
  warmUp(): Promise<void>;
  dispose(): void;
}

/**
 * POST /classify and POST /features as routes over one warm ClassifyService; POST /explain (Grad-CAM) over an
 * ExplainService beside it, with the same body forms.
 *
 * Bodies: the image bytes (`image/*`, `application/octet-stream`; base64 with `isBase64Encoded`), JSON
 * `{ image }`, `{ key }` (under images/), `{ images: [...] }`, or multipart/form-data files; at most 10 MB
 * (413 PayloadTooLarge: upload through POST /uploads and send `{ key }`). Query: `model`, `head`, `top`
 * (POST /features: `model`, `layer`, `pooling`).
 * Every failure is answered as `{ error: { code, message } }` with its status (functions/api/errors.ts):
 * 400 EmptyBody, EmptyImage, NotAnImage (bytes that are no image, whatever the Content-Type claims),
 * CorruptImage (truncated or damaged), MalformedJson, MalformedMultipart, InvalidBase64, InvalidArgument
 * (bad top, ...); 404 ModelNotFound, HeadNotFound, NoSuchKey; 409 HeadBaseMismatch; 413 PayloadTooLarge,
 * ImageTooLarge (pixel bombs), ObjectTooLarge; 415 UnsupportedMediaType, UnsupportedFormat (HEIC, SVG, ...);
 * 500 for our faults (message generic, details in the logs); 503 WeightsUnavailable, transient storage errors.
 */
export function createClassifyRoutes(deps: ClassifyDeps): ClassifyRoutes {
  const service = new ClassifyService(deps);
  const explainer = new ExplainService({ ...deps, maxObjectBytes: service.limits.maxObjectBytes });
  return {
    routes: [
      { method: 'POST', path: '/classify', handler: (request) => classifyRequest(service, request.event) },
      { method: 'POST', path: '/features', handler: (request) => featuresRequest(service, deps.defaultModel, request.event) },
      { method: 'POST', path: '/explain', handler: (request) => explainRequest(explainer, service, request.event) },
    ],
    service,
    explainer,
    warmUp: () => service.warmUp(),
    dispose: () => (service.dispose(), explainer.dispose()),
  };
}

/**
 * `{ results: [...], model, head?, timings }`, plus top-level `predictions` when the request held one
 * image. A single image that fails answers with its error's status; a batch answers 200 with the
 * failures in `results`, so one bad image never costs the others.
 */
async function classifyRequest(service: ClassifyService, event: APIGatewayProxyEvent): Promise<ApiResponse> {
  const started = performance.now();
  const query = parseClassifyQuery(event);
  const images = await readRequestImages(event, service.limits);
  const parsed = performance.now();
  const minConfidence = query.minConfidence ?? (images.minConfidence === undefined ? undefined : parseMinConfidence(images.minConfidence));
  const outcome = await service.classify(images.sources, { ...query, minConfidence });
  if (!images.batch && outcome.firstError) throw outcome.firstError;
  const [only] = outcome.results;
  return {
    statusCode: 200,
    body: {
      ...(outcome.results.length === 1 && only && 'predictions' in only
        ? { ...(only.belowThreshold === undefined ? {} : { label: only.label, belowThreshold: only.belowThreshold }), predictions: only.predictions }
        : {}),
      results: outcome.results,
      model: outcome.model,
      ...(outcome.head ? { head: outcome.head } : {}),
      timings: timings(started, parsed, outcome.timings),
    },
  };
}

/** JSON `{ shape, features, namespace, metadata, timings }`, or a safetensors file for `Accept: application/octet-stream`. */
async function featuresRequest(service: ClassifyService, defaultModel: string, event: APIGatewayProxyEvent): Promise<ApiResponse> {
  const started = performance.now();
  const query = parseFeaturesQuery(event, defaultModel);
  const images = await readRequestImages(event, service.limits);
  const parsed = performance.now();
  if (images.sources.length !== 1) {
    throw new InvalidArgumentError(`POST /features takes one image, got ${images.sources.length}: send them one per request.`);
  }
  const outcome = await service.features(images.sources[0]!, query);
  if (wantsSafetensors(event)) {
    const file = encodeSafetensors({ features: { dtype: 'F32', shape: outcome.shape, data: outcome.features } }, outcome.metadata);
    return {
      statusCode: 200,
      body: Buffer.from(file.buffer, file.byteOffset, file.byteLength),
      headers: { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment; filename="features.safetensors"', vary: 'Accept' },
    };
  }
  return {
    statusCode: 200,
    body: {
      shape: outcome.shape,
      features: Array.from(outcome.features),
      namespace: namespaceId(outcome.namespace),
      metadata: outcome.metadata,
      timings: timings(started, parsed, outcome.timings),
    },
    headers: { vary: 'Accept' },
  };
}

function wantsSafetensors(event: APIGatewayProxyEvent): boolean {
  return (header(event, 'accept') ?? '').toLowerCase().includes('application/octet-stream');
}

/** decodeMs: reading the body and bucket objects; inferMs: decoding pixels and running the models; totalMs: all of it. */
function timings(started: number, parsed: number, service: { decodeMs: number; inferMs: number }) {
  const round = (ms: number): number => Math.round(ms * 100) / 100;
  return { decodeMs: round(parsed - started + service.decodeMs), inferMs: round(service.inferMs), totalMs: round(performance.now() - started) };
}
