// GGUF reading and writing, and the random-weight llama models the tests and benchmarks use.
export {
  GgufFormatError,
  metadataValue,
  readGgufHeader,
  type GgufHeader,
  type GgufTensorInfo,
  type ReadGgufHeaderOptions,
} from './reader.js';
export { gguf, writeGguf, type GgufFileSpec, type GgufTensorSource } from './writer.js';
export {
  createRandomLlama,
  encodeTensor,
  toFloat16Bits,
  type RandomLlamaModel,
  type RandomLlamaOptions,
  type RandomLlamaTensorType,
} from './random-llama.js';
export {
  GGML_TYPE_LAYOUT,
  GgmlType,
  GgufValueType,
  tensorByteSize,
  type GgufScalar,
  type GgufValue,
} from './types.js';
export {
  UNIQUE_ARRAYS,
  validateHyperparameters,
  validateModel,
  validateVocabulary,
  VALIDATED_ARRAYS,
} from './validate.js';
