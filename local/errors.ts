import { HeadstartError } from '../src/errors.js';

/** A port the local stack was asked to listen on is taken. The message names the port and the flag that picks another. */
export class PortInUseError extends HeadstartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PortInUse', message, options);
  }
}
