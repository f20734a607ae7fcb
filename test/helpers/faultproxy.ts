import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the proxy saw it. */
export interface ProxiedRequest {
  method: string;
  /** Path and query as sent by the client. */
  url: string;
  /** Request headers as received (lower-case names). */
  headers: http.IncomingHttpHeaders;
  /**
   * What the proxy did: forwarded (with the upstream status), failed with a status, dropped
   * before forwarding, or forwarded with the answer thrown away (`response-lost`).
   */
  outcome: 'forwarded' | 'failed' | 'dropped' | 'response-lost';
  status?: number;
  /** Hex SHA-256 of the request body (empty body included). */
  bodySha256: string;
}

/**
 * A small HTTP proxy on 127.0.0.1 in front of a real server, for testing how clients
 * survive flaky networks. Faults apply to the next N requests, in this order of
 * precedence: drop, fail, then (combinable) delay and lose-response. Everything else is forwarded untouched (the Host header
 * too, so SigV4 signatures made for the proxy's address still verify upstream).
 */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT`, to use as the client's endpoint. */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: ProxiedRequest[];
  /** Requests received per HTTP method, e.g. `{ PUT: 2, GET: 5 }`. */
  count(method?: string): number;
  /** Answer the next `n` requests with `status` (an S3-style XML error), without forwarding. */
  failNext(n: number, status?: number): void;
  /** Destroy the connection of the next `n` requests without answering. */
  dropNext(n: number): void;
  /**
   * Forward the next `n` requests, then cut the connection instead of answering: the server
   * did the work, the client never hears of it (the case that makes retries non-idempotent).
   */
  loseResponseNext(n: number): void;
  /** Hold the next `n` requests for `ms` before forwarding. */
  delayNext(n: number, ms: number): void;
  /** Forget recorded requests and pending faults. */
  reset(): void;
  /** Stop listening and cut open connections; the proxy's port then refuses connections. */
  close(): Promise<void>;
}

/** Starts a {@link FaultProxy} forwarding to `target` (`http://host:port`). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const up = new URL(target);
  const requests: ProxiedRequest[] = [];
  let fail = 0;
  let failStatus = 500;
  let drop = 0;
  let lose = 0;
  let delay = 0;
  let delayMs = 0;
  const agent = new http.Agent({ keepAlive: true });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const rec: ProxiedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        outcome: 'forwarded',
        bodySha256: createHash('sha256').update(body).digest('hex'),
      };
      requests.push(rec);
      if (drop > 0) {
        drop--;
        rec.outcome = 'dropped';
        req.socket.destroy();
        return;
      }
      if (fail > 0) {
        fail--;
        rec.outcome = 'failed';
        rec.status = failStatus;
        const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected by faultproxy</Message></Error>`;
        res.writeHead(failStatus, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
        res.end(req.method === 'HEAD' ? undefined : xml);
        return;
      }
      const wait = delay > 0 ? (delay--, delayMs) : 0;
      const loseIt = lose > 0 ? (lose--, true) : false;
      const forward = () => {
        const upstream = http.request(
          { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers, agent },
          (ures) => {
            rec.status = ures.statusCode;
            if (loseIt) {
              rec.outcome = 'response-lost';
              ures.resume();
              ures.on('end', () => req.socket.destroy());
              return;
            }
            res.writeHead(ures.statusCode ?? 502, ures.headers);
            ures.pipe(res);
          },
        );
        upstream.on('error', () => req.socket.destroy());
        upstream.end(body);
      };
      if (wait > 0) setTimeout(forward, wait);
      else forward();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (method) => (method === undefined ? requests.length : requests.filter((r) => r.method === method).length),
    failNext(n, status = 500) {
      fail = n;
      failStatus = status;
    },
    dropNext(n) {
      drop = n;
    },
    loseResponseNext(n) {
      lose = n;
    },
    delayNext(n, ms) {
      delay = n;
      delayMs = ms;
    },
    reset() {
      requests.length = 0;
      fail = drop = lose = delay = 0;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
