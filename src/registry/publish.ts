import type { tf } from '../engine/backend.js';
import { serializeHead } from '../heads/serialize.js';
import type { ObjectStore } from '../store/index.js';
import { HEADS } from './kinds.js';
import { validateHeadId } from './keys.js';
import { jsonBody as json, publishModel, type PublishedFile } from './published.js';
import type { HeadInfo, HeadMetricsFile, HeadSummary } from './types.js';

export interface HeadDraft {
  /** The trained head; publishing reads its weights and leaves it to the caller. */
  model: tf.LayersModel;
  info: Omit<HeadInfo, 'format' | 'formatVersion' | 'files'>;
  metrics: HeadMetricsFile;
}

/**
 * A TF.js model's files as the registry keeps them: model.json whose manifest points at weights.bin (so
 * `tf.loadLayersModel` on the folder finds it), and weights.bin. Heads and fine-tuned models alike.
 */
export async function layersModelFiles(model: tf.LayersModel, names: { model: string; weights: string }): Promise<PublishedFile[]> {
  const { modelJson, weightsBin } = await serializeHead(model);
  const manifest = modelJson.weightsManifest.map((group) => ({ ...group, paths: [names.weights] }));
  return [
    [names.model, json({ ...modelJson, weightsManifest: manifest }), 'application/json'],
    [names.weights, Buffer.from(weightsBin.buffer, weightsBin.byteOffset, weightsBin.byteLength), 'application/octet-stream'],
  ];
}

/**
 * Publishes a head under `models/heads/<headId>/`: model.json, weights.bin, head.json and metrics.json
 * first, `_published.json` last (the registry's protocol, published.ts).
 */
export async function publishHead(store: ObjectStore, draft: HeadDraft): Promise<HeadSummary> {
  const headId = validateHeadId(draft.info.headId);
  const info: HeadInfo = { format: 'headstart-head', formatVersion: 1, ...draft.info, files: HEADS.files };
  const files: PublishedFile[] = [
    ...(await layersModelFiles(draft.model, HEADS.files)),
    [HEADS.files.info, json(info), 'application/json'],
    [HEADS.files.metrics, json(draft.metrics), 'application/json'],
  ];
  const summary = summarize(info, draft.metrics);
  await publishModel(store, HEADS, headId, files, summary);
  return summary;
}

function summarize(info: HeadInfo, metrics: HeadMetricsFile): HeadSummary {
  return {
    headId: info.headId,
    dataset: info.dataset,
    labels: info.labels,
    model: info.base.model,
    namespace: info.base.namespace,
    accuracy: metrics.accuracy,
    createdAt: info.createdAt,
    jobId: info.jobId,
  };
}
