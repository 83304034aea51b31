import { InvalidArgumentError } from '../../src/errors.js';
import { createS3Client, S3Store } from '../../src/store/index.js';
import { createTrainFailedHandler } from './handler.js';

/**
 * Built on the first invocation and reused while the Lambda stays warm. Only the bucket, and not through
 * functions/shared/runtime.ts: its zoo import needs the TF.js layer, which this small function does not carry
 * (the artifact harness caught exactly that).
 */
let store: S3Store | undefined;
async function deps(): Promise<{ store: S3Store }> {
  const bucket = process.env.HEADSTART_BUCKET;
  if (!bucket) throw new InvalidArgumentError('HEADSTART_BUCKET is not set: the bucket the job records are in.');
  store ??= new S3Store(createS3Client({ endpoint: process.env.HEADSTART_S3_ENDPOINT || undefined }), bucket);
  return { store };
}

export const handler = createTrainFailedHandler(deps);
