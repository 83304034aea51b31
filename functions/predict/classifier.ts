import type { ClassifyService } from '../classify/service.js';
import type { ImageClassifier } from '../../src/predict/index.js';
import { MODEL_IDS } from '../../src/zoo/types.js';

/**
 * The classify service as a batch prediction job's classifier (`model` jobs): the same warm pipelines and the
 * same answers as POST /classify with `{ key }`s: the predict function's in the cloud, the server's on the local
 * stack. A zoo id is its ImageNet classifier; any other id a fine-tuned model.
 */
export function serviceClassifier(service: Pick<ClassifyService, 'classify'>): ImageClassifier {
  return {
    async classify(keys, model, top) {
      const query = (MODEL_IDS as readonly string[]).includes(model) ? { model, top } : { finetuned: model, top };
      const outcome = await service.classify(
        keys.map((key) => ({ name: key, key })),
        query,
      );
      return outcome.results.map((result) => ('error' in result ? result.error : result.predictions));
    },
  };
}
