import { HeadstartError } from '../errors.js';
import { TrainingAbortedError } from '../heads/errors.js';
import type { JobError } from './types.js';

/**
 * The job's error: our typed errors keep their code; bad-input errors of the core (all 'InvalidArgument')
 * are told apart by class name ('InsufficientExamples', 'UnknownLabel', …); an abort carries its reason's
 * code when the reason is ours (e.g. a function deadline). Anything else is our fault: a generic code,
 * the message without a stack.
 */
export function jobErrorOf(error: unknown, jobId: string): JobError {
  if (error instanceof TrainingAbortedError && error.cause instanceof HeadstartError) {
    return { code: error.cause.code, message: error.cause.message };
  }
  if (error instanceof HeadstartError) {
    const code = error.code === 'InvalidArgument' && error.name !== 'InvalidArgumentError' ? error.name.replace(/Error$/, '') : error.code;
    return { code, message: error.message };
  }
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { code: 'InternalError', message: `Training failed unexpectedly (${detail}); the train function's logs have the details of job ${jobId}.` };
}
