import { createHash } from 'node:crypto';
import type { tf } from '../engine/backend.js';
import { serializeHead } from '../heads/serialize.js';
import type { ObjectStore } from '../store/index.js';
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

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, null, 2));
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
  const bodies: Array<[string, Buffer, string]> = [
    [HEAD_FILES.model, json(modelJsonFor(modelJson)), 'application/json'],
    [HEAD_FILES.weights, Buffer.from(weightsBin.buffer, weightsBin.byteOffset, weightsBin.byteLength), 'application/octet-stream'],
    [HEAD_FILES.info, json(info), 'application/json'],
    [HEAD_FILES.metrics, json(draft.metrics), 'application/json'],
  ];
  const written: string[] = [];
  try {
    for (const [name, body, contentType] of bodies) {
      await store.put(headFileKey(headId, name), body, { contentType });
      written.push(headFileKey(headId, name));
    }
    const summary = summarize(info, draft.metrics);
    const pointer: PublishedPointer = {
      headId,
      publishedAt: new Date().toISOString(),
      summary,
      files: Object.fromEntries(bodies.map(([name, body]) => [name, { bytes: body.length, sha256: sha256(body) }])),
    };
    await store.put(pointerKey(headId), json(pointer), { contentType: 'application/json' });
    return summary;
  } catch (error) {
    await Promise.allSettled(written.map((key) => store.delete(key)));
    throw error;
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
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
