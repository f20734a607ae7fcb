import type { TokenUsage } from '../../model/event.js';

/**
 * Token counts in the Gemini API's names (`usageMetadata`: promptTokenCount,
 * candidatesTokenCount, cachedContentTokenCount, thoughtsTokenCount,
 * toolUsePromptTokenCount, totalTokenCount), as Gemini CLI (`tokens`) and Qwen Code
 * (`usageMetadata`) log them.
 */
export interface GeminiCounts {
  input: number;
  output: number;
  cached: number;
  thoughts: number;
  tool: number;
  total: number;
}

/**
 * Billing kinds of one response, each token once. The Gemini API counts the prompt with its
 * cached part inside it, and thoughts and tool-use prompt tokens beside the candidates:
 * total = prompt + candidates + thoughts + toolUse. Two other shapes occur, told apart by
 * the log's own total: OpenAI-compatible backends converted by Qwen Code put reasoning
 * inside candidates (total = prompt + candidates + toolUse), and a prompt can come without
 * its cached part (total = prompt + cached + candidates + thoughts + toolUse). Without a
 * total (or when it matches none) the API's meaning is taken.
 *
 * inputTokens = uncached prompt + tool-use prompt; cacheReadTokens = cached; outputTokens =
 * candidates + thoughts (thoughts are billed as output); reasoningTokens = thoughts (shown
 * beside); totalTokens = the sum of the billed kinds, which is the log's total whenever the
 * log's parts add up to it. Null when the response counts nothing.
 */
export function geminiUsage(c: GeminiCounts): { usage: TokenUsage; shape: 'api' | 'thoughts-in-output' | 'uncached-prompt'; logTotal: number | null } | null {
  if (c.input + c.output + c.cached + c.thoughts + c.tool + c.total === 0) return null;
  let shape: 'api' | 'thoughts-in-output' | 'uncached-prompt' = 'api';
  if (c.total > 0 && c.total !== c.input + c.output + c.thoughts + c.tool) {
    if (c.thoughts > 0 && c.total === c.input + c.output + c.tool) shape = 'thoughts-in-output';
    else if (c.cached > 0 && c.total === c.input + c.cached + c.output + c.thoughts + c.tool) shape = 'uncached-prompt';
  }
  const cacheRead = shape === 'uncached-prompt' ? c.cached : Math.min(c.cached, c.input);
  const uncached = shape === 'uncached-prompt' ? c.input : c.input - cacheRead;
  const usage: TokenUsage = {
    inputTokens: uncached + c.tool,
    outputTokens: shape === 'thoughts-in-output' ? c.output : c.output + c.thoughts,
    cacheCreationTokens: 0,
    cacheReadTokens: cacheRead,
    reasoningTokens: c.thoughts,
    totalTokens: 0,
  };
  usage.totalTokens = usage.inputTokens + usage.outputTokens + usage.cacheReadTokens;
  // A log total its own parts do not add up to is kept beside, not billed.
  return { usage, shape, logTotal: c.total > 0 && c.total !== usage.totalTokens ? c.total : null };
}

/** Text of a Gemini content value (a string, a part, or a list of parts); thought parts and non-text parts left out. */
export function partsText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  const parts = Array.isArray(v) ? v : v && typeof v === 'object' ? [v] : [];
  const out: string[] = [];
  for (const p of parts) {
    if (typeof p === 'string') out.push(p);
    else if (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' && (p as { thought?: unknown }).thought !== true) {
      out.push((p as { text: string }).text);
    }
  }
  return out.length ? out.join('\n') : null;
}
