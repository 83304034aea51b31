/**
 * How a model runs, decided in one place (as transformers.js decides runtime, device and session creation in
 * its backends/onnx.js): the engine ('auto' included), ONNX Runtime's threads and execution providers, where
 * an ONNX export is cached, and who disposes the TF.js model once ONNX Runtime holds its own copy. Extraction
 * (FeaturePipeline) and fine-tuned serving both open their extractors here.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, listValues } from '../errors.js';
import { UnsupportedLayerError } from './onnx/errors.js';
import { exportCached } from './onnx/cache.js';
import { EngineUnavailableError } from './onnx/errors.js';
import { exportToOnnx } from './onnx/export.js';
import { createOnnxExtractor, OnnxExtractor, type OnnxExtractorSettings } from './onnx/extractor.js';
import { imageModelIO } from './onnx/io.js';
import type { CalibrationBatch } from './onnx/quantize/index.js';
import { int8Graph } from './onnx/quantize/cache.js';
import { onnxRuntimeAvailable } from './onnx/runtime.js';
import { OnnxModel } from './onnx/session.js';
import { TfjsExtractor } from './tfjs-extractor.js';
import { ENGINE_NAMES, PRECISIONS, type EngineName, type Extractor, type Precision } from './types.js';

export { ENGINE_NAMES, PRECISIONS, type EngineName, type Extractor, type Precision } from './types.js';
export { TfjsExtractor } from './tfjs-extractor.js';

/** How to run a model, as a caller asks for it; what is not given comes from the environment. */
export interface EngineOptions {
  /** @default HEADSTART_ENGINE, else 'auto' */
  engine?: EngineName | 'auto';
  /** ONNX Runtime threads per operator. @default HEADSTART_THREADS, else ORT's choice (the physical cores) */
  threads?: number;
  /**
   * ONNX Runtime sessions of the model running batches side by side, each in its worker thread (OnnxSessionOptions.sessions;
   * their threads default to the cores shared out among them). @default HEADSTART_SESSIONS, else 1
   */
  sessions?: number;
  /** ONNX Runtime execution providers in order, e.g. ['cuda', 'cpu']. @default HEADSTART_EXECUTION_PROVIDERS (comma-separated), else ['cpu'] */
  executionProviders?: readonly string[];
  /** 'int8' runs the graph quantized from the fp32 export (ONNX Runtime only). @default HEADSTART_PRECISION, else 'fp32' */
  precision?: Precision;
}

/** The engine settings every extractor is opened with (`engineSettings` resolves them). */
export interface EngineSettings {
  engine: EngineName | 'auto';
  intraOpThreads?: number;
  sessions?: number;
  executionProviders?: readonly string[];
  precision?: Precision;
}

export interface ExtractorOptions extends Partial<EngineSettings> {
  /** With `cacheKey`: the ONNX export is written once to `<cacheDir>/onnx/<cacheKey>.onnx` and reused. */
  cacheDir?: string;
  cacheKey?: string;
  /**
   * Hands a model over to the extractor: disposed as soon as ONNX Runtime holds its own copy of the weights
   * (an ONNX export), else with the extractor (TF.js runs it), and on failure. Pass the model that `model` was
   * cut from when they share layers. @default nothing: the model stays the caller's
   */
  owns?: { dispose(): void };
  /** Preprocessed calibration images for 'int8', asked for only when no cached int8 graph fits. */
  calibration?: () => Promise<CalibrationBatch[]>;
}

const ENGINE_CHOICES = [...ENGINE_NAMES, 'auto'] as const;
/** A cache folder that cannot take a new export (weights baked into a Lambda image at /opt; ERR_ACCESS_DENIED: Node's permission model, as the artifact harness runs it). */
const READ_ONLY_CODES = new Set(['EROFS', 'EACCES', 'EPERM', 'ERR_ACCESS_DENIED']);

/** Validates an engine name ('' and undefined mean 'auto'). */
export function parseEngine(name: string | undefined): EngineName | 'auto' {
  const engine = name === undefined || name === '' ? 'auto' : name;
  if (!(ENGINE_CHOICES as readonly string[]).includes(engine)) {
    throw new InvalidArgumentError(`Unknown engine '${engine}': expected ${listValues(ENGINE_CHOICES)}.`);
  }
  return engine as EngineName | 'auto';
}

/** Validates a precision ('' and undefined mean 'fp32'). */
export function parsePrecision(name: string | undefined): Precision {
  const precision = name === undefined || name === '' ? 'fp32' : name;
  if (!(PRECISIONS as readonly string[]).includes(precision)) {
    throw new InvalidArgumentError(`Unknown precision '${precision}': expected ${listValues(PRECISIONS)}.`);
  }
  return precision as Precision;
}

function parseCount(name: 'HEADSTART_THREADS' | 'HEADSTART_SESSIONS', value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got '${value}'.`);
  return count;
}

function parseProviders(value: string | undefined): string[] | undefined {
  const providers = (value ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  return providers.length > 0 ? providers : undefined;
}

/**
 * The settings to open extractors with: the caller's options first, then HEADSTART_ENGINE, HEADSTART_THREADS,
 * HEADSTART_SESSIONS, HEADSTART_EXECUTION_PROVIDERS and HEADSTART_PRECISION. Validates the engine, the thread and
 * session counts and the precision.
 */
export function engineSettings(options: EngineOptions = {}, env: NodeJS.ProcessEnv = process.env): EngineSettings {
  const engine = parseEngine(options.engine ?? env.HEADSTART_ENGINE);
  const intraOpThreads = options.threads ?? parseCount('HEADSTART_THREADS', env.HEADSTART_THREADS);
  const sessions = options.sessions ?? parseCount('HEADSTART_SESSIONS', env.HEADSTART_SESSIONS);
  const executionProviders = options.executionProviders ?? parseProviders(env.HEADSTART_EXECUTION_PROVIDERS);
  const precision = parsePrecision(options.precision ?? env.HEADSTART_PRECISION);
  if (precision === 'int8' && engine === 'tfjs') {
    throw new InvalidArgumentError("precision 'int8' runs on ONNX Runtime: use engine 'onnx' or 'auto', or precision 'fp32' with 'tfjs'.");
  }
  return {
    engine,
    ...(intraOpThreads !== undefined ? { intraOpThreads } : {}),
    ...(sessions !== undefined ? { sessions } : {}),
    ...(executionProviders ? { executionProviders } : {}),
    ...(precision === 'int8' ? { precision } : {}),
  };
}

/** Whether these settings run a ready ONNX graph in ONNX Runtime: 'onnx', or 'auto' where onnxruntime-node loads. */
export async function runsOnnx(settings: EngineSettings): Promise<boolean> {
  if (settings.engine === 'tfjs') return false;
  return settings.engine === 'onnx' || (await onnxRuntimeAvailable());
}

/**
 * An extractor over a ready ONNX graph (a published fine-tuned `model.onnx`), opened in ONNX Runtime with the
 * settings' threads and execution providers. It owns the session.
 */
export async function openOnnxExtractor(
  model: Uint8Array | string,
  io: OnnxExtractorSettings,
  settings: Partial<EngineSettings> = {},
): Promise<Extractor> {
  const { intraOpThreads, sessions, executionProviders } = settings;
  return new OnnxExtractor(await OnnxModel.create(model, { intraOpThreads, sessions, executionProviders }), io);
}

/**
 * An extractor for a single-input image model ([null, H, W, 3], fixed size).
 * 'onnx' exports the model to ONNX (cached when cacheDir and cacheKey are given; a read-only cacheDir gives way
 * to `<tmpdir>/headstart`) and runs it in ONNX Runtime; 'tfjs' runs the model as is; 'auto' prefers ONNX Runtime
 * when onnxruntime-node loads and falls back to TF.js when it does not or when the model holds layers the
 * exporter cannot translate. The engine comes from the options, else HEADSTART_ENGINE; threads and execution
 * providers only from the options (`engineSettings` reads the environment). The model stays the caller's
 * unless handed over with `owns`.
 * @throws InvalidArgumentError for an unknown engine or a model that is not a fixed-size image model;
 *   with 'onnx', UnsupportedLayerError and EngineUnavailableError.
 */
export async function createExtractor(model: tf.LayersModel, options: ExtractorOptions = {}): Promise<Extractor> {
  const { owns, ...rest } = options;
  try {
    const extractor = await chooseExtractor(model, rest);
    // ONNX Runtime holds its own copy of the weights now; TF.js runs the model itself, so it keeps it.
    if (extractor.engine === 'onnx') owns?.dispose();
    return extractor.engine === 'tfjs' && owns ? new TfjsExtractor(model, owns) : extractor;
  } catch (error) {
    owns?.dispose();
    throw error;
  }
}

async function chooseExtractor(model: tf.LayersModel, options: Omit<ExtractorOptions, 'owns'>): Promise<Extractor> {
  const engine = parseEngine(options.engine ?? process.env.HEADSTART_ENGINE);
  if (options.precision === 'int8') {
    // int8 features are a namespace of their own: never silently fp32 instead.
    if (engine === 'tfjs') throw new InvalidArgumentError("precision 'int8' runs on ONNX Runtime: use engine 'onnx' or 'auto'.");
    if (engine === 'auto' && !(await onnxRuntimeAvailable())) throw new EngineUnavailableError("precision 'int8' needs onnxruntime-node, which could not be loaded.");
    return exportAndOpen(model, options);
  }
  if (engine === 'tfjs') return new TfjsExtractor(model);
  if (engine === 'onnx') return exportAndOpen(model, options);
  imageModelIO(model); // a bad model is the caller's error whatever the engine
  if (!(await onnxRuntimeAvailable())) return new TfjsExtractor(model);
  try {
    return await exportAndOpen(model, options);
  } catch (error) {
    if (error instanceof UnsupportedLayerError) return new TfjsExtractor(model);
    throw error;
  }
}

async function exportAndOpen(model: tf.LayersModel, options: Omit<ExtractorOptions, 'owns'>): Promise<Extractor> {
  const open = options.precision === 'int8' ? openInt8 : openFp32;
  try {
    return await open(model, options);
  } catch (error) {
    if (options.cacheDir === undefined || !READ_ONLY_CODES.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    return await open(model, { ...options, cacheDir: join(tmpdir(), 'headstart') });
  }
}

function openFp32(model: tf.LayersModel, options: Omit<ExtractorOptions, 'owns'>): Promise<Extractor> {
  const { cacheDir, cacheKey, intraOpThreads, sessions, executionProviders } = options;
  return createOnnxExtractor(model, { cacheDir, cacheKey, intraOpThreads, sessions, executionProviders });
}

/** The fp32 export (cached), quantized to int8 once (cached beside it, behind the fidelity gate), in ONNX Runtime. */
async function openInt8(model: tf.LayersModel, options: Omit<ExtractorOptions, 'owns'>): Promise<Extractor> {
  const io = imageModelIO(model);
  const { cacheDir, cacheKey } = options;
  if ((cacheDir === undefined) !== (cacheKey === undefined)) {
    throw new InvalidArgumentError('cacheDir and cacheKey go together: give both to cache the ONNX export, or neither.');
  }
  const fp32 = cacheDir !== undefined && cacheKey !== undefined ? (await exportCached(model, { cacheDir, key: cacheKey })).path : exportToOnnx(model);
  const int8 = await int8Graph(fp32, { cacheDir, key: cacheKey, calibration: options.calibration });
  return openOnnxExtractor(int8.model, { ...io, precision: 'int8' }, options);
}
