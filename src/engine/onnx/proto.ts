// onnx-proto is CommonJS with a namespace export that Node's ESM loader cannot see as a named export,
// so it is imported whole and the namespace taken from it here, once.
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type { onnx as OnnxTypes } from 'onnx-proto';

/** TensorProto.DataType values used by the exporter and the external-model checks. */
export const ONNX_FLOAT = 1;
export const ONNX_UINT8 = 2;
export const ONNX_INT64 = 7;
