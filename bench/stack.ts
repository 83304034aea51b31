/**
 * The local service (`startDevStack`: embedded S3, event queue, extract handler, API) started inside the
 * bench process on free ports, with a temporary data folder and weights cache so a run never touches the
 * user's ./.headstart or ~/.cache/headstart. DenseNet121 gets the real weights from ../shared; a model
 * without real weights here gets random ones, written as a TF.js folder and imported the way a user
 * imports theirs, so the stack runs its normal 'imagenet' path either way.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevStack, type DevStack } from '../local/dev.js';
import type { QueueBatchTiming } from '../local/s3/index.js';
import type { BatchTiming } from '../src/features/stages.js';
import { initBackend, tf } from '../src/engine/backend.js';
import { HeadstartError } from '../src/errors.js';
import { importWeights } from '../src/weights/index.js';
import { buildModel, getModelSpec } from '../src/zoo/index.js';
import type { ModelId } from '../src/zoo/types.js';
import { SHARED_DIR } from './images.js';

export interface BenchStack {
  model: ModelId;
  /** 'real' (../shared) or 'random' (timing only: predictions are meaningless). */
  weights: 'real' | 'random';
  stack: DevStack;
  /** The weights and ONNX cache the stack uses. */
  home: string;
  /** Every extract batch's timing since the stack started (the ingest section empties them between passes). */
  timings: { ingest: BatchTiming[]; queue: QueueBatchTiming[] };
}

/** Real weights available in ../shared, per model. */
const SHARED_WEIGHTS: Partial<Record<ModelId, string>> = { densenet121: join(SHARED_DIR, 'models', 'densenet121') };

function joinWeightData(data: ArrayBuffer | ArrayBuffer[]): Buffer {
  return Array.isArray(data) ? Buffer.concat(data.map((b) => Buffer.from(b))) : Buffer.from(data);
}

/** Writes a randomly initialised zoo model (with its top) as a TF.js layers-model folder. */
export async function writeRandomWeightsFolder(model: ModelId, dir: string): Promise<void> {
  await initBackend();
  const built = buildModel(model);
  try {
    await mkdir(dir, { recursive: true });
    await built.save(
      tf.io.withSaveHandler(async (artifacts) => {
        if (!artifacts.weightSpecs || !artifacts.weightData) throw new HeadstartError('BenchWeights', `${model} saved no weights.`);
        const manifest = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }];
        await writeFile(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: artifacts.modelTopology, weightsManifest: manifest }));
        await writeFile(join(dir, 'weights.bin'), joinWeightData(artifacts.weightData));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  } finally {
    built.dispose();
  }
}

/** Starts each model's stack on first use and closes them all (and their temp folders) at the end. */
export class StackPool {
  private readonly stacks = new Map<ModelId, Promise<BenchStack>>();
  private readonly dirs: string[] = [];

  constructor(private readonly log: (line: string) => void) {}

  get(model: ModelId): Promise<BenchStack> {
    let stack = this.stacks.get(model);
    if (!stack) {
      stack = this.start(model);
      this.stacks.set(model, stack);
    }
    return stack;
  }

  /** Stops one model's stack (a section done with it frees its memory for the next model). */
  async release(model: ModelId): Promise<void> {
    const stack = this.stacks.get(model);
    this.stacks.delete(model);
    await stack?.then((s) => s.stack.close()).catch(() => undefined);
  }

  /** Stops every stack started so far and removes their temp folders; the pool can start new ones after. */
  async close(): Promise<void> {
    for (const stack of this.stacks.values()) {
      await stack.then((s) => s.stack.close()).catch(() => undefined);
    }
    this.stacks.clear();
    await Promise.all(this.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }

  private async start(model: ModelId): Promise<BenchStack> {
    const root = await mkdtemp(join(tmpdir(), `headstart-bench-${model}-`));
    this.dirs.push(root);
    const home = join(root, 'home');
    const shared = SHARED_WEIGHTS[model];
    const weights = shared && existsSync(shared) ? 'real' : 'random';
    this.log(`${model}: importing ${weights} weights into ${home}`);
    const source = weights === 'real' ? shared! : join(root, 'random-weights');
    if (weights === 'random') await writeRandomWeightsFolder(model, source);
    await importWeights(source, { model, home });
    this.log(`${model}: starting the local stack (loads, exports to ONNX and warms up the model)`);
    const timings: BenchStack['timings'] = { ingest: [], queue: [] };
    const stack = await startDevStack({
      timing: { ingest: (t) => timings.ingest.push(t), queue: (t) => timings.queue.push(t) },
      port: 0,
      s3Port: 0,
      dataDir: join(root, 'data'),
      home,
      model,
      apiKey: '',
      log: (line) => this.log(line.split('\n')[0]!),
    });
    return { model, weights, stack, home, timings };
  }
}

/**
 * The ONNX file the stack exported for a model's cut (`<home>/onnx/<model>@<digest>/<layer>.onnx`):
 * the bare engine runs exactly the graph the stack runs.
 */
export async function exportedGraph(home: string, model: ModelId, layer = getModelSpec(model).defaultFeatureLayer): Promise<string> {
  const root = join(home, 'onnx');
  const dirs = (await readdir(root).catch(() => [] as string[])).filter((d) => d.startsWith(`${model}@`));
  const found = dirs.map((d) => join(root, d, `${layer}.onnx`)).find((path) => existsSync(path));
  if (!found) throw new HeadstartError('BenchGraph', `No ONNX export of ${model}/${layer} under ${root}: did the stack run ONNX Runtime?`);
  return found;
}
