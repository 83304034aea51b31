import type { APIGatewayProxyEvent } from 'aws-lambda';
import { InvalidArgumentError, listValues } from '../../src/errors.js';
import { openClassifierExplainer, openHeadExplainer, overlayPng, type ExplainNetwork } from '../../src/explain/index.js';
import type { FeatureCut } from '../../src/features/pipeline.js';
import { header, type ApiResponse } from '../api/http.js';
import { readRequestImages, type ImageSource } from './body.js';
import { PipelineCache } from './pipelines.js';
import { headTop, type LabelScore } from './predictions.js';
import { parseExplainQuery, type ExplainQuery } from './query.js';
import type { ClassifyDeps, ClassifyService } from './service.js';
import { loadSources } from './sources.js';

/** Grad-CAM networks are whole classifiers (VGG16 is 528 MB): a process keeps two. */
const MAX_NETWORKS = 2;
const HEAD_KEY = 'head:';

export interface ExplainOutcome {
  model: string;
  head?: string;
  /** The explained feature map's layer. */
  layer: string;
  classIndex: number;
  label: string;
  /** The class's probability. */
  score: number;
  predictions: LabelScore[];
  map: { width: number; height: number; values: number[] };
  /** The photo with the map over it. */
  overlay: Buffer;
  timings: { decodeMs: number; explainMs: number; overlayMs: number };
}

/**
 * POST /explain without HTTP: Grad-CAM of one image on a zoo model's ImageNet classifier or on a head and its
 * base (src/explain), the networks kept warm per (model or head, layer) like the classify pipelines.
 */
export class ExplainService {
  private readonly networks: PipelineCache<ExplainNetwork>;

  constructor(private readonly deps: Pick<ClassifyDeps, 'store' | 'defaultModel' | 'heads' | 'home'> & { maxObjectBytes: number }) {
    this.networks = new PipelineCache<ExplainNetwork>((key, cut) => this.open(key, cut), MAX_NETWORKS);
  }

  async explain(source: ImageSource, query: ExplainQuery): Promise<ExplainOutcome> {
    const key = query.head === undefined ? (query.model ?? this.deps.defaultModel) : `${HEAD_KEY}${query.head}`;
    // The head must still be published (the cache checks its pointer) before its network is lent.
    if (query.head !== undefined) await this.deps.heads.get(query.head);
    const started = performance.now();
    const [loaded] = await loadSources(this.deps.store, [source], this.deps.maxObjectBytes);
    if ('error' in loaded!) throw loaded.error;
    const decoded = performance.now();
    const cut: FeatureCut = query.layer === undefined ? 'classifier' : { layer: query.layer };
    const { network, result } = await this.networks.use(key, cut, async (network) => ({
      network: { model: network.model, layer: network.layer, labels: network.labels },
      result: await network.explain(loaded.bytes, classIndexOf(network.labels, query.className)),
    }));
    const explained = performance.now();
    const overlay = await overlayPng(loaded.bytes, { values: result.map, width: result.width, height: result.height });
    return {
      model: network.model,
      ...(query.head === undefined ? {} : { head: query.head }),
      layer: network.layer,
      classIndex: result.classIndex,
      label: network.labels[result.classIndex]!,
      score: result.probabilities[result.classIndex]!,
      predictions: headTop(result.probabilities, network.labels, query.top)[0]!,
      map: { width: result.width, height: result.height, values: Array.from(result.map, (v) => Math.round(v * 1e4) / 1e4) },
      overlay,
      timings: { decodeMs: round(decoded - started), explainMs: round(explained - decoded), overlayMs: round(performance.now() - explained) },
    };
  }

  dispose(): void {
    this.networks.dispose();
  }

  private async open(key: string, cut: FeatureCut): Promise<ExplainNetwork> {
    const layer = typeof cut === 'object' && 'layer' in cut ? cut.layer : undefined;
    const options = { layer, home: this.deps.home, store: this.deps.store };
    if (!key.startsWith(HEAD_KEY)) return openClassifierExplainer(key, options);
    const headId = key.slice(HEAD_KEY.length);
    const { head } = await this.deps.heads.get(headId);
    return openHeadExplainer(this.deps.store, headId, head, options);
  }
}

/** `class=`: an output index, or a label (exactly one of the network's). Absent: undefined (the top class). */
function classIndexOf(labels: readonly string[], value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const matches = labels.flatMap((label, i) => (label === value ? [i] : []));
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw new InvalidArgumentError(`Class '${value}' names outputs ${matches.join(' and ')}: give 'class' as one of those indices.`);
  const examples = labels.length <= 20 ? labels : [...labels.slice(0, 5), '…'];
  throw new InvalidArgumentError(`Unknown class '${value}': expected one of ${listValues(examples)} (${labels.length} labels), or an index from 0 to ${labels.length - 1}.`);
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/**
 * POST /explain: JSON `{ model, head?, layer, class, label, score, predictions, map: { width, height, values },
 * overlay, timings }` (`overlay`: the PNG, base64), or the PNG itself for `Accept: image/png`. One image, in
 * the body forms of POST /classify.
 */
export async function explainRequest(explainer: ExplainService, service: ClassifyService, event: APIGatewayProxyEvent): Promise<ApiResponse> {
  const query = parseExplainQuery(event);
  const images = await readRequestImages(event, service.limits);
  if (images.sources.length !== 1) throw new InvalidArgumentError(`POST /explain takes one image, got ${images.sources.length}: send them one per request.`);
  const outcome = await explainer.explain(images.sources[0]!, query);
  if ((header(event, 'accept') ?? '').toLowerCase().includes('image/png')) {
    return { statusCode: 200, body: outcome.overlay, headers: { 'content-type': 'image/png', vary: 'Accept' } };
  }
  const { overlay, classIndex, ...rest } = outcome;
  return { statusCode: 200, body: { class: classIndex, ...rest, overlay: overlay.toString('base64') }, headers: { vary: 'Accept' } };
}
