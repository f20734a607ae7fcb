/** The dashboard page: search and conversations. */
import type { Conversation, SearchResult, Turn } from '../src/api/shapes.js';
import { writeState, state, devices } from './state.js';
import { $, el, fmtTime, deviceName, projectLabel, ApiError, api, scopeParams } from './helpers.js';
import { formatCost, formatInt } from '../src/util/units.js';

export async function runSearch(): Promise<void> {
  const panel = $('#search-panel');
  const list = $('#search-results');
  if (!state.q.trim()) {
    panel.hidden = true;
    list.replaceChildren();
    return;
  }
  panel.hidden = false;
  $('#search-summary').textContent = 'Searching…';
  list.replaceChildren();
  let r: SearchResult;
  try {
    r = await api<SearchResult>('/api/search', { q: state.q, ...scopeParams(), limit: '50' });
  } catch (err) {
    $('#search-summary').textContent = err instanceof ApiError ? err.message + (err.hint ? ` — ${err.hint}` : '') : 'search failed';
    return;
  }
  $('#search-summary').textContent = r.results.length === 0 ? `No match for ${state.q}` : `${r.results.length}${r.more ? '+' : ''} match${r.results.length === 1 ? '' : 'es'} for ${state.q}`;
  for (const h of r.results) {
    const li = el('li');
    li.dataset.session = h.sessionId;
    li.tabIndex = 0;
    const p = el('p', null, 'snippet');
    let at = 0;
    for (const [a, b] of h.highlights) {
      if (a > at) p.append(document.createTextNode(h.snippet.slice(at, a)));
      p.append(el('mark', h.snippet.slice(a, b)));
      at = b;
    }
    if (at < h.snippet.length) p.append(document.createTextNode(h.snippet.slice(at)));
    const where = el('div', `${h.role} · ${projectLabel(h.project)} · ${h.deviceName ?? h.deviceId.slice(0, 8)} · ${fmtTime(h.timestamp)} · ${h.provider}`, 'where');
    li.append(p, where);
    const open = () => void openSession(h.sessionId, true);
    li.addEventListener('click', open);
    li.addEventListener('keydown', (e) => e.key === 'Enter' && open());
    list.append(li);
  }
}

const TEXT_LIMIT = 3000;
/** Rows of the session list: the most recent sessions of the range. */
export const SESSION_ROWS = 50;

function turnNode(t: Turn): HTMLLIElement {
  const li = el('li', null, `turn ${t.role}${t.sidechain ? ' sidechain' : ''}`);
  const who = el('div', null, 'who');
  who.append(el('span', t.meta ? `${t.role} (context)` : t.role.replace('_', ' '), 'role'), el('span', fmtTime(t.timestamp)));
  if (t.model && t.role === 'assistant') who.append(el('span', t.model));
  if (devices && devices.devices.length > 1) who.append(el('span', deviceName(t.deviceId)));
  if (t.usage) who.append(el('span', `${formatInt(t.usage.totalTokens)} tokens · ${t.usage.cost === null ? 'unpriced' : formatCost(t.usage.cost)}`, 'usage'));
  li.append(who);
  const body = t.prose ?? (t.role === 'tool_call' || t.role === 'tool_result' ? null : t.text);
  if (body) {
    const p = el('p', null, 'text');
    if (body.length > TEXT_LIMIT) {
      p.textContent = body.slice(0, TEXT_LIMIT) + '…';
      const more = el('button', 'show all', 'link more');
      more.type = 'button';
      more.addEventListener('click', () => {
        p.textContent = body;
        more.remove();
      });
      li.append(p, more);
    } else {
      p.textContent = body;
      li.append(p);
    }
  }
  for (const tool of t.tools ?? []) li.append(el('p', `→ ${tool.name}(${tool.args})`, 'tool'));
  if (t.result) {
    const r = el('p', `← ${t.result.preview}${t.result.lines > 1 ? ` … (${formatInt(t.result.lines)} lines, ${formatInt(t.result.bytes)} bytes)` : ''}`, 'tool');
    if (t.result.error) r.classList.add('err');
    li.append(r);
  }
  return li;
}

let openSeq = 0;

export async function openSession(id: string, push: boolean): Promise<void> {
  const seq = ++openSeq;
  state.session = id;
  writeState(state, push);
  const dlg = $<HTMLDialogElement>('#conversation');
  $('#conv-title').textContent = id;
  $('#conv-meta').textContent = 'Loading…';
  $('#conv-totals').textContent = '';
  $('#conv-turns').replaceChildren();
  if (!dlg.open) dlg.showModal();
  let c: Conversation;
  try {
    c = await api<Conversation>(`/api/sessions/${encodeURIComponent(id)}`, { scope: state.scope || undefined });
  } catch (err) {
    if (seq === openSeq) $('#conv-meta').textContent = err instanceof ApiError ? err.message + (err.hint ? ` — ${err.hint}` : '') : 'could not load the session';
    return;
  }
  if (seq !== openSeq) return;
  const s = c.session;
  $('#conv-meta').textContent = `${s.provider} · ${projectLabel(s.project, s.projectPath)} · ${s.deviceIds.map(deviceName).join(', ')} · ${fmtTime(s.firstTimestamp)} → ${fmtTime(s.lastTimestamp)} · ${formatInt(s.events)} events`;
  const t = c.totals;
  $('#conv-totals').textContent = `${formatInt(t.requests)} requests · ${formatInt(t.totalTokens)} tokens · ${formatCost(t.totalCost)}${t.unpricedModels.length ? ` (+ unpriced: ${t.unpricedModels.join(', ')})` : ''} · ${t.modelsUsed.join(', ')}`;
  const frag = document.createDocumentFragment();
  for (const turn of c.turns) frag.append(turnNode(turn));
  $('#conv-turns').replaceChildren(frag);
}

export function closeSession(): void {
  const dlg = $<HTMLDialogElement>('#conversation');
  if (dlg.open) dlg.close();
  if (state.session) {
    state.session = '';
    writeState(state, true);
  }
}
