/**
 * Reports: pure reads of the store, shared by the CLI (`stackunderflow report …`) and the
 * HTTP API. Every function takes an open Db and options, aggregates in SQL, and returns
 * plain JSON-ready objects (ccusage-compatible field names where they mean the same thing).
 * What they are asked (options, scope, time zone, prices) is src/query, shared with search.
 */
export {
  dailyReport,
  weeklyReport,
  monthlyReport,
  sessionReport,
  projectReport,
  modelReport,
  runReport,
  storeIsEmpty,
  REPORT_KINDS,
  type ReportKind,
  type AnyReport,
  type DailyReport,
  type DailyEntry,
  type WeeklyReport,
  type WeeklyEntry,
  type MonthlyReport,
  type MonthlyEntry,
  type SessionReport,
  type SessionEntry,
  type ProjectReport,
  type ProjectEntry,
  type ModelReport,
  type ModelEntry,
  type ModelBreakdown,
  type UsageTotals,
  type DeviceShare,
} from './reports.js';
export { listSessions, type SessionList, type SessionListOptions } from './sessions.js';
export { renderReport, renderSessionList, type FormatOptions } from './format.js';
export {
  blocksReport,
  activeBlock,
  currentWindow,
  parseBlocksOptions,
  type BlocksReport,
  type BlocksOptions,
  type BlockEntry,
  type CurrentWindow,
} from './blocks-report.js';
