/**
 * Reports: pure reads of the store, shared by the CLI (`stackunderflow report …`) and the
 * HTTP API. Every function takes an open Db and options, aggregates in SQL, and returns
 * plain JSON-ready objects (ccusage-compatible field names where they mean the same thing).
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
  SYNTHETIC_MODEL,
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
  type ReportMeta,
} from './reports.js';
export { listSessions, type SessionList, type SessionListOptions } from './sessions.js';
export { parseReportOptions, type ReportOptions, type RawReportOptions } from './options.js';
export {
  parseScope,
  formatScope,
  defaultScope,
  resolveScope,
  knownDevices,
  usageScopeSql,
  eventsScopeSql,
  type Scope,
  type ResolvedScope,
  type SqlFragment,
} from './scope.js';
export { priceFor, normalizeModel, costOf, type ModelPrice } from './pricing.js';
export { renderReport, renderSessionList, formatInt, formatCost, type FormatOptions } from './format.js';
export { defaultTimeZone, checkTimeZone } from './timezone.js';

export { blocksReport, activeBlock, currentWindow, type BlocksReport, type BlocksOptions, type BlockEntry, type CurrentWindow } from './blocks-report.js';
export { parseBlocksOptions } from './options.js';
export type { Weekday } from './periods.js';
