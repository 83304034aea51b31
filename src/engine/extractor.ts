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
import { createOnnxExtractor, OnnxExtractor, type OnnxExtractorSettings } from './onnx/extractor.js';
import { imageModelIO } from './onnx/io.js';
import { onnxRuntimeAvailable } from './onnx/runtime.js';
import { OnnxModel } from './onnx/session.js';
import { TfjsExtractor } from './tfjs-extractor.js';
import { ENGINE_NAMES, type EngineName, type Extractor } from './types.js';

export { ENGINE_NAMES, type EngineName, type Extractor } from './types.js';
export { TfjsExtractor } from './tfjs-extractor.js';

/** How to run a model, as a caller asks for it; what is not given comes from the environment. */
export interface EngineOptions {
  /** @default HEADSTART_ENGINE, else 'auto' */
  engine?: EngineName | 'auto';
  /** ONNX Runtime threads per operator. @default HEADSTART_THREADS, else ORT's choice (the physical cores) */
  threads?: number;
  /** ONNX Runtime execution providers in order, e.g. ['cuda', 'cpu']. @default HEADSTART_EXECUTION_PROVIDERS (comma-separated), else ['cpu'] */
  executionProviders?: readonly string[];
}

/** The engine settings every extractor is opened with (`engineSettings` resolves them). */
export interface EngineSettings {
  engine: EngineName | 'auto';
  intraOpThreads?: number;
  executionProviders?: readonly string[];
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
}

const ENGINE_CHOICES = [...ENGINE_NAMES, 'auto'] as const;
/** A cache folder that cannot take a new export (weights baked into a Lambda image at /opt). */
const READ_ONLY_CODES = new Set(['EROFS', 'EACCES', 'EPERM']);

/** Validates an engine name ('' and undefined mean 'auto'). */
export function parseEngine(name: string | undefined): EngineName | 'auto' {
  const engine = name === undefined || name === '' ? 'auto' : name;
  if (!(ENGINE_CHOICES as readonly string[]).includes(engine)) {
    throw new InvalidArgumentError(`Unknown engine '${engine}': expected ${listValues(ENGINE_CHOICES)}.`);
  }
  return engine as EngineName | 'auto';
}

function parseThreads(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1) throw new InvalidArgumentError(`HEADSTART_THREADS must be a positive integer, got '${value}'.`);
  return threads;
}

function parseProviders(value: string | undefined): string[] | undefined {
  const providers = (value ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  return providers.length > 0 ? providers : undefined;
}

/**
 * The settings to open extractors with: the caller's options first, then HEADSTART_ENGINE, HEADSTART_THREADS and
 * HEADSTART_EXECUTION_PROVIDERS. Validates the engine and the thread count.
 */
export function engineSettings(options: EngineOptions = {}, env: NodeJS.ProcessEnv = process.env): EngineSettings {
  const engine = parseEngine(options.engine ?? env.HEADSTART_ENGINE);
  const intraOpThreads = options.threads ?? parseThreads(env.HEADSTART_THREADS);
  const executionProviders = options.executionProviders ?? parseProviders(env.HEADSTART_EXECUTION_PROVIDERS);
  return { engine, ...(intraOpThreads !== undefined ? { intraOpThreads } : {}), ...(executionProviders ? { executionProviders } : {}) };
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
  const { intraOpThreads, executionProviders } = settings;
  return new OnnxExtractor(await OnnxModel.create(model, { intraOpThreads, executionProviders }), io);
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
  const { engine: _engine, ...onnxOptions } = options;
  try {
    return await createOnnxExtractor(model, onnxOptions);
  } catch (error) {
    if (options.cacheDir === undefined || !READ_ONLY_CODES.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    return await createOnnxExtractor(model, { ...onnxOptions, cacheDir: join(tmpdir(), 'headstart') });
  }
}
