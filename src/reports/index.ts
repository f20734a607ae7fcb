/**
 * Reports: pure reads of the store, shared by the CLI (`stackunderflow report …`) and the
 * HTTP API. Every function takes an open Db and options, aggregates in SQL, and returns
 * plain JSON-ready objects (ccusage-compatible field names where they mean the same thing).
 * What they are asked (options, scope, time zone, prices) is src/query, shared with search.
 */
export {
  dailyReport,
  monthlyReport,
  sessionReport,
  projectReport,
  modelReport,
  runReport,
  type SessionEntry,
} from './reports.js';
export { REPORT_KINDS } from './kinds.js';
export { listSessions } from './sessions.js';
export { renderReport } from './format.js';
export { blocksReport, currentWindow, parseBlocksOptions } from './blocks-report.js';
