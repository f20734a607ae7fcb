import { HTTPException } from 'hono/http-exception';
import { SuError } from '../errors.js';

/**
 * A request whose Host header names something other than the address we are bound to:
 * the signature of a DNS-rebinding attempt. Kept apart from SuError because it is a
 * property of the request's origin, not a failure any command can meet.
 */
export class HostRejected extends Error {
  constructor(readonly host: string | undefined) {
    super('request rejected: Host header does not name this server');
    this.name = 'HostRejected';
  }
}

/** A request without the bearer token a remote `serve` requires. */
export class TokenRequired extends Error {
  constructor() {
    super('this server requires its access token');
    this.name = 'TokenRequired';
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; hint?: string };
}

/**
 * The single place where failures become HTTP statuses. Unknown errors become a bare 500:
 * their messages may carry internals, and stack traces never leave the process.
 */
export function errorResponse(err: unknown): { status: 400 | 401 | 403 | 404 | 409 | 500 | 503; body: ErrorBody } {
  if (err instanceof TokenRequired) {
    return {
      status: 401,
      body: { error: { code: 'UNAUTHORIZED', message: err.message, hint: 'send `Authorization: Bearer <token>` with the token `stackunderflow serve --allow-remote` printed, or open the dashboard link it printed' } },
    };
  }
  if (err instanceof HostRejected) {
    return {
      status: 403,
      body: { error: { code: 'FORBIDDEN', message: err.message, hint: 'open the API through the address `stackunderflow serve` printed' } },
    };
  }
  if (err instanceof HTTPException && err.status < 500) {
    return { status: err.status === 404 ? 404 : 400, body: { error: { code: err.status === 404 ? 'NOT_FOUND' : 'USAGE', message: err.message || 'bad request' } } };
  }
  if (err instanceof SuError) {
    const status = err.code === 'USAGE' ? 400 : err.code === 'NOT_FOUND' ? 404 : err.code === 'CONFLICT' ? 409 : err.code === 'UNREACHABLE' ? 503 : 500;
    const error: ErrorBody['error'] = { code: err.code, message: err.message };
    if (err.hint) error.hint = err.hint;
    return { status, body: { error } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error', hint: 'see the output of `stackunderflow serve` for details' } } };
}
