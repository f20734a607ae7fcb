/** The dashboard page: helpers. */
import { state, devices } from './state.js';
import { formatCost, formatInt } from '../src/util/units.js';

export function $<T extends HTMLElement = HTMLElement>(sel: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`missing element ${sel}`);
  return el;
}

/** Creates an element with text content and classes; never parses HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string | null, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** 1234567 → "1.23M". */
export function fmtCompact(n: number): string {
  const a = Math.abs(n);
  const units: Array<[number, string]> = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
  for (const [v, u] of units) if (a >= v) return (n / v).toFixed(a / v >= 100 ? 0 : a / v >= 10 ? 1 : 2) + u;
  return formatInt(n);
}

export function fmtCostShort(n: number): string {
  if (n >= 10_000) return '$' + fmtCompact(n);
  return formatCost(n);
}

export function ago(iso: string | null): string {
  if (!iso) return 'never';
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!Number.isFinite(s)) return 'unknown';
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** "2026-03-02 09:00" in the browser's zone (the machine's own zone, like the server's default). */
export function fmtTime(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function deviceName(id: string): string {
  const d = devices?.devices.find((x) => x.deviceId === id);
  return d?.name ?? id.slice(0, 8);
}

export function projectLabel(slug: string, path?: string | null): string {
  return path ?? slug;
}

export class ApiError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

export async function api<T>(path: string, params: Record<string, string | undefined> = {}): Promise<T> {
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) if (v) u.searchParams.set(k, v);
  const res = await fetch(u, { headers: { accept: 'application/json' }, cache: 'no-store' });
  const body = (await res.json().catch(() => null)) as ({ error?: { message: string; hint?: string } } & T) | null;
  if (!res.ok || body === null) {
    const e = body?.error;
    throw new ApiError(e?.message ?? `request failed (${res.status})`, e?.hint);
  }
  return body;
}

/** What a thrown value says: an Error's message (with an API error's hint), else the value as text. */
function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message + (err.hint ? ` — ${err.hint}` : '');
  return err instanceof Error ? err.message : String(err);
}

export function showError(err: unknown): void {
  const box = $('#error');
  if (err === null) {
    box.hidden = true;
    box.textContent = '';
    return;
  }
  box.textContent = errorText(err);
  box.hidden = false;
}

export function scopeParams(): Record<string, string | undefined> {
  return { scope: state.scope || undefined, since: state.since || undefined, until: state.until || undefined };
}

/** Resolves after the browser has laid out and painted what was just put in the DOM. */
export function nextPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}
