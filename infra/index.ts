// The infra package's public surface: the stack, its knobs, and the constructs it is made of.
export { HeadstartStack, type HeadstartStackProps } from './stack.js';
export {
  configFromContext,
  DEFAULTS,
  EXTRACTION_MODES,
  GPU_INSTANCE_FAMILIES,
  resolveConfig,
  type ExtractionMode,
  type HeadstartConfig,
  type ResolvedConfig,
} from './config.js';
export { DEFAULT_ENTRIES, REPO_ROOT, resolveEntries, type HandlerEntries } from './entries.js';
export { Storage, PREFIX, FINETUNED_PREFIX } from './storage.js';
export { Ingest } from './ingest.js';
export { FINETUNE_COMMAND, GpuBatch, type GpuBatchProps, type GpuJob } from './batch.js';
export { Train, tfjsLayerCode } from './train.js';
export { Classify } from './classify.js';
export { Api, API_ROUTES } from './api.js';
export { Alarms } from './alarms.js';
export { grantPrefixes, type PrefixAccess, type PrefixGrants } from './grants.js';
