/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core (which never
 * downloads a browser), against the real server on 127.0.0.1:0 serving a store that holds three
 * devices merged by the real sync. Every request the page makes is recorded and every console
 * message kept: the page must stay on 127.0.0.1 and log no error.
 *
 * Without /usr/bin/chromium (or $STACKUNDERFLOW_CHROMIUM) this test fails: install it with
 * `apt-get install -y --no-install-recommends chromium fonts-dejavu-core` (`npm test` does, as root).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { CONTENT_SECURITY_POLICY } from '../../src/api/routes/web.js';
import { Device } from '../helpers/devices.js';
import { buildWeb, int, logText, threeSyncedDevices, usd, type ThreeDevices } from './store.js';

const CHROMIUM = process.env.STACKUNDERFLOW_CHROMIUM ?? '/usr/bin/chromium';
const LAUNCH_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/**
 * The page's screenshot: into a temp folder, so a test run leaves the tree as it was; into the
 * README's image only when asked (`npm run docs:screenshot` sets STACKUNDERFLOW_SCREENSHOT).
 */
const SCREENSHOT = process.env.STACKUNDERFLOW_SCREENSHOT
  ? resolve(process.env.STACKUNDERFLOW_SCREENSHOT)
  : join(mkdtempSync(join(tmpdir(), 'su-dashboard-')), 'dashboard.png');
/** Said once, in one prompt of one fixture log, which the desktop alone holds. */
const PHRASE = 'music should have overlapping';

let t: ThreeDevices;
let server: RunningServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no browser at ${CHROMIUM}: the dashboard's browser tests need Debian's Chromium. ` +
        'Install it with `apt-get install -y --no-install-recommends chromium fonts-dejavu-core` (or set STACKUNDERFLOW_CHROMIUM to a Chromium binary).',
    );
  }
  buildWeb();
  t = await threeSyncedDevices();
  server = await startServer({ storePath: t.laptop.storeFile, host: '127.0.0.1', port: 0, env: t.laptop.env, onInternalError: (e) => problems.push(`server: ${String(e)}`) });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC', locale: 'en-US', colorScheme: 'light' });
  page = await context.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // A reload cancels what is still in flight (the browser's favicon fetch, say): that is the
  // navigation's doing, not a failure. Anything else (refused, reset) is.
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
});

// Each test answers for the console errors and failed requests that happen during it.
beforeEach(() => {
  problems.length = 0;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The API's answer, fetched from the same server the page talks to. */
async function api(path: string): Promise<any> {
  const res = await fetch(server.url + path);
  expect(res.status, path).toBe(200);
  return res.json();
}

/** Waits until the page has finished its latest refresh (every panel redrawn). */
async function settled(): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.rendered !== undefined && !document.body.hasAttribute('aria-busy'), null, { timeout: 30_000 });
}

/** The totals as the page shows them. */
async function shownTotals(): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const out: Record<string, string> = {};
    for (const n of document.querySelectorAll<HTMLElement>('[data-exact]')) if (n.dataset.exact !== 'totalCost') out[n.dataset.exact!] = n.textContent ?? '';
    out.totalCost = document.querySelector<HTMLElement>('[data-total=totalCost]')!.textContent ?? '';
    out.totalCostValue = document.querySelector<HTMLElement>('[data-total=totalCost]')!.dataset.value ?? '';
    return out;
  });
}

/** What the totals must read for the API's daily report under `qs`. */
async function expectedTotals(qs: string): Promise<{ shown: Record<string, string>; cost: number }> {
  const d = await api(`/api/reports/daily?${qs}`);
  expect(d.daily.length, `the API has days for ${qs}`).toBeGreaterThan(0);
  const tok = (k: string) => `${int(d.totals[k])} tokens`;
  return {
    shown: {
      totalTokens: tok('totalTokens'),
      inputTokens: tok('inputTokens'),
      outputTokens: tok('outputTokens'),
      cacheCreationTokens: tok('cacheCreationTokens'),
      cacheReadTokens: tok('cacheReadTokens'),
      totalCost: usd(d.totals.totalCost),
    },
    cost: d.totals.totalCost,
  };
}

async function expectTotalsOf(qs: string): Promise<void> {
  const want = await expectedTotals(qs);
  const got = await shownTotals();
  const { totalCostValue, ...shown } = got;
  expect(shown, qs).toEqual(want.shown);
  expect(Math.abs(Number(totalCostValue) - want.cost), qs).toBeLessThan(1e-9);
}

/** Sum of the chart legend's values (each series' total over the range). */
async function legendSum(): Promise<number> {
  return page.evaluate(() => [...document.querySelectorAll('.legend-value')].reduce((a, n) => a + Number((n.textContent ?? '').replace(/[$,]/g, '')), 0));
}

describe('the dashboard in Chromium, over three synced devices', () => {
  it('loads with no console error, every request to 127.0.0.1, and the API\'s totals', async () => {
    const res = await page.goto(server.url + '/');
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    await settled();
    // Three devices are synced: the default scope is all of them.
    expect(await page.inputValue('#scope')).toBe('all');
    await expectTotalsOf('scope=all');
    // The chart stacks every token of the range.
    const all = await api('/api/reports/daily?scope=all');
    expect(await legendSum()).toBe(all.totals.totalTokens);
    // Models and projects tables hold the reports' rows.
    const models = await api('/api/reports/model?scope=all');
    expect(await page.locator('#models tbody tr').count()).toBe(models.models.length);
    expect(await page.locator('#models tbody tr td:first-child').allTextContents()).toEqual(models.models.map((m: any) => m.modelName));
    // Each model names its agent, each project the agents that worked in it.
    expect(await page.locator('#models tbody tr td:nth-child(2)').allTextContents()).toEqual(models.models.map((m: any) => m.provider));
    const projects = await api('/api/reports/project?scope=all');
    expect(await page.locator('#projects tbody tr').count()).toBe(projects.projects.length);
    expect(await page.locator('#projects tbody tr td:nth-child(2)').allTextContents()).toEqual(projects.projects.map((p: any) => p.providers.join(', ')));
    // The Devices panel: three devices, this one marked, sync on.
    const rows = await page.locator('#devices tbody tr td:first-child').allTextContents();
    expect(rows).toEqual(['laptopthis device', 'desktop', 'devbox']);
    expect(await page.textContent('#sync')).toMatch(/^Sync is on · file:\/\//);
    const conflicts = await page.locator('#devices tbody tr td:last-child').allTextContents();
    expect(conflicts[1]).toBe('0');
    expect(Number(conflicts[0])).toBeGreaterThan(0);

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(readFileSync(SCREENSHOT).subarray(1, 4).toString()).toBe('PNG');

    expect(problems).toEqual([]);
    expect(requests.length).toBeGreaterThan(5);
    expect(requests.filter((u) => !u.startsWith(server.url + '/'))).toEqual([]);
  });

  it('switching scope and range changes every number to the API\'s for that scope and range', async () => {
    await page.selectOption('#scope', 'local');
    await settled();
    expect(page.url()).toContain('scope=local');
    await expectTotalsOf('scope=local');
    expect(await page.locator('#devices tbody tr.selected td:first-child').textContent()).toBe('laptopthis device');

    await page.selectOption('#scope', `device:${t.ids.desktop}`);
    await settled();
    await expectTotalsOf(`scope=device:${t.ids.desktop}`);
    const desktopSessions = await api(`/api/sessions?scope=device:${t.ids.desktop}`);
    expect(await page.locator('#sessions tbody tr').count()).toBe(Math.min(50, desktopSessions.sessions.length));

    // A range with data on this device: its first and last days in the API's daily report.
    const days = (await api(`/api/reports/daily?scope=device:${t.ids.desktop}`)).daily.map((d: any) => d.date);
    expect(days.length).toBeGreaterThan(2);
    const [since, until] = [days[1], days[days.length - 2]];
    await page.fill('#since', since);
    await page.fill('#until', until);
    await settled();
    expect(new URL(page.url()).searchParams.get('since')).toBe(since);
    expect(new URL(page.url()).searchParams.get('until')).toBe(until);
    await expectTotalsOf(`scope=device:${t.ids.desktop}&since=${since}&until=${until}`);
    const all = await expectedTotals(`scope=device:${t.ids.desktop}`);
    expect((await shownTotals()).totalTokens).not.toBe(all.shown.totalTokens);

    // By device and by cost: one series for the one device, summing to the range's cost.
    await page.click('[data-by=device]');
    await page.click('[data-metric=cost]');
    expect(await page.locator('.legend-label').allTextContents()).toEqual(['desktop']);
    expect(new URL(page.url()).searchParams.get('by')).toBe('device');

    // Everything is in the URL: a reload restores the same view and numbers.
    const before = await shownTotals();
    await page.reload();
    await settled();
    expect(await page.inputValue('#scope')).toBe(`device:${t.ids.desktop}`);
    expect(await page.inputValue('#since')).toBe(since);
    expect(await page.inputValue('#until')).toBe(until);
    expect(await page.getAttribute('[data-metric=cost]', 'aria-pressed')).toBe('true');
    expect(await shownTotals()).toEqual(before);

    // Back to all devices and all time.
    await page.selectOption('#scope', 'all');
    await settled();
    await page.click('[data-range=all]');
    await settled();
    expect(new URL(page.url()).searchParams.has('since')).toBe(false);
    await expectTotalsOf('scope=all');
    expect(await page.locator('.legend-label').allTextContents()).toEqual(expect.arrayContaining(['laptop', 'desktop', 'devbox']));
    expect(problems).toEqual([]);
  });

  it('search finds a phrase that only one device\'s logs contain, and opens its session', async () => {
    expect(logText(t.desktop)).toContain(PHRASE);
    expect(logText(t.laptop)).not.toContain(PHRASE);
    expect(logText(t.devbox)).not.toContain(PHRASE);

    await page.fill('#q', `"${PHRASE}"`);
    await page.click('#search-form button[type=submit]');
    await page.waitForSelector('#search-results li');
    const hits = page.locator('#search-results li');
    expect(await hits.count()).toBeGreaterThanOrEqual(1);
    const first = hits.first();
    expect((await first.locator('mark').allTextContents()).join(' ').toLowerCase()).toBe(PHRASE);
    expect(await first.locator('.where').textContent()).toContain('desktop');
    expect(new URL(page.url()).searchParams.get('q')).toBe(`"${PHRASE}"`);

    // This device alone has never seen it.
    await page.selectOption('#scope', 'local');
    await settled();
    await page.waitForFunction(() => /No match/.test(document.querySelector('#search-summary')?.textContent ?? ''));
    await page.selectOption('#scope', 'all');
    await settled();
    await page.waitForSelector('#search-results li');

    const sessionId = await page.locator('#search-results li').first().getAttribute('data-session');
    await page.locator('#search-results li').first().click();
    await page.waitForFunction(() => document.querySelectorAll('#conv-turns li').length > 0);
    expect(await page.textContent('#conv-title')).toBe(sessionId);
    expect((await page.textContent('#conv-turns'))!.toLowerCase()).toContain(PHRASE);
    expect(await page.textContent('#conv-meta')).toContain('desktop');
    expect(new URL(page.url()).searchParams.get('session')).toBe(sessionId);
    await page.click('#conv-close');
    expect(await page.evaluate(() => (document.querySelector('#conversation') as HTMLDialogElement).open)).toBe(false);
    expect(new URL(page.url()).searchParams.has('session')).toBe(false);
    expect(problems).toEqual([]);
  });

  it('opens a session from the session list as a conversation with its totals', async () => {
    await page.click('#search-close');
    const list = await api('/api/dashboard/sessions?scope=all&limit=1');
    const top = list.sessions[0];
    const row = page.locator('#sessions tbody tr').first();
    expect(await row.getAttribute('data-session')).toBe(top.sessionId);
    await row.locator('button').click();
    await page.waitForFunction(() => document.querySelectorAll('#conv-turns li').length > 0);
    const conv = await api(`/api/sessions/${top.sessionId}?scope=all`);
    expect(await page.textContent('#conv-title')).toBe(top.sessionId);
    expect(await page.locator('#conv-turns > li').count()).toBe(conv.turns.length);
    expect(await page.textContent('#conv-totals')).toContain(`${int(conv.totals.totalTokens)} tokens · ${usd(conv.totals.totalCost)}`);
    // Escape closes it, as any dialog.
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !(document.querySelector('#conversation') as HTMLDialogElement).open);

    expect(problems).toEqual([]);
    expect(requests.filter((u) => !u.startsWith(server.url + '/'))).toEqual([]);
  });

  it('shows "sync is off" and the command that turns it on, on a machine that never synced', async () => {
    const solo = new Device('solo');
    solo.addClaudeProjects('-app');
    await solo.ingest();
    const other = await startServer({ storePath: solo.storeFile, port: 0, env: solo.env });
    try {
      const p = await context.newPage();
      const seen: string[] = [];
      p.on('request', (r) => seen.push(r.url()));
      p.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
      await p.goto(other.url + '/');
      await p.waitForFunction(() => document.body.dataset.rendered !== undefined && !document.body.hasAttribute('aria-busy'));
      expect(await p.textContent('#sync')).toContain('Sync is off.');
      expect(await p.textContent('#sync code')).toBe('stackunderflow sync init --bucket s3://BUCKET[/prefix]');
      expect(await p.inputValue('#scope')).toBe('local');
      expect(seen.filter((u) => !u.startsWith(other.url + '/'))).toEqual([]);
      await p.close();
    } finally {
      await other.close();
    }
    expect(problems).toEqual([]);
  });
});
