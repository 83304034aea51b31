import { HeadstartError } from '../errors.js';

/** The dataset is larger than a request may compute synchronously. */
export class DatasetTooLargeError extends HeadstartError {
  constructor(dataset: string, images: number, limit: number) {
    super(
      'DatasetTooLarge',
      `Dataset '${dataset}' has ${images} extracted images; issues are computed within a request for up to ${limit}. ` +
        `Compute them offline with 'headstart issues ${dataset}' (same answer, cached for the API).`,
    );
  }
}

/** The image named by `key` has no features yet (pending or failed extraction) and this service cannot extract. */
export class NotExtractedError extends HeadstartError {
  constructor(key: string) {
    super('NotExtracted', `'${key}' has no cached features yet (extraction pending or failed): retry later, or send the image bytes.`);
  }
}
