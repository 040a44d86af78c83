// How bench/ measures llama-napi through the raw addon: pp = decodes of a 128-token prompt back to
// back (after a warm-up, as llama-bench does), tg = 64 tokens of the native generation loop, greedy
// (bench/gpu.mjs: 512 and 128, as the GPU rows of llama-bench).
export const PROMPT = 128;
export const GENERATE = 64;

/** The median of some numbers. */
export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
/** Tokens/s as the tables print them. */
export const fmt = (value) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
/** a / b as "1.02×". */
export const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
/** One row of a Markdown table: "| a | b |". */
export const tableRow = (cells) => `| ${cells.join(' | ')} |`;

/** Mean tokens/s of `repetitions` pp and tg runs on a fresh context of `model`. */
export async function measureOurs(
  model,
  threads,
  repetitions,
  { promptTokens = PROMPT, generateTokens = GENERATE } = {},
) {
  const context = await model.createContext({
    contextSize: Math.max(256, promptTokens + generateTokens + 8),
    batchSize: promptTokens,
    threads,
  });
  const eos = model.info().tokens.eos;
  try {
    const prompt = Array.from({ length: promptTokens }, (_, i) => 100 + ((i * 7919) % 30000));
    await context.decode(prompt);
    const pp = [];
    for (let r = 0; r < repetitions; r++) {
      context.memoryClear();
      const started = performance.now();
      await context.decode(prompt);
      pp.push((promptTokens * 1000) / (performance.now() - started));
    }
    const sampling = { temperature: 0, logitBias: eos === null ? [] : [[eos, Number.NEGATIVE_INFINITY]] };
    await context.generate({ tokens: [1], maxTokens: 8, sampling });
    const tg = [];
    for (let r = 0; r < repetitions; r++) {
      const result = await context.generate({ tokens: [1], maxTokens: generateTokens, sampling });
      tg.push((result.timings.generatedTokens * 1000) / result.timings.generateMs);
    }
    return { pp: pp.reduce((a, b) => a + b) / pp.length, tg: tg.reduce((a, b) => a + b) / tg.length };
  } finally {
    context.dispose();
  }
}
