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
      `Batch prediction with model '${model}' runs the whole network on every image, which this deployment's prediction runner (the train function) cannot: ` +
        "train a head on the images' cached features and predict with it ('head'), or run it on the local stack (npm start).",
    );
  }
}
