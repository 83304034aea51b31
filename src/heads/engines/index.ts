import { tf } from '../../engine/backend.js';
import type { HeadEngineChoice, HeadEngineName } from '../types.js';
import { createFitTrainer } from './fit.js';
import { createJsTrainer } from './js.js';
import { createTfjsTrainer } from './tfjs.js';
import type { TrainerFactory } from './types.js';

export type { EngineContext, EpochStats, HeadTrainer, TrainerFactory } from './types.js';

export const TRAINERS: Record<HeadEngineName, TrainerFactory> = {
  tfjs: createTfjsTrainer,
  js: createJsTrainer,
  fit: createFitTrainer,
};

/**
 * 'auto' → the fastest engine for the active backend (measurements in train.ts): the plain-JS `cpu`
 * backend multiplies ~8× slower than our own typed-array kernels, so there the js engine wins; on wasm
 * and tfjs-node the tfjs loop does.
 */
export function resolveEngine(choice: HeadEngineChoice, backend: string = tf.getBackend()): HeadEngineName {
  if (choice !== 'auto') return choice;
  return backend === 'cpu' ? 'js' : 'tfjs';
}
