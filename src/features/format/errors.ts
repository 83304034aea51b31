import { HeadstartError } from '../../errors.js';

/** A tensor file (safetensors or npy) whose bytes do not follow its format. */
export class TensorFileFormatError extends HeadstartError {
  readonly format: 'safetensors' | 'npy';

  constructor(format: 'safetensors' | 'npy', detail: string, options?: { cause?: unknown }) {
    super('InvalidTensorFile', `Invalid ${format} file: ${detail}.`, options);
    this.format = format;
  }
}
