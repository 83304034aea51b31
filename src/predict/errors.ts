import { HeadstartError } from '../errors.js';
import { namespaceId, type FeatureNamespace } from '../features/namespace.js';

/** The head was trained on other features than the service extracts: its cache and its base are not this head's. */
export class PredictHeadBaseError extends HeadstartError {
  constructor(headId: string, base: FeatureNamespace, service: FeatureNamespace) {
    super(
      'HeadBaseMismatch',
      `Head '${headId}' classifies ${namespaceId(base)} features, but this service extracts ${namespaceId(service)}: ` +
        'batch prediction reads and fills the service\'s feature cache, so it takes heads trained here (POST /train) only.',
    );
  }
}

/** A `model` request (the whole network per image) where no classifier is wired in. */
export class ModelPredictUnavailableError extends HeadstartError {
  constructor(model: string) {
    super(
      'PredictUnavailable',
      `Batch prediction with model '${model}' runs the whole network on every image, and this deployment has no runner for that ` +
        "(the predict function in the cloud, the classify service on the local stack): train a head on the images' cached features and predict with it ('head').",
    );
  }
}
