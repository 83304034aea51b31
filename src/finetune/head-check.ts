import type { HeadInfo } from '../registry/types.js';
import { poolingLayerName, type ModelSpec } from '../zoo/index.js';
import { HeadMismatchError } from './errors.js';

/**
 * A head can start fine-tuning only when it was trained on this base's global average pooling (the
 * fine-tuned network's head input). Cheap: the API checks it before starting a job.
 */
export function checkHeadFitsBase(headId: string, info: Pick<HeadInfo, 'base'>, spec: ModelSpec): void {
  const avg = poolingLayerName(spec, 'avg');
  if (info.base.model !== spec.id) {
    throw new HeadMismatchError(`Head '${headId}' was trained on ${info.base.model} features; this fine-tuning job's base is ${spec.id}.`);
  }
  if (info.base.pooling !== 'avg' && info.base.layer !== avg) {
    throw new HeadMismatchError(
      `Head '${headId}' was trained on ${info.base.namespace} features; fine-tuning needs a head trained on the global average ` +
        `pooling of ${spec.id} (layer '${avg}' or pooling 'avg').`,
    );
  }
}
