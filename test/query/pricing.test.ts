import { describe, expect, it } from 'vitest';
import { costOf, normalizeModel, priceFor, responseCost } from '../../src/query/pricing.js';

describe('normalizeModel', () => {
  it.each([
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-opus-4-1-20250805', 'claude-opus-4-1'],
    ['anthropic/claude-opus-4-6', 'claude-opus-4-6'],
    ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'],
    ['us.anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5'],
    ['claude-haiku-4-5@20251001', 'claude-haiku-4-5'],
    ['claude-opus-4.5', 'claude-opus-4-5'],
    ['claude-sonnet-4-5[1m]', 'claude-sonnet-4-5'],
    ['claude-3-5-sonnet-20241022', 'claude-3-5-sonnet'],
    ['openai/gpt-5.1-codex-max', 'gpt-5.1-codex-max'],
    ['gpt-4.1-2025-04-14', 'gpt-4.1'],
    ['GPT-5-Codex', 'gpt-5-codex'],
    ['o3-2025-04-16', 'o3'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeModel(input)).toBe(expected);
  });
});

describe('priceFor', () => {
  it('knows current Claude and Codex models', () => {
    expect(priceFor('claude-opus-4-7')).toMatchObject({ input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.5 });
    expect(priceFor('claude-opus-4-1-20250805')).toMatchObject({ input: 15, output: 75 });
    expect(priceFor('claude-haiku-4-5-20251001')).toMatchObject({ input: 1, output: 5, cacheRead: 0.1 });
    expect(priceFor('gpt-5.3-codex')).toMatchObject({ input: 1.75, output: 14, cacheRead: 0.175, cacheWrite: 0 });
    expect(priceFor('gpt-5-codex')).toMatchObject({ input: 1.25, output: 10, cacheRead: 0.125 });
  });

  it('knows the models Copilot CLI, Gemini CLI and Qwen Code log, by the names they log', () => {
    // Copilot names Claude models with dots, and long-context variants with -1m
    expect(priceFor('claude-sonnet-4.5')).toBe(priceFor('claude-sonnet-4-5'));
    expect(priceFor('claude-opus-4.5-1m')).toBe(priceFor('claude-opus-4-5'));
    expect(priceFor('gpt-5.1-codex')).toMatchObject({ input: 1.25, output: 10 });
    expect(priceFor('gemini-2.5-pro')).toMatchObject({ input: 1.25, output: 10, cacheRead: 0.125, above: { threshold: 200_000, input: 2.5 } });
    expect(priceFor('gemini-3-pro-preview')).toMatchObject({ input: 2, output: 12 });
    expect(priceFor('gemini-2.5-flash')).toMatchObject({ input: 0.3, output: 2.5 });
    expect(priceFor('qwen3-coder-plus')).toMatchObject({ input: 1, output: 5 });
    // Qwen's free OAuth model and unknown names stay unpriced
    expect(priceFor('coder-model')).toBeNull();
    expect(priceFor('gemini-9-ultra')).toBeNull();
  });

  it('does not guess: near names are unpriced, not priced like their neighbour', () => {
    expect(priceFor('gpt-5.4-mini')).toBeNull();
    expect(priceFor('claude-opus-4-8')).toBeNull();
    expect(priceFor('totally-new-model')).toBeNull();
    expect(priceFor(null)).toBeNull();
    expect(priceFor('<synthetic>')).toBeNull();
  });

  it('prices fast mode with its multiplier only where one is known', () => {
    expect(priceFor('claude-opus-4-6-fast')).toMatchObject({ input: 30, output: 150 });
    expect(priceFor('claude-sonnet-4-5-fast')).toBeNull();
  });
});

describe('costOf', () => {
  it('Codex: non-cached input × input rate + cached × cached rate + output × output rate', () => {
    // A Codex turn of 1,000,000 input tokens of which 800,000 cached, 100,000 output:
    // stored as inputTokens 200,000 (non-cached), cacheReadTokens 800,000.
    const p = priceFor('gpt-5.3-codex')!;
    const cost = costOf({ inputTokens: 200_000, cacheReadTokens: 800_000, outputTokens: 100_000, cacheCreationTokens: 0 }, p);
    expect(cost).toBeCloseTo(0.2 * 1.75 + 0.8 * 0.175 + 0.1 * 14, 10);
  });

  it('Claude: all four token kinds at their rates', () => {
    const p = priceFor('claude-sonnet-4-5-20250929')!;
    const cost = costOf({ inputTokens: 1_000_000, outputTokens: 1_000_000, cacheCreationTokens: 1_000_000, cacheReadTokens: 1_000_000 }, p);
    expect(cost).toBeCloseTo(3 + 15 + 3.75 + 0.3, 10);
  });

  it("a long-context request bills all its tokens at the long-context rates (the API's rule, not ccusage's excess)", () => {
    const sonnet = 'claude-sonnet-4-5-20250929';
    // Prompt 10k + 195k = 205k > 200k: every token at $6 / $22.50 / $0.60, though no one kind passes 200k.
    expect(responseCost(sonnet, { inputTokens: 10_000, outputTokens: 2_000, cacheCreationTokens: 0, cacheReadTokens: 195_000 })).toBeCloseTo(0.06 + 0.045 + 0.117, 10);
    // One token less than the threshold: the base rates, $3 / $15 / $0.30.
    expect(responseCost(sonnet, { inputTokens: 4_999, outputTokens: 2_000, cacheCreationTokens: 0, cacheReadTokens: 195_000 })).toBeCloseTo(0.014997 + 0.03 + 0.0585, 10);
    // 1-hour writes of a long request: 2x the long-context input rate, $12; 5-minute ones $7.50.
    expect(responseCost(sonnet, { inputTokens: 1_000, outputTokens: 0, cacheCreationTokens: 250_000, cacheCreation1hTokens: 200_000, cacheReadTokens: 0 })).toBeCloseTo(0.006 + 2.4 + 0.375, 10);
    // The same shape on a model without long-context rates: unchanged by the rule.
    expect(responseCost('claude-opus-4-5', { inputTokens: 10_000, outputTokens: 2_000, cacheCreationTokens: 0, cacheReadTokens: 195_000 })).toBeCloseTo(0.05 + 0.05 + 0.0975, 10);
    // Gemini 2.5 Pro: a 250k prompt bills input at $2.50 and output at $15 for the whole request.
    expect(responseCost('gemini-2.5-pro', { inputTokens: 250_000, outputTokens: 1_000, cacheCreationTokens: 0, cacheReadTokens: 0 })).toBeCloseTo(0.625 + 0.015, 10);
  });

  it('long-context excess is charged the difference between tiers', () => {
    const p = priceFor('claude-sonnet-4-5')!;
    const base = costOf({ inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 300_000 }, p);
    const tiered = costOf({ inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 300_000, cacheReadAbove: 100_000 }, p);
    // 200k at 0.30/M + 100k at 0.60/M, as ccusage computes it.
    expect(base).toBeCloseTo(0.09, 10);
    expect(tiered).toBeCloseTo(0.06 + 0.06, 10);
  });
});
