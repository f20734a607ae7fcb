/** The dashboard page: controls. */
import { state, summary, devices } from './state.js';
import { $ } from './helpers.js';

export function renderScopeOptions(): void {
  const sel = $<HTMLSelectElement>('#scope');
  const keep = sel.value;
  sel.replaceChildren();
  const self = devices?.devices.find((d) => d.local);
  sel.append(new Option(self?.name ? `This device (${self.name})` : 'This device', 'local'));
  sel.append(new Option('All devices', 'all'));
  for (const d of devices?.devices ?? []) {
    if (d.local) continue;
    sel.append(new Option(d.name ?? d.deviceId.slice(0, 8), `device:${d.deviceId}`));
  }
  sel.value = keep;
  syncControls();
}

/** Puts the state (and the scope the server resolved) into the controls. */
export function syncControls(): void {
  const sel = $<HTMLSelectElement>('#scope');
  const scope = summary?.meta.scope ?? state.scope;
  let value = scope || 'local';
  // A device named by the URL (id prefix or name) shows as the option of its id.
  if (![...sel.options].some((o) => o.value === value) && summary) value = summary.meta.scope;
  const self = devices?.devices.find((d) => d.local);
  if (self && value === `device:${self.deviceId}`) value = 'local';
  sel.value = value;
  $<HTMLInputElement>('#since').value = state.since;
  $<HTMLInputElement>('#until').value = state.until;
  $<HTMLInputElement>('#q').value = state.q;
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-metric]')) b.setAttribute('aria-pressed', String(b.dataset.metric === state.metric));
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-by]')) b.setAttribute('aria-pressed', String(b.dataset.by === state.by));
  const today = summary?.today;
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-range]')) {
    const r = b.dataset.range!;
    const on = r === 'all' ? !state.since && !state.until : !!today && state.until === today && state.since === shiftDay(today, 1 - Number(r));
    b.setAttribute('aria-pressed', String(on));
  }
}

export function shiftDay(date: string, days: number): string {
  const t = Date.parse(date + 'T00:00:00Z') + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

export function localToday(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
