/** The dashboard page: state, kept in the URL. */
import type { DashboardDevices as Devices, DashboardSummary as Summary } from '../src/api/shapes.js';

export type Metric = 'tokens' | 'cost';
type By = 'model' | 'device';

interface State {
  /** '' = the server's default (all once other devices are synced, else local). */
  scope: string;
  since: string;
  until: string;
  by: By;
  metric: Metric;
  q: string;
  session: string;
}

function readState(): State {
  const p = new URLSearchParams(location.search);
  const date = (v: string | null) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : '');
  return {
    scope: p.get('scope') ?? '',
    since: date(p.get('since')),
    until: date(p.get('until')),
    by: p.get('by') === 'device' ? 'device' : 'model',
    metric: p.get('metric') === 'cost' ? 'cost' : 'tokens',
    q: p.get('q') ?? '',
    session: p.get('session') ?? '',
  };
}

export function writeState(s: State, push: boolean): void {
  const p = new URLSearchParams();
  if (s.scope) p.set('scope', s.scope);
  if (s.since) p.set('since', s.since);
  if (s.until) p.set('until', s.until);
  if (s.by !== 'model') p.set('by', s.by);
  if (s.metric !== 'tokens') p.set('metric', s.metric);
  if (s.q) p.set('q', s.q);
  if (s.session) p.set('session', s.session);
  const qs = p.toString();
  const url = location.pathname + (qs ? '?' + qs : '');
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

export let state = readState();
export let summary: Summary | null = null;
export let devices: Devices | null = null;

/** Rereads the state from the URL (after the browser's back or forward); returns the one before. */
export function reloadState(): State {
  const prev = state;
  state = readState();
  return prev;
}

/** Keeps the numbers now shown, which the controls and panels read. */
export function setSummary(s: Summary): void {
  summary = s;
}

/** Keeps the device list (names for the scope menu and the Devices panel). */
export function setDevices(d: Devices): void {
  devices = d;
}
