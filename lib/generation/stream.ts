// TokenStream: a generation as an async iterable of chunks. Breaking out of the loop stops it.
import type { GenerateResult, TokenChunk } from './result.js';

/**
 * The chunks of one generation, in order, as they are produced; `result` settles when it ends.
 * A chat's stream has {@link ChatChunk}s: each also says what it adds to the answer and the thought.
 * Leaving a `for await` loop early (break, return, throw) stops the generation.
 */
export class TokenStream<R = GenerateResult, C extends TokenChunk = TokenChunk> implements AsyncIterable<C> {
  /** The whole generation: settles after the last chunk. */
  readonly result: Promise<R>;
  readonly #buffer: C[] = [];
  #waiting: (() => void) | undefined;
  #ended = false;
  #error: unknown;
  #iterating = false;
  readonly #stop: () => void;

  /** @internal Built by LlamaModel.stream(). */
  constructor(start: (push: (chunk: C) => void) => Promise<R>, stop: () => void) {
    this.#stop = stop;
    this.result = start((chunk) => {
      this.#buffer.push(chunk);
      this.#wake();
    }).then(
      (result) => {
        this.#ended = true;
        this.#wake();
        return result;
      },
      (error: unknown) => {
        this.#ended = true;
        this.#error = error;
        this.#wake();
        throw error;
      },
    );
    // Errors reach the iterating loop; a caller who only iterates must not see an unhandled rejection.
    this.result.catch(() => undefined);
  }

  /** Stops the generation (the result resolves with `stopReason: 'abort'`). */
  stop(): void {
    this.#stop();
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<C> {
    if (this.#iterating) throw new TypeError('a TokenStream can be iterated only once');
    this.#iterating = true;
    let finished = false;
    try {
      for (;;) {
        const chunk = this.#buffer.shift();
        if (chunk !== undefined) {
          yield chunk;
          continue;
        }
        if (this.#ended) {
          finished = true;
          if (this.#error !== undefined) throw this.#error;
          return;
        }
        await new Promise<void>((resolve) => (this.#waiting = resolve));
      }
    } finally {
      if (!finished) this.#stop();
    }
  }
}
