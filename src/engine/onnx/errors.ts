import { HeadstartError } from '../../errors.js';

/** One layer the exporter cannot translate, and why. */
export interface UnsupportedLayer {
  className: string;
  name: string;
  /** What exactly is unsupported when the class itself is (e.g. "dataFormat 'channelsFirst'"). */
  reason?: string;
}

/** The model holds layers (or layer settings) the ONNX exporter cannot translate; lists every one of them. */
export class UnsupportedLayerError extends HeadstartError {
  readonly layers: readonly UnsupportedLayer[];

  constructor(layers: readonly UnsupportedLayer[], supported: readonly string[]) {
    const described = layers.map((l) => `${l.className} '${l.name}'${l.reason ? ` (${l.reason})` : ''}`);
    super(
      'UnsupportedLayer',
      `Cannot export to ONNX: ${layers.length} unsupported layer(s): ${described.join(', ')}. ` +
        `Supported layer classes: ${supported.join(', ')}.`,
    );
    this.layers = layers;
  }
}

/** An .onnx model that cannot be loaded or does not have the inputs/outputs headstart needs. */
export class OnnxModelError extends HeadstartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('InvalidModel', message, options);
  }
}

/** onnxruntime-node could not be loaded (not installed, or no binary for this platform). */
export class EngineUnavailableError extends HeadstartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EngineUnavailable', message, options);
  }
}

/** The int8 graph's features stray too far from fp32 ones on the calibration images: int8 is refused for the model. */
export class Int8FidelityError extends HeadstartError {
  constructor(message: string) {
    super('Int8Refused', message);
  }
}
