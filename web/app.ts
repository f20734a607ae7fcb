/**
 * The stackunderflow dashboard: one page over the local API (same origin, read-only).
 *
 * State lives in the URL (scope, since, until, by, metric, q, session), so a reload or a shared
 * link restores the view. Every change of scope or range refetches the aggregated numbers
 * (`/api/dashboard/summary`, `/api/dashboard/sessions`) and redraws every panel together; the
 * metric and stacking toggles redraw from what is already loaded. Text from the store is only
 * ever put into the page as text nodes (never as HTML).
 *
 * Each full render is recorded as a `su:render` performance measure (from the triggering input,
 * or navigation start for the first, to the frame after the DOM was updated), split into
 * `su:fetch` and `su:draw`: the benchmark reads them.
 */
import type { CurrentWindow, DashboardDevices as Devices, DashboardSessions as Sessions, DashboardSummary as Summary } from '../src/api/shapes.js';
import { reloadState, setDevices, setSummary, writeState, state, summary } from './state.js';
import { $, api, showError, scopeParams, nextPaint } from './helpers.js';
import { renderScopeOptions, syncControls, shiftDay, localToday } from './controls.js';
import { renderTotals, renderWindow, renderChart, resizeChart, renderModels, renderProjects, renderSessions, renderDevices, renderFooter } from './panels.js';
import { runSearch, SESSION_ROWS, openSession, closeSession } from './search.js';

// Loading.

/** Increments on each refresh: a slower, older answer never overwrites a newer one. */
let generation = 0;

/**
 * Refetches everything that depends on scope and range and redraws every panel together.
 * `started` is when the triggering input happened (performance.now()), for the render measure;
 * `also` is other loading the render waits for (the device list, on the first render).
 */
export async function refresh(started: number, also?: Promise<unknown>): Promise<void> {
  const gen = ++generation;
  document.body.setAttribute('aria-busy', 'true');
  const params = scopeParams();
  let fetched = 0;
  try {
    const [s, list, win] = await Promise.all([
      api<Summary>('/api/dashboard/summary', params),
      api<Sessions>('/api/dashboard/sessions', { ...params, limit: String(SESSION_ROWS) }),
      // The window is now's, whatever the range: only the scope applies.
      api<CurrentWindow>('/api/dashboard/window', { scope: params.scope }),
      also,
    ]);
    if (gen !== generation) return;
    fetched = performance.now();
    setSummary(s);
    showError(null);
    renderTotals(s.totals, s.days.length);
    renderWindow(win);
    renderChart();
    renderModels(s);
    renderProjects(s);
    renderSessions(list, (id) => void openSession(id, true));
    renderDevices(setScope);
    renderFooter(s);
    syncControls();
  } catch (err) {
    if (gen !== generation) return;
    showError(err);
  }
  await nextPaint();
  if (gen !== generation) return;
  document.body.removeAttribute('aria-busy');
  document.body.dataset.rendered = String(gen);
  const end = performance.now();
  performance.measure('su:render', { start: started, end });
  // The two halves: waiting for the numbers, then drawing them.
  if (fetched) {
    performance.measure('su:fetch', { start: started, end: fetched });
    performance.measure('su:draw', { start: fetched, end });
  }
}

export function setScope(scope: string): void {
  const started = performance.now();
  state.scope = scope;
  writeState(state, true);
  syncControls();
  void refresh(started);
  if (state.q) void runSearch();
}

function setRange(since: string, until: string, started = performance.now()): void {
  if (since && until && since > until) [since, until] = [until, since];
  state.since = since;
  state.until = until;
  writeState(state, true);
  syncControls();
  void refresh(started);
  if (state.q) void runSearch();
}

function wire(): void {
  $<HTMLSelectElement>('#scope').addEventListener('change', (e) => setScope((e.target as HTMLSelectElement).value));
  const onDate = () => setRange($<HTMLInputElement>('#since').value, $<HTMLInputElement>('#until').value);
  $('#since').addEventListener('change', onDate);
  $('#until').addEventListener('change', onDate);
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-range]')) {
    b.addEventListener('click', () => {
      const r = b.dataset.range!;
      if (r === 'all') return setRange('', '');
      const today = summary?.today ?? localToday();
      setRange(shiftDay(today, 1 - Number(r)), today);
    });
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-metric]')) {
    b.addEventListener('click', () => {
      state.metric = b.dataset.metric === 'cost' ? 'cost' : 'tokens';
      writeState(state, false);
      syncControls();
      renderChart();
    });
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-by]')) {
    b.addEventListener('click', () => {
      state.by = b.dataset.by === 'device' ? 'device' : 'model';
      writeState(state, false);
      syncControls();
      renderChart();
    });
  }
  $('#search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.q = $<HTMLInputElement>('#q').value.trim();
    writeState(state, true);
    void runSearch();
  });
  $('#search-close').addEventListener('click', () => {
    state.q = '';
    writeState(state, true);
    syncControls();
    void runSearch();
  });
  $('#conv-close').addEventListener('click', closeSession);
  // Esc closes the dialog natively; keep the URL in step.
  $<HTMLDialogElement>('#conversation').addEventListener('close', () => {
    if (state.session) {
      state.session = '';
      writeState(state, true);
    }
  });
  window.addEventListener('popstate', () => {
    const prev = reloadState();
    syncControls();
    if (prev.scope !== state.scope || prev.since !== state.since || prev.until !== state.until) void refresh(performance.now());
    else renderChart();
    if (prev.q !== state.q || prev.scope !== state.scope || prev.since !== state.since || prev.until !== state.until) void runSearch();
    if (state.session && state.session !== prev.session) void openSession(state.session, false);
    else if (!state.session) {
      const dlg = $<HTMLDialogElement>('#conversation');
      if (dlg.open) dlg.close();
    }
  });
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => {
      resizeChart();
    }, 100);
  });
}

async function start(): Promise<void> {
  wire();
  syncControls();
  // The device list (names for the scope menu) comes with the first numbers, not before them.
  const devs = api<Devices>('/api/devices').then((d) => {
    setDevices(d);
    renderScopeOptions();
  });
  await refresh(0, devs);
  if (state.q) void runSearch();
  if (state.session) void openSession(state.session, false);
}

void start();
