import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { initBackend } from '../../src/engine/backend.js';
import { queuedExtraction } from '../../src/predict/extract.js';
import { configFromEnv, namespaceFor, once, storeFromConfig } from '../shared/runtime.js';
import { createTrainHandler, type TrainDeps } from './handler.js';
import { completionEventsFromEnv, sqsEnqueue } from './predict.js';

/** Built on the first invocation and reused while the Lambda stays warm. */
const deps = once(async (): Promise<TrainDeps> => {
  const config = configFromEnv();
  const store = storeFromConfig(config);
  await initBackend();
  // Batch prediction: uncached images go to the extract queue (EXTRACT_QUEUE_URL); completion to EventBridge.
  const queueUrl = process.env.EXTRACT_QUEUE_URL;
  const enqueue = queueUrl ? sqsEnqueue(new SQSClient({}), (input) => new SendMessageBatchCommand(input), queueUrl, config.bucket) : undefined;
  const events = completionEventsFromEnv();
  return {
    store,
    namespace: once(() => namespaceFor(config, { store })),
    predict: ({ namespace, remainingMs }) => ({
      extraction: enqueue && queuedExtraction({ store, namespace, enqueue, maxWaitMs: remainingMs }),
      events,
    }),
  };
});

export const handler = createTrainHandler(deps);
