/**
 * Typed errors. Every failure a user can cause or meet has a code, a message that
 * says what happened, and a hint that names what to do next. The CLI maps codes to
 * exit codes in one place (`exitCodeFor`), the API maps them to HTTP statuses in one
 * place (src/api).
 */
export type ErrorCode =
  | 'USAGE' // bad command-line input or query parameter
  | 'CONFIG' // missing/invalid configuration (sync not initialised, bad bucket URL, ...)
  | 'KEY' // wrong, missing or unsafe sync key
  | 'UNREACHABLE' // bucket cannot be reached; work was queued
  | 'INTEGRITY' // tampered, truncated, replayed or otherwise invalid object/data
  | 'CONFLICT' // a concurrent writer won (conditional write failed)
  | 'LOCKED' // another process holds the lock
  | 'NOT_FOUND' // an object, session or file that was asked for does not exist
  | 'STORE' // the local database could not be opened or migrated
  | 'INTERNAL';

export class SuError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SuError';
    this.code = code;
    this.hint = opts.hint;
  }
}

/** Documented exit codes: 0 ok, 1 anything else, 2 configuration/key, 3 bucket unreachable (work queued), 4 integrity, 64 usage (bad arguments or input). */
const EXIT = { OK: 0, OTHER: 1, CONFIG: 2, UNREACHABLE: 3, INTEGRITY: 4, USAGE: 64 } as const;

export function exitCodeFor(err: unknown): number {
  if (!(err instanceof SuError)) return EXIT.OTHER;
  switch (err.code) {
    case 'CONFIG':
    case 'KEY':
      return EXIT.CONFIG;
    case 'UNREACHABLE':
      return EXIT.UNREACHABLE;
    case 'INTEGRITY':
      return EXIT.INTEGRITY;
    case 'USAGE':
      return EXIT.USAGE;
    default:
      return EXIT.OTHER;
  }
}

/** True for failures worth retrying later (network, 5xx, lock held); false for wrong keys and corruption. */
export function isRetryable(err: unknown): boolean {
  return err instanceof SuError && (err.code === 'UNREACHABLE' || err.code === 'LOCKED' || err.code === 'CONFLICT');
}

/** What a thrown value says: an Error's message, else the value as text (a thrown string, say). */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
