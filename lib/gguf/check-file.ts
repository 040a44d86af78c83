// The check every model file passes before llama.cpp reads it: it exists, it is GGUF, its header
// is consistent with its size, and its hyperparameters and vocabulary are ones llama.cpp handles
// without aborting. Failures are LlamaErrors MODEL_NOT_FOUND / INVALID_MODEL_FILE.
import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';

import { LlamaError } from '../errors.js';
import { GgufFormatError, readGgufHeader } from './reader.js';
import { UNIQUE_ARRAYS, validateModel } from './validate.js';

/** Checks that `path` is a readable, well-formed GGUF file before llama.cpp sees it. */
export async function checkModelFile(path: string): Promise<void> {
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new LlamaError('MODEL_NOT_FOUND', `no model file at ${path}`);
    throw new LlamaError('INVALID_MODEL_FILE', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (!stats.isFile()) throw new LlamaError('INVALID_MODEL_FILE', `${path} is not a file`);
  try {
    validateModel(await readGgufHeader(path, { arrays: false, unique: UNIQUE_ARRAYS }));
  } catch (error) {
    if (error instanceof GgufFormatError)
      throw new LlamaError('INVALID_MODEL_FILE', `${path}: ${error.message}`, { cause: error });
    throw new LlamaError('INVALID_MODEL_FILE', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}
