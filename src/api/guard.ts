import { isIP } from 'node:net';

/** The address the server is bound to; the Host guard compares requests against it. */
export interface BindAddress {
  host: string;
  port: number;
}

function stripBrackets(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** True for names that only this machine can reach: localhost, 127.0.0.0/8, ::1 (and its v4-mapped form). */
export function isLoopbackHost(host: string): boolean {
  const h = stripBrackets(host.trim().toLowerCase());
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

function isWildcard(host: string): boolean {
  const h = stripBrackets(host.trim().toLowerCase());
  return h === '' || h === '0.0.0.0' || h === '::';
}

/** Splits a Host header into name and port (80 when absent, as for plain http); null if it is not a host[:port]. */
export function parseHostHeader(value: string): { name: string; port: number } | null {
  const v = value.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]\s/@]+)(?::(\d{1,5}))?$/.exec(v);
  if (!m) return null;
  const port = m[2] === undefined ? 80 : Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { name: stripBrackets(m[1]), port };
}

/**
 * The DNS-rebinding guard. A web page can make the user's browser resolve its own domain to
 * 127.0.0.1 and read our answers as same-origin; the one thing it cannot forge is the Host
 * header, which still names its domain. So a request is served only when Host names the
 * address we are bound to, with our port:
 * - bound to loopback: localhost, 127.0.0.1, [::1] or the bound name itself;
 * - bound to a wildcard (0.0.0.0, ::): localhost or any IP literal — rebinding needs a DNS
 *   name, so literals are safe, and we cannot know which of the machine's names a peer uses;
 * - bound to a specific name or address: exactly that.
 */
export function hostAllowed(hostHeader: string | undefined, bind: BindAddress): boolean {
  if (!hostHeader) return false;
  const parsed = parseHostHeader(hostHeader);
  if (!parsed || parsed.port !== bind.port) return false;
  const bound = stripBrackets(bind.host.trim().toLowerCase());
  if (parsed.name === bound) return true;
  if (isLoopbackHost(bound)) return parsed.name === 'localhost' || parsed.name === '127.0.0.1' || parsed.name === '::1';
  if (isWildcard(bound)) return parsed.name === 'localhost' || isIP(parsed.name) !== 0;
  return false;
}
