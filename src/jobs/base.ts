import { namespaceId, type FeatureNamespace } from '../features/namespace.js';
import { BaseModelMismatchError } from './errors.js';
import type { TrainRequest } from './types.js';

/**
 * A head only makes sense on the features of the network that will classify with it: a request that names
 * another base model or namespace than the service's fails here, not with a silent dimension mismatch later.
 */
export function checkBaseModel(request: TrainRequest, ns: FeatureNamespace): void {
  if (request.model !== undefined && request.model !== ns.model) throw new BaseModelMismatchError('model', request.model, ns.model);
  const id = namespaceId(ns);
  if (request.namespace !== undefined && request.namespace !== id) throw new BaseModelMismatchError('namespace', request.namespace, id);
}
