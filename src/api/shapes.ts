/**
 * The JSON the dashboard page reads, as one contract between the server and web/: the routes
 * pass their values through these types (`c.json<T>`), so a server change that drops or retypes
 * a field fails `tsc`, and web/ imports them (`import type`), so a change here that the page
 * does not follow fails `npm run build`.
 *
 * No imports, on purpose: web/ is compiled apart from src/ (scripts/build-web.mjs, DOM types
 * only), and this module must compile there alone. Agent names are therefore plain strings here.
 *
 * The dashboard's own endpoints (summary, sessions, devices) are declared in full. Endpoints the
 * page shares with the CLI (search, a session's conversation, the current window) are declared
 * as the fields the page reads; their full types live with their modules (src/search,
 * src/reports/blocks-report.ts).
 */

/** What a report covered, echoed beside its numbers. */
interface ReportMeta {
  timezone: string;
  scope: string;
  since: string | null;
  until: string | null;
  project: string | null;
  provider: string | null;
}

/** One stacked series: a model or a device, its tokens and cost per day of `days`. */
export interface DashboardSeries {
  key: string;
  label: string;
  tokens: number[];
  cost: number[];
  totalTokens: number;
  totalCost: number;
}

/** One row of the models table: a model's usage in the range. */
interface DashboardModel {
  modelName: string;
  provider: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  totalTokens: number;
  /** null when the model has no price. */
  totalCost: number | null;
}

/** One row of the projects table: a project's usage in the range. */
interface DashboardProject {
  project: string;
  projectPath: string | null;
  providers: string[];
  /** Sessions with billed usage in the range. */
  sessions: number;
  requests: number;
  totalTokens: number;
  totalCost: number;
  /** Local date of the project's last billed request in the range. */
  lastActivity: string;
}

/** The range's totals: a report's totals (UsageTotals in src/reports/reports.ts, restated here because web/ compiles this file alone; the routes' check keeps the two in step), plus requests, sessions and projects. */
export interface DashboardTotals {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  totalCost: number;
  totalTokens: number;
  reasoningTokens: number;
  /** Models with usage but no price: `totalCost` excludes their usage. */
  unpricedModels: string[];
  unpricedTokens: number;
  requests: number;
  sessions: number;
  projects: number;
}

/**
 * GET /api/dashboard/summary: everything the charts, totals and the models and projects tables
 * need under the scope and range. Same usage rows, same union rule, same accumulator and prices
 * as the reports, so the totals are those of `/api/reports/daily`.
 */
export interface DashboardSummary {
  meta: ReportMeta;
  /** Today in the report's zone: the page's range presets count back from it. */
  today: string;
  /** First and last local day with billed usage in scope (ignoring the range); null when none. */
  dataSpan: { first: string; last: string } | null;
  /** The chart's x axis: every day of the range (or of the data, without a range). */
  days: string[];
  totals: DashboardTotals;
  byModel: DashboardSeries[];
  byDevice: DashboardSeries[];
  models: DashboardModel[];
  projects: DashboardProject[];
}

/** One row of the dashboard's session list. */
interface DashboardSession {
  sessionId: string;
  provider: string;
  project: string;
  /** The project's working directory as logged, when known. */
  projectPath: string | null;
  firstTimestamp: string;
  lastTimestamp: string;
  lastActivity: string;
  /**
   * Devices holding a copy of the session's events (in scope). Under `all` a session mounted on
   * two machines names both, where `/api/sessions` names only the devices whose copies won.
   */
  deviceIds: string[];
  /** The whole session's billed usage under the scope (as `/api/sessions`), whatever the range. */
  totalTokens: number;
  totalCost: number;
  requests: number;
  modelsUsed: string[];
  unpricedModels: string[];
}

/** GET /api/dashboard/sessions: the most recent sessions active in the range. */
export interface DashboardSessions {
  sessions: DashboardSession[];
  /** Sessions active in the range, of which `sessions` are the most recent. */
  total: number;
  meta: ReportMeta & { limit: number };
}

/** One device in the Devices panel. */
export interface DashboardDevice {
  deviceId: string;
  name: string | null;
  /** This machine. */
  local: boolean;
  /** Events stored under this origin device. */
  events: number;
  sessions: number;
  /** Newest event timestamp from this device. */
  lastEvent: string | null;
  /** Peers: when we last pulled from it, and when it last pushed (its manifest's time), as of that pull. */
  lastPulled: string | null;
  lastPush: string | null;
  /** This device's events whose identity another device also holds (the union counts them once). */
  conflicts: number;
}

/** GET /api/devices: every device the store knows, and this machine's sync status. No secrets. */
export interface DashboardDevices {
  devices: DashboardDevice[];
  sync: {
    enabled: boolean;
    deviceName: string | null;
    bucket: string | null;
    lastSyncTime: string | null;
    pendingEvents: number;
    queuedSegments: number;
    conflictCount: number;
    lastError: { time: string; op: string; message: string | null } | null;
    /** The one command that turns sync on, when it is off. */
    enableCommand: string | null;
  };
}

/** GET /api/dashboard/window: the current 5-hour window (the fields the page reads). */
export interface CurrentWindow {
  block: {
    startTime: string;
    endTime: string;
    totalTokens: number;
    costUSD: number;
    remainingMinutes: number | null;
    projection: { totalTokens: number; totalCost: number } | null;
  } | null;
}

/** One search hit (the fields the page reads). */
interface SearchHit {
  sessionId: string;
  provider: string;
  project: string;
  deviceId: string;
  deviceName: string | null;
  timestamp: string;
  role: string;
  snippet: string;
  highlights: Array<[number, number]>;
}

/** GET /api/search (the fields the page reads). */
export interface SearchResult {
  results: SearchHit[];
  more: boolean;
}

/** One turn of a conversation (the fields the page reads). */
export interface Turn {
  timestamp: string;
  role: string;
  deviceId: string;
  model: string | null;
  sidechain: boolean;
  meta: boolean;
  text: string | null;
  tools?: Array<{ name: string; args: string }>;
  prose?: string;
  result?: { preview: string; bytes: number; lines: number; error: boolean };
  usage?: { model: string | null; totalTokens: number; cost: number | null };
}

/** GET /api/sessions/:id: a session's conversation (the fields the page reads). */
export interface Conversation {
  session: { sessionId: string; provider: string; project: string; projectPath: string | null; deviceIds: string[]; firstTimestamp: string; lastTimestamp: string; events: number };
  turns: Turn[];
  totals: { totalTokens: number; totalCost: number; requests: number; modelsUsed: string[]; unpricedModels: string[] };
}
