export type { ListOptions, ListResult, ObjectBody, ObjectInfo, ObjectStore, PutOptions } from './types.js';
export { ObjectNotFoundError, StorageFullError, StoreError, StoreUnavailableError, type StoreErrorContext } from './errors.js';
export { isTransientError } from './transient.js';
export { MemoryStore } from './memory.js';
export { S3Store, MULTIPART_THRESHOLD_BYTES, type S3StoreOptions } from './s3.js';
export { createS3Client, isLocalEndpoint, type S3ClientOptions } from './client.js';
export { credentialsEnv, localCredentials, LocalCredentialsMissingError, type LocalS3Credentials } from './local-credentials.js';
export { MAX_KEY_BYTES, MAX_LIST_KEYS } from './keys.js';
