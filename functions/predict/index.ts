/**
 * The predict Lambda's entry (infra/entries.ts, CMD predict.handler on the classify function's image): batch
 * prediction jobs with a `model`, started by POST /predict's asynchronous invoke (infra/predict.ts).
 */
import { classifyRoutesFromEnv } from '../classify/env.js';
import { configFromEnv, namespaceFor, once, storeFromConfig } from '../shared/runtime.js';
import { completionEventsFromEnv } from '../train/predict.js';
import { serviceClassifier } from './classifier.js';
import { createPredictHandler, type PredictDeps } from './handler.js';

/** Built on the first invocation and reused while the Lambda stays warm (its pipelines too). */
const deps = once(async (): Promise<PredictDeps> => {
  const config = configFromEnv();
  const store = storeFromConfig(config);
  // The classify function's own service, from the same environment: the same pipelines, fine-tuned models and answers.
  const { service } = await classifyRoutesFromEnv();
  const events = completionEventsFromEnv();
  return { store, namespace: once(() => namespaceFor(config, { store })), classifier: serviceClassifier(service), events };
});

export const handler = createPredictHandler(deps);
