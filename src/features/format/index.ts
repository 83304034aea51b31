export { encodeSafetensors, decodeSafetensors, SAFETENSORS_DTYPES } from './safetensors.js';
export type { SafetensorsDtype, SafetensorsTensor, DecodedSafetensors } from './safetensors.js';
export { encodeNpy, decodeNpy, type NpyDtype, type DecodedNpy } from './npy.js';
export { float32ToFloat16Bits, float16BitsToFloat32 } from './float16.js';
export { TensorFileFormatError } from './errors.js';
