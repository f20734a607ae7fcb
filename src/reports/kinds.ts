/**
 * The report names, apart from the reports themselves: the CLI defines its commands from
 * this list before it knows which one runs, and must not load the report code to do so.
 */
export type ReportKind = 'daily' | 'weekly' | 'monthly' | 'session' | 'project' | 'model';
export const REPORT_KINDS: readonly ReportKind[] = ['daily', 'weekly', 'monthly', 'session', 'project', 'model'];
