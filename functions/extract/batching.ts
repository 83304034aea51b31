/**
 * Most records per extract invocation: the SQS event source's batch size (infra/ingest.ts) and the local
 * queue's (local/dev.ts). A deep queue fills it at once; a shallow one waits at most the batching window.
 * The Ingestor runs the model on batches of 8 within it, reading the next images and writing the last ones
 * meanwhile, so a larger delivery adds no latency per image and spreads an invocation's fixed costs (its
 * first reads, its last writes, the handler around them) over more images. 32 VGG19 images take seconds
 * on a Lambda CPU, well inside the function's timeout.
 */
export const EXTRACT_BATCH_SIZE = 32;
