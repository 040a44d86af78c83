// Where llama.cpp's and ggml's log output goes: a threshold and an optional logger of your own.
// By default only warnings and errors are written, to stderr (never stdout); LLAMA_NAPI_LOG_LEVEL
// sets the initial threshold.
import { addon } from './binding.js';
import { LlamaError } from './errors.js';

/** A log threshold: lines at this level and above are let through; 'none' silences everything. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'none';

/** Receives whole lines of llama.cpp's log output (without the trailing newline). */
export type Logger = (level: Exclude<LogLevel, 'none'>, message: string) => void;

const RANKS = { debug: 0, info: 1, warn: 3, error: 4, none: 5 } as const;

/**
 * Sets the log threshold, process-wide. Lines logged while an operation fails become part of its
 * LlamaError's message instead (whatever the threshold).
 * @throws LlamaError `INVALID_ARGUMENT` for a level not in {@link LogLevel}.
 */
export function setLogLevel(level: LogLevel): void {
  if (typeof level !== 'string' || !Object.hasOwn(RANKS, level)) {
    throw new LlamaError(
      'INVALID_ARGUMENT',
      `logLevel must be one of ${Object.keys(RANKS).join(', ')}; got ${String(level)}`,
    );
  }
  addon().setLogLevel(RANKS[level]);
}

/** The current log threshold. */
export function getLogLevel(): LogLevel {
  const rank = addon().logLevel();
  const name = (Object.keys(RANKS) as LogLevel[]).find((key) => RANKS[key] === rank);
  return name ?? 'warn';
}

/**
 * Sends llama.cpp's log lines to `logger` instead of stderr, or back to stderr with null. The logger
 * runs on the main thread, shortly after the line was logged (lines from worker threads are carried
 * over asynchronously); it never keeps the process alive. A logger that throws is reported once as a
 * process warning and its error swallowed, so logging never breaks the operation that logged.
 * @throws LlamaError `INVALID_ARGUMENT` if `logger` is neither a function nor null.
 */
export function setLogger(logger: Logger | null): void {
  if (logger !== null && typeof logger !== 'function') {
    throw new LlamaError('INVALID_ARGUMENT', 'logger must be a function or null');
  }
  if (logger === null) {
    addon().setLogger(null);
    return;
  }
  let warned = false;
  addon().setLogger((level, message) => {
    try {
      logger(level, message);
    } catch (error) {
      if (!warned) {
        warned = true;
        process.emitWarning(
          `llama-napi: the logger threw (${error instanceof Error ? error.message : String(error)}); ` +
            'its errors are ignored',
        );
      }
    }
  });
}
