/** The head model registry: `models/heads/<headId>/`, published atomically behind a pointer written last. */
export { publishHead, type HeadDraft } from './publish.js';
export { listHeads, getHead, deleteHead, readPointer } from './read.js';
export { loadHead } from './load.js';
export { HeadCache, type HeadCacheOptions } from './cache.js';
export { HEAD_FILES, HEADS_PREFIX, POINTER_FILE, headPrefix, newHeadId, pointerKey, validateHeadId } from './keys.js';
export { CorruptHeadError, HeadNotFoundError } from './errors.js';
export type { EvaluatedOn, HeadBase, HeadDetails, HeadInfo, HeadMetricsFile, HeadSummary, LoadedHead, PublishedPointer } from './types.js';
