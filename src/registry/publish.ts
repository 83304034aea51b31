import type { tf } from '../engine/backend.js';
import { serializeHead } from '../heads/serialize.js';
import type { ObjectStore } from '../store/index.js';
import { jsonBody as json, publishWithPointer, type PublishedFile } from './atomic-publish.js';
import { HEAD_FILES, headFileKey, pointerKey, validateHeadId } from './keys.js';
import type { HeadInfo, HeadMetricsFile, HeadSummary, PublishedPointer } from './types.js';

export interface HeadDraft {
  /** The trained head; publishing reads its weights and leaves it to the caller. */
  model: tf.LayersModel;
  info: Omit<HeadInfo, 'format' | 'formatVersion' | 'files'>;
  metrics: HeadMetricsFile;
}

/** The TF.js model.json, its manifest pointing at our weights file name so `tf.loadLayersModel(url)` finds it. */
function modelJsonFor(modelJson: tf.io.ModelJSON): tf.io.ModelJSON {
  return { ...modelJson, weightsManifest: modelJson.weightsManifest.map((group) => ({ ...group, paths: [HEAD_FILES.weights] })) };
}

/**
 * Publishes a head under `models/heads/<headId>/`: model.json, weights.bin, head.json and metrics.json
 * first, `_published.json` last. Readers only see heads whose pointer exists, so a process killed between
 * two writes leaves files nobody lists rather than half a model. On an error the written files are
 * removed (best effort; a killed process cannot, and its leftovers stay invisible).
 */
export async function publishHead(store: ObjectStore, draft: HeadDraft): Promise<HeadSummary> {
  const headId = validateHeadId(draft.info.headId);
  const { modelJson, weightsBin } = await serializeHead(draft.model);
  const info: HeadInfo = { format: 'headstart-head', formatVersion: 1, ...draft.info, files: HEAD_FILES };
  const bodies: PublishedFile[] = [
    [HEAD_FILES.model, json(modelJsonFor(modelJson)), 'application/json'],
    [HEAD_FILES.weights, Buffer.from(weightsBin.buffer, weightsBin.byteOffset, weightsBin.byteLength), 'application/octet-stream'],
    [HEAD_FILES.info, json(info), 'application/json'],
    [HEAD_FILES.metrics, json(draft.metrics), 'application/json'],
  ];
  const summary = summarize(info, draft.metrics);
  await publishWithPointer(store, bodies, (name) => headFileKey(headId, name), pointerKey(headId), (files): PublishedPointer => ({
    headId,
    publishedAt: new Date().toISOString(),
    summary,
    files,
  }));
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
