// Process-wide cache of loaded models, keyed by resolved path and load options: providers that
// want the same model share one; concurrent first requests cause one load; a failed load rejects
// every waiter and is forgotten, so the next request tries again; the last user to let go frees it.
import { resolve } from 'node:path';

import type { DownloadProgress } from '../download.js';
import { isRemoteSource } from '../hub.js';
import { LlamaModel, type LoadOptions } from '../LlamaModel.js';

/** The load options that make two models different (callbacks and signals are per request). */
export type CachedLoadOptions = Omit<LoadOptions, 'onProgress' | 'onDownloadProgress' | 'signal'>;

/** Who hears of a load's progress: the load's own, and a download's (an `hf:` or https source). */
export interface LoadListeners {
  onProgress?: ((fraction: number) => void) | undefined;
  onDownloadProgress?: ((progress: DownloadProgress) => void) | undefined;
}

interface Entry {
  key: string;
  loading: Promise<LlamaModel>;
  model: LlamaModel | undefined;
  users: Set<object>;
  /** Progress callbacks of everyone waiting on this load. */
  listeners: Set<LoadListeners>;
}

const entries = new Map<string, Entry>();

function keyOf(path: string, options: CachedLoadOptions): string {
  const sorted = Object.fromEntries(
    Object.entries(options)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return JSON.stringify([isRemoteSource(path) ? path : resolve(path), sorted]);
}

/** The model for `path` and `options`, loading it if no one has; `user` holds it until release(). */
export async function acquireModel(
  user: object,
  path: string,
  options: CachedLoadOptions,
  listening: LoadListeners = {},
): Promise<LlamaModel> {
  const key = keyOf(path, options);
  let entry = entries.get(key);
  if (entry === undefined) {
    const listeners = new Set<LoadListeners>();
    const created: Entry = {
      key,
      model: undefined,
      users: new Set(),
      listeners,
      loading: LlamaModel.load(path, {
        ...options,
        onProgress: (fraction) => {
          for (const listener of listeners) listener.onProgress?.(fraction);
        },
        onDownloadProgress: (progress) => {
          for (const listener of listeners) listener.onDownloadProgress?.(progress);
        },
      }).then(
        (model) => {
          created.model = model;
          created.listeners.clear();
          return model;
        },
        (error: unknown) => {
          if (entries.get(key) === created) entries.delete(key);
          throw error;
        },
      ),
    };
    entries.set(key, created);
    entry = created;
  }
  entry.users.add(user);
  if (entry.model === undefined) entry.listeners.add(listening);
  try {
    return await entry.loading;
  } catch (error) {
    entry.users.delete(user);
    throw error;
  } finally {
    entry.listeners.delete(listening);
  }
}

/** Lets go of every model `user` holds; a model no one holds any more is disposed. */
export async function releaseModels(user: object): Promise<void> {
  const disposals: Array<Promise<void>> = [];
  for (const entry of [...entries.values()]) {
    if (!entry.users.delete(user) || entry.users.size > 0) continue;
    entries.delete(entry.key);
    disposals.push(
      entry.loading.then(
        (model) => model.dispose(),
        () => undefined,
      ),
    );
  }
  await Promise.all(disposals);
}

/** How many models are loaded or loading (for tests and diagnostics). */
export function cachedModelCount(): number {
  return entries.size;
}
