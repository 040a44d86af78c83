// The default CPU thread count: physical cores (as llama.cpp's own tools choose), since a second
// hyperthread per core slows matrix work down; limited to the CPUs this process may use.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

let cached: number | undefined;

/** Physical cores among the CPUs available to the process (Linux), else available parallelism. */
export function defaultThreads(): number {
  if (cached !== undefined) return cached;
  const available = availableParallelism();
  cached = available;
  if (process.platform === 'linux') {
    try {
      const cores = new Set<string>();
      for (let cpu = 0; cpu < available; cpu++) {
        cores.add(readFileSync(`/sys/devices/system/cpu/cpu${cpu}/topology/thread_siblings_list`, 'utf8').trim());
      }
      if (cores.size > 0) cached = Math.min(cores.size, available);
    } catch {
      // No topology in /sys (containers can hide it): keep the available parallelism.
    }
  }
  return cached;
}
