export { startLocalS3, type LocalS3, type LocalS3Events, type LocalS3Options } from './server.js';
export { startLocalS3Process } from './process.js';
export { LocalEventQueue, type QueueStats, type QueueBatchTiming, type EventBatchHandler, type EventFilter, type LocalEventQueueOptions } from './queue.js';
export { encodeS3EventKey, decodeS3EventKey, objectCreatedRecord } from './event-record.js';
export { DEAD_LETTER_PREFIX, type DeadLetter } from './dead-letter.js';
