/**
 * Built-in, offline price table: public list prices in USD per million tokens. Reports
 * never fetch prices; a model missing here is reported as unpriced (cost unknown), never
 * as free. Update by adding rows; names are matched after `normalizeModel`.
 */
import { SYNTHETIC_MODEL } from './synthetic.js';

/** USD per million tokens. */
interface Rates {
  input: number;
  output: number;
  /** Prompt-cache write (Claude: the 5-minute rate). OpenAI has none: 0. */
  cacheWrite: number;
  /** Prompt-cache read (OpenAI: "cached input"). */
  cacheRead: number;
}

export interface ModelPrice extends Rates {
  /**
   * Long-context rates: a request whose prompt (input, cache writes and cache reads together)
   * exceeds `threshold` tokens bills **all** its tokens at these rates, output included, and
   * its 1-hour cache writes at 2× this input rate. That is Anthropic's rule for Sonnet 4/4.5's
   * 1M context and Google's for Gemini's >200K prompts; ccusage instead bills each kind's
   * tokens beyond the threshold (docs/numbers.md says where the two differ).
   */
  above?: { threshold: number } & Rates;
  /** Multiplier for Claude's fast mode (model names ending in `-fast`). */
  fast?: number;
}

const r = (input: number, output: number, cacheWrite: number, cacheRead: number): Rates => ({ input, output, cacheWrite, cacheRead });

const OPUS_4 = r(15, 75, 18.75, 1.5);
const OPUS_45 = r(5, 25, 6.25, 0.5);
const SONNET = r(3, 15, 3.75, 0.3);
const SONNET_LONG = { threshold: 200_000, ...r(6, 22.5, 7.5, 0.6) };

/** Keys are normalized names (see normalizeModel). */
const PRICES: Record<string, ModelPrice> = {
  // Anthropic (https://www.anthropic.com/pricing): cache write = 1.25× input, cache read = 0.1× input.
  'claude-opus-4': OPUS_4,
  'claude-opus-4-1': OPUS_4,
  'claude-opus-4-5': OPUS_45,
  'claude-opus-4-6': { ...OPUS_45, fast: 6 },
  'claude-opus-4-7': { ...OPUS_45, fast: 6 },
  'claude-3-opus': OPUS_4,
  'claude-3-sonnet': SONNET,
  'claude-sonnet-4': { ...SONNET, above: SONNET_LONG },
  'claude-sonnet-4-5': { ...SONNET, above: SONNET_LONG },
  'claude-sonnet-4-6': SONNET,
  'claude-3-7-sonnet': SONNET,
  'claude-3-5-sonnet': SONNET,
  'claude-haiku-4-5': r(1, 5, 1.25, 0.1),
  'claude-3-5-haiku': r(0.8, 4, 1, 0.08),
  'claude-3-haiku': r(0.25, 1.25, 0.3, 0.03),
  // OpenAI (https://openai.com/api/pricing): input, output, cached input; no cache-write charge.
  'gpt-5': r(1.25, 10, 0, 0.125),
  'gpt-5-codex': r(1.25, 10, 0, 0.125),
  'gpt-5-mini': r(0.25, 2, 0, 0.025),
  'gpt-5-nano': r(0.05, 0.4, 0, 0.005),
  'gpt-5.1': r(1.25, 10, 0, 0.125),
  'gpt-5.1-codex': r(1.25, 10, 0, 0.125),
  'gpt-5.1-codex-max': r(1.25, 10, 0, 0.125),
  'gpt-5.1-codex-mini': r(0.25, 2, 0, 0.025),
  'gpt-5.2': r(1.75, 14, 0, 0.175),
  'gpt-5.2-codex': r(1.75, 14, 0, 0.175),
  'gpt-5.3-codex': r(1.75, 14, 0, 0.175),
  'gpt-5.4': r(2.5, 15, 0, 0.25),
  'codex-mini': r(1.5, 6, 0, 0.375),
  o3: r(2, 8, 0, 0.5),
  'o4-mini': r(1.1, 4.4, 0, 0.275),
  'gpt-4.1': r(2, 8, 0, 0.5),
  'gpt-4.1-mini': r(0.4, 1.6, 0, 0.1),
  'gpt-4.1-nano': r(0.1, 0.4, 0, 0.025),
  'gpt-4o': r(2.5, 10, 0, 1.25),
  'gpt-4o-mini': r(0.15, 0.6, 0, 0.075),
  // Google (https://ai.google.dev/gemini-api/docs/pricing), as Gemini CLI and Copilot name them:
  // input, output (thinking included), no cache-write charge here (storage is billed per hour,
  // not per token), cached input. Pro models cost more for the part of a prompt beyond 200k.
  'gemini-3-pro-preview': { ...r(2, 12, 0, 0.2), above: { threshold: 200_000, ...r(4, 18, 0, 0.4) } },
  'gemini-3-pro': { ...r(2, 12, 0, 0.2), above: { threshold: 200_000, ...r(4, 18, 0, 0.4) } },
  'gemini-3-flash-preview': r(0.5, 3, 0, 0.05),
  'gemini-3-flash': r(0.5, 3, 0, 0.05),
  'gemini-2.5-pro': { ...r(1.25, 10, 0, 0.125), above: { threshold: 200_000, ...r(2.5, 15, 0, 0.25) } },
  'gemini-2.5-flash': r(0.3, 2.5, 0, 0.03),
  'gemini-2.5-flash-lite': r(0.1, 0.4, 0, 0.01),
  'gemini-2.0-flash': r(0.1, 0.4, 0, 0.025),
  'gemini-2.0-flash-lite': r(0.075, 0.3, 0, 0.01875),
  // Alibaba Model Studio, international (https://www.alibabacloud.com/help/en/model-studio/models),
  // the first tier (prompts up to 32k), an implicit-cache hit at 20 % of input: Qwen Code's
  // API-key models. Its free OAuth tier logs `coder-model`, which has no price: unpriced.
  'qwen3-coder-plus': r(1, 5, 0, 0.2),
  'qwen3-coder-flash': r(0.3, 1.5, 0, 0.06),
  'qwen3-coder-480b-a35b-instruct': r(1.5, 7.5, 0, 0.3),
  'qwen3-max': r(1.2, 6, 0, 0.24),
};

/**
 * Canonical model name for price lookup: lower case, without provider prefixes
 * (`anthropic/`, `us.anthropic.`, `openai/`…), date suffixes (`-20250514`, `-2025-04-14`,
 * `@20251001`), Bedrock version tags (`-v1:0`), context tags (`[1m]`, Copilot's `-1m`), `-latest`, and
 * dotted Claude versions (`claude-opus-4.5` → `claude-opus-4-5`).
 */
export function normalizeModel(name: string): string {
  let n = name.trim().toLowerCase();
  n = n.replace(/\[[^\]]*\]$/, '');
  n = n.replace(/^(?:[a-z0-9_-]+\/)+/, ''); // openai/, anthropic/, vertex_ai/, openrouter/anthropic/ …
  n = n.replace(/^(?:(?:us|eu|apac|global)\.)?anthropic\./, '');
  n = n.replace(/-v\d+(?::\d+)?$/, '');
  n = n.replace(/@\d{8}$/, '');
  n = n.replace(/-\d{8}$/, '');
  n = n.replace(/-\d{4}-\d{2}-\d{2}$/, '');
  n = n.replace(/-latest$/, '');
  n = n.replace(/-1m(?:-internal)?$/, ''); // Copilot's long-context variants of a model bill at its rates
  if (n.startsWith('claude-')) n = n.replace(/(\d)\.(\d)/g, '$1-$2');
  return n;
}

// A report asks for the price of every group's model; normalizing is a dozen regexes each time.
const priceCache = new Map<string, ModelPrice | null>();

/** The price of a model, or null when the table has none (cost then reported as unknown). */
export function priceFor(model: string | null | undefined): ModelPrice | null {
  if (!model) return null;
  let p = priceCache.get(model);
  if (p === undefined) {
    if (priceCache.size >= 1000) priceCache.clear(); // names come from logs: bound it anyway
    priceCache.set(model, (p = lookupPrice(model)));
  }
  return p;
}

function lookupPrice(model: string): ModelPrice | null {
  let n = normalizeModel(model);
  let fast = false;
  if (n.endsWith('-fast')) {
    n = n.slice(0, -'-fast'.length);
    fast = true;
  }
  const p = PRICES[n];
  if (!p) return null;
  if (!fast) return p;
  if (p.fast === undefined) return null; // a fast variant we have no multiplier for is unpriced, not guessed
  const m = p.fast;
  return { input: p.input * m, output: p.output * m, cacheWrite: p.cacheWrite * m, cacheRead: p.cacheRead * m };
}

/**
 * Token sums of one group. The `*Above` fields sum the same kinds over the group's long-context
 * requests only: those whose prompt exceeds the threshold (see {@link ModelPrice.above}).
 */
export interface TokenSums {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  /** The part of cacheCreationTokens written to the 1-hour cache. */
  cacheCreation1hTokens?: number;
  inputAbove?: number;
  outputAbove?: number;
  cacheCreationAbove?: number;
  cacheReadAbove?: number;
  cacheCreation1hAbove?: number;
}

/** A 1-hour cache write costs this many times the base input rate (5-minute writes: cacheWrite). */
const ONE_HOUR_WRITE = 2;

/** The prompt size beyond which a request is long-context: the SQL sums `*Above` by it. */
export const LONG_CONTEXT_THRESHOLD = 200_000;

/** Whether a request's prompt makes it long-context (all its tokens then bill at the `above` rates). */
function isLongContext(t: Pick<TokenSums, 'inputTokens' | 'cacheCreationTokens' | 'cacheReadTokens'>): boolean {
  return t.inputTokens + t.cacheCreationTokens + t.cacheReadTokens > LONG_CONTEXT_THRESHOLD;
}

/**
 * Cost in USD. Codex usage is stored with `inputTokens` = non-cached input and
 * `cacheReadTokens` = cached input, so the same formula gives in×input + cached×cachedRate + out×output.
 */
export function costOf(t: TokenSums, p: ModelPrice): number {
  const M = 1_000_000;
  let cost = (t.inputTokens * p.input + t.outputTokens * p.output + t.cacheCreationTokens * p.cacheWrite + t.cacheReadTokens * p.cacheRead) / M;
  // cacheWrite is the 5-minute rate (1.25x input); Anthropic bills 1-hour writes at 2x input.
  if (t.cacheCreation1hTokens && p.cacheWrite > 0) cost += (t.cacheCreation1hTokens * (ONE_HOUR_WRITE * p.input - p.cacheWrite)) / M;
  if (p.above) {
    // Long-context requests' tokens, already counted at the base rates, take the difference.
    const a = p.above;
    cost +=
      ((t.inputAbove ?? 0) * (a.input - p.input) +
        (t.outputAbove ?? 0) * (a.output - p.output) +
        (t.cacheCreationAbove ?? 0) * (a.cacheWrite - p.cacheWrite) +
        (t.cacheReadAbove ?? 0) * (a.cacheRead - p.cacheRead)) /
      M;
    if (t.cacheCreation1hAbove && p.cacheWrite > 0) {
      cost += (t.cacheCreation1hAbove * (ONE_HOUR_WRITE * a.input - a.cacheWrite - (ONE_HOUR_WRITE * p.input - p.cacheWrite))) / M;
    }
  }
  return cost;
}

/**
 * What summed usage of one model costs (a group, or one response with its own excess): a number,
 * or null when the model is unpriced and there are tokens. Synthetic replies cost nothing.
 */
export function groupCost(r: TokenSums & { model: string | null }): number | null {
  const tokens = r.inputTokens + r.outputTokens + r.cacheCreationTokens + r.cacheReadTokens;
  if (tokens === 0 || r.model === SYNTHETIC_MODEL) return 0;
  const p = priceFor(r.model);
  return p ? costOf(r, p) : null;
}

/** What one billed response costs: a long-context response bills all its tokens at the long-context rates. */
export function responseCost(model: string | null, t: TokenSums): number | null {
  const long = isLongContext(t);
  return groupCost({
    ...t,
    model,
    inputAbove: long ? t.inputTokens : 0,
    outputAbove: long ? t.outputTokens : 0,
    cacheCreationAbove: long ? t.cacheCreationTokens : 0,
    cacheReadAbove: long ? t.cacheReadTokens : 0,
    cacheCreation1hAbove: long ? (t.cacheCreation1hTokens ?? 0) : 0,
  });
}
