// The command line's report of a download on stderr: a progress bar (bytes, speed, time left) on a
// terminal, else a plain line now and then (at each tenth of a file, and every 10 s at most apart).
import { SingleBar } from 'cli-progress';

import type { DownloadProgress } from './download.js';

/** Bytes as a person reads them: 512 B, 3.2 MiB, 4.07 GiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** Seconds as a short duration: 42s, 3m05s, 1h02m. */
function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The speed of one file's transfer, measured from its first report (a resumed part's bytes excluded). */
class Speed {
  readonly #start = performance.now();
  constructor(readonly startBytes: number) {}

  /** Bytes per second so far. */
  rate(bytes: number): number {
    const seconds = (performance.now() - this.#start) / 1000;
    return seconds > 0.2 ? (bytes - this.startBytes) / seconds : 0;
  }
}

/** A reporter for `downloadModel`'s onProgress, and `done()` to call when it settles. */
export function downloadReporter(stream: NodeJS.WriteStream = process.stderr): {
  onProgress: (progress: DownloadProgress) => void;
  done: () => void;
} {
  let file: string | undefined;
  let speed = new Speed(0);
  const describe = (p: DownloadProgress) => {
    const rate = speed.rate(p.downloadedBytes);
    const left = p.totalBytes === undefined || rate === 0 ? Number.NaN : (p.totalBytes - p.downloadedBytes) / rate;
    return {
      size: `${formatBytes(p.downloadedBytes)}${p.totalBytes === undefined ? '' : ` of ${formatBytes(p.totalBytes)}`}`,
      speed: rate === 0 ? '' : `${formatBytes(rate)}/s`,
      left: formatDuration(left),
    };
  };
  const label = (p: DownloadProgress) => (p.fileCount > 1 ? `${p.file} (${p.fileIndex + 1}/${p.fileCount})` : p.file);

  if (stream.isTTY) {
    const bar = new SingleBar({
      stream,
      format: '{file} [{bar}] {percentage}% {size} {speed} ETA {left}',
      hideCursor: true,
      clearOnComplete: false,
      barsize: 24,
    });
    let running = false;
    const stop = () => {
      if (running) bar.stop();
      running = false;
    };
    return {
      onProgress: (p) => {
        if (p.file !== file) {
          stop();
          file = p.file;
          speed = new Speed(p.downloadedBytes);
        }
        const total = p.totalBytes ?? Math.max(p.downloadedBytes, 1);
        const fields = { file: label(p), ...describe(p) };
        if (!running) bar.start(total, p.downloadedBytes, fields);
        running = true;
        bar.setTotal(total);
        bar.update(p.downloadedBytes, fields);
        if (p.done) stop();
      },
      done: stop,
    };
  }

  let lastTenth = -1;
  let lastLine = 0;
  return {
    onProgress: (p) => {
      const now = performance.now();
      const tenth = p.totalBytes ? Math.floor((p.downloadedBytes / p.totalBytes) * 10) : 0;
      const fresh = p.file !== file;
      if (fresh) {
        file = p.file;
        speed = new Speed(p.downloadedBytes);
      }
      if (!fresh && !p.done && tenth === lastTenth && now - lastLine < 10_000) return;
      lastTenth = tenth;
      lastLine = now;
      const { size, speed: rate } = describe(p);
      const state = p.done ? 'done' : fresh && p.downloadedBytes > 0 ? 'resuming' : 'downloading';
      stream.write(`llama-napi: ${label(p)}: ${state}, ${size}${rate === '' ? '' : `, ${rate}`}\n`);
    },
    done: () => {},
  };
}
