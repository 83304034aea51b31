import { InvalidArgumentError, listValues } from '../src/errors.js';
import { MODEL_IDS, type ModelId } from '../src/zoo/types.js';

/**
 * Where uploads are turned into features. 'lambda': each upload, as it arrives, on the CPU Lambda. 'batch': on
 * GPUs only, when a backfill runs (uploads wait). 'both': the Lambda for steady uploads, GPUs for bulk backfills.
 */
export const EXTRACTION_MODES = ['lambda', 'batch', 'both'] as const;
export type ExtractionMode = (typeof EXTRACTION_MODES)[number];

/**
 * x86 NVIDIA families the ECS AL2023 GPU AMI supports and our CUDA images (12 for extraction, 11.8 for
 * fine-tuning) run on. Not p3/g3 (the AL2023 NVIDIA AMI drops them), not g5g (Graviton: the images are x86-64).
 */
/**
 * How callers authenticate. 'iam': SigV4-signed requests (AWS_IAM on every method; callers need
 * execute-api:Invoke), the default. 'apiKey': an API key alone, for quick trials; AWS documents API keys as
 * usage-plan identifiers, not authorization, so a leaked key is full access.
 */
export const API_AUTH_MODES = ['iam', 'apiKey'] as const;
export type ApiAuth = (typeof API_AUTH_MODES)[number];

export const GPU_INSTANCE_FAMILIES = ['g4dn', 'g5', 'g6', 'g6e', 'p4d', 'p5'] as const;

/** The knobs of the stack. Every field can also come from CDK context (`cdk deploy -c extractionMode=both`). */
export interface HeadstartConfig {
  /** @default 'lambda' */
  readonly extractionMode?: ExtractionMode;
  /** Base network whose features are cached and baked into the images. @default 'mobilenet_v2' */
  readonly baseModel?: ModelId;
  /** Extract function memory; CPU share grows with it (1,769 MB = one vCPU). @default 3008 */
  readonly extractMemoryMb?: number;
  /** Classify function memory. @default 3008 */
  readonly classifyMemoryMb?: number;
  /** Train function memory (heads on cached features are small; the wasm backend is single-threaded). @default 2048 */
  readonly trainMemoryMb?: number;
  /** API function memory (routing, presigning, reading small JSON). @default 512 */
  readonly apiMemoryMb?: number;
  /** GPU instance types for the Batch compute environment. @default ['g5.xlarge', 'g4dn.xlarge'] */
  readonly gpuInstanceTypes?: readonly string[];
  /** Run Batch on Spot capacity (jobs retry when an instance is reclaimed). @default false */
  readonly spot?: boolean;
  /** Upper bound of the Batch compute environment; 4 vCPUs per xlarge instance. @default 16 */
  readonly maxGpuVcpus?: number;
  /** Provisioned concurrency for the classify function; 0 turns it off. @default 0 */
  readonly provisionedConcurrency?: number;
  /** Origins allowed to call the API and PUT presigned uploads from a browser. @default ['*'] */
  readonly corsOrigins?: readonly string[];
  /** Subscribe this address to the alarm topic. @default - no subscription */
  readonly alarmEmail?: string;
  /** Keep the bucket (and its data) when the stack is deleted. @default true */
  readonly retainData?: boolean;
  /**
   * Fine-tuning as a GPU Batch job (POST /train with mode 'finetune'). Adds the GPU Batch path (VPC without NAT,
   * compute environment at 0 vCPUs, job queue: idle, only its image's ECR storage is billed) even in 'lambda'
   * mode. Off by default: its CUDA image (several GB) is built on every `cdk deploy`, and a user who wants Lambda
   * extraction and heads should not need it. @default false
   */
  readonly finetune?: boolean;
  /** Attempt timeout of a fine-tuning job; a timed-out attempt fails and is not retried. @default 24 */
  readonly finetuneTimeoutHours?: number;
  /** How API callers authenticate (API_AUTH_MODES). @default 'iam' */
  readonly apiAuth?: ApiAuth;
  /**
   * Each API key's metered calls per day (the usage plan's quota). With apiAuth 'iam' only the job-starting
   * routes take a key (POST /train, /backfill, /jobs/{id}/resume), so only they count; with 'apiKey' every call
   * does. @default 500
   */
  readonly apiQuotaPerDay?: number;
  /** S3 server access logs of the data bucket, into a log bucket of their own. @default true */
  readonly bucketAccessLogs?: boolean;
  /**
   * A Batch job RUNNABLE longer than this is cancelled, its reason recorded (no GPU capacity: quota, region, type).
   * @default 6
   */
  readonly gpuWaitHours?: number;
}

export type ResolvedConfig = Required<Omit<HeadstartConfig, 'alarmEmail'>> & { readonly alarmEmail?: string };

export const DEFAULTS: ResolvedConfig = {
  extractionMode: 'lambda',
  baseModel: 'mobilenet_v2',
  extractMemoryMb: 3008,
  classifyMemoryMb: 3008,
  trainMemoryMb: 2048,
  apiMemoryMb: 512,
  gpuInstanceTypes: ['g5.xlarge', 'g4dn.xlarge'],
  spot: false,
  maxGpuVcpus: 16,
  provisionedConcurrency: 0,
  corsOrigins: ['*'],
  retainData: true,
  finetune: false,
  finetuneTimeoutHours: 24,
  apiAuth: 'iam',
  apiQuotaPerDay: 500,
  bucketAccessLogs: true,
  gpuWaitHours: 6,
};

const CONFIG_KEYS = Object.keys(DEFAULTS).concat('alarmEmail') as (keyof HeadstartConfig)[];
const MEMORY_KEYS = ['extractMemoryMb', 'classifyMemoryMb', 'trainMemoryMb', 'apiMemoryMb'] as const;
const INSTANCE_TYPE = /^([a-z][a-z0-9-]*)\.([a-z0-9]+)$/;
const ORIGIN = /^https?:\/\/[^\s/?#]+$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Fills defaults and validates at synth time; messages name the field and list the valid values. */
export function resolveConfig(input: HeadstartConfig = {}): ResolvedConfig {
  const merged = { ...DEFAULTS, ...configFields(input) } as ResolvedConfig;
  oneOf('extractionMode', merged.extractionMode, EXTRACTION_MODES);
  oneOf('apiAuth', merged.apiAuth, API_AUTH_MODES);
  oneOf('baseModel', merged.baseModel, MODEL_IDS);
  for (const key of MEMORY_KEYS) integerIn(key, merged[key], 128, 10_240, ' (MB)');
  integerIn('provisionedConcurrency', merged.provisionedConcurrency, 0, 1_000);
  integerIn('maxGpuVcpus', merged.maxGpuVcpus, 4, 4_096);
  integerIn('finetuneTimeoutHours', merged.finetuneTimeoutHours, 1, 168, ' (hours)');
  integerIn('apiQuotaPerDay', merged.apiQuotaPerDay, 1, 10_000_000);
  // Batch accepts 600 s to 86,400 s for a RUNNABLE time limit.
  integerIn('gpuWaitHours', merged.gpuWaitHours, 1, 24, ' (hours)');
  boolean('spot', merged.spot);
  boolean('retainData', merged.retainData);
  boolean('finetune', merged.finetune);
  boolean('bucketAccessLogs', merged.bucketAccessLogs);
  gpuInstanceTypes(merged.gpuInstanceTypes);
  corsOrigins(merged.corsOrigins);
  if (merged.alarmEmail !== undefined && (typeof merged.alarmEmail !== 'string' || !EMAIL.test(merged.alarmEmail))) {
    throw new InvalidArgumentError(`alarmEmail must be an email address, got ${show(merged.alarmEmail)}`);
  }
  return merged;
}

/**
 * Reads the same knobs from CDK context, where every value is a string on the command line
 * (`-c spot=true -c gpuInstanceTypes=g5.xlarge,g5.2xlarge`) or JSON in cdk.json. Only parses;
 * `resolveConfig` validates.
 */
export function configFromContext(tryGetContext: (key: string) => unknown): HeadstartConfig {
  const config: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const raw = tryGetContext(key);
    if (raw === undefined) continue;
    config[key] = parseContextValue(key, raw);
  }
  return config as HeadstartConfig;
}

function parseContextValue(key: keyof HeadstartConfig, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const expected = typeof DEFAULTS[key as keyof ResolvedConfig];
  if (key === 'gpuInstanceTypes' || key === 'corsOrigins') {
    return raw.trim().startsWith('[') ? parseJson(key, raw) : raw.split(',').map((s) => s.trim()).filter(Boolean);
  }
  if (expected === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  if (expected === 'number') return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  return raw;
}

function parseJson(key: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (cause) {
    throw new InvalidArgumentError(`${key} must be a comma-separated list or a JSON array, got ${show(raw)}`, { cause });
  }
}

function oneOf(key: string, value: unknown, valid: readonly string[]): void {
  if (typeof value !== 'string' || !valid.includes(value)) {
    throw new InvalidArgumentError(`${key} must be ${listValues(valid)}, got ${show(value)}`);
  }
}

function integerIn(key: string, value: unknown, min: number, max: number, unit = ''): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${key} must be an integer from ${min} to ${max}${unit}, got ${show(value)}`);
  }
}

function boolean(key: string, value: unknown): void {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`${key} must be true or false, got ${show(value)}`);
}

function gpuInstanceTypes(value: unknown): void {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidArgumentError(`gpuInstanceTypes must list at least one instance type, e.g. ${listValues(DEFAULTS.gpuInstanceTypes)}`);
  }
  for (const type of value) {
    const family = typeof type === 'string' ? INSTANCE_TYPE.exec(type)?.[1] : undefined;
    if (!family || !(GPU_INSTANCE_FAMILIES as readonly string[]).includes(family)) {
      throw new InvalidArgumentError(
        `gpuInstanceTypes: ${show(type)} is not a supported GPU instance type; valid families are ${listValues(GPU_INSTANCE_FAMILIES)} (e.g. 'g5.xlarge')`,
      );
    }
  }
  if (new Set(value).size !== value.length) throw new InvalidArgumentError(`gpuInstanceTypes lists a type twice: ${show(value)}`);
}

function corsOrigins(value: unknown): void {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidArgumentError(`corsOrigins must list at least one origin, or '*'`);
  }
  for (const origin of value) {
    if (origin !== '*' && (typeof origin !== 'string' || !ORIGIN.test(origin))) {
      throw new InvalidArgumentError(`corsOrigins: ${show(origin)} must be '*' or an origin like 'https://example.com' (no path)`);
    }
  }
  if (value.length > 1 && value.includes('*')) throw new InvalidArgumentError(`corsOrigins: '*' cannot be combined with other origins`);
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
}

/** Only the config fields (stack props carry others, e.g. `env`), and only those set. */
function configFields(input: HeadstartConfig): Partial<HeadstartConfig> {
  const entries = Object.entries(input).filter(([k, v]) => v !== undefined && (CONFIG_KEYS as string[]).includes(k));
  return Object.fromEntries(entries) as Partial<HeadstartConfig>;
}
