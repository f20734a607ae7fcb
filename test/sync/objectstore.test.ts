import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SuError } from '../../src/errors.js';
import {
  isNotFound,
  normalizeEtag,
  ObjectNotFound,
  openObjectStore,
  probeConditionalWrites,
  type ObjectInfo,
  type ObjectStore,
  type OpenOptions,
} from '../../src/sync/objectstore/index.js';
import { startFaultProxy } from '../helpers/faultproxy.js';
import { rgwOrSkip, startS3rver, type RunningS3, type S3Target } from '../helpers/s3servers.js';

const enc = (s: string) => new TextEncoder().encode(s);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function collect(it: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of it) out.push(o);
  return out;
}

async function expectSuError(p: Promise<unknown>, code: string): Promise<SuError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected SuError ${code}, got success`).toBeInstanceOf(SuError);
  expect((err as SuError).code, (err as Error).message).toBe(code);
  return err as SuError;
}

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

interface Backend {
  name: string;
  /** Whether the server really enforces If-None-Match / If-Match. */
  conditional: boolean;
  /** Keys for the listing test; more than one page where pages exist. */
  manyKeys: number;
  /** A fresh, empty, initialised store. */
  open(extra?: OpenOptions): Promise<ObjectStore>;
  /** S3 backends: the same kind of store reached through another endpoint (a fault proxy). */
  s3?: {
    target(): S3Target;
    checksSignatures: boolean;
    /** A fresh store (new prefix) at `endpoint` with `extra` client options. */
    openAt(endpoint: string, extra?: OpenOptions): Promise<ObjectStore>;
  };
}

function fileBackend(): Backend {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  return {
    name: 'file',
    conditional: true,
    // No pages on a directory; S3 backends need > 1000 to cross the server's default page.
    manyKeys: 200,
    async open() {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), 'su-objstore-'));
      dirs.push(d);
      const store = await openObjectStore(pathToFileURL(path.join(d, 'bucket')).href);
      await store.init();
      return store;
    },
  };
}

function s3Backend(
  name: string,
  target: () => S3Target,
  o: { conditional: boolean; checksSignatures: boolean; manyKeys: number; listPageSize?: number; runPrefix: string },
): Backend {
  let n = 0;
  const openAt = async (endpoint: string, extra: OpenOptions = {}) => {
    const t = target();
    const store = await openObjectStore(`s3://${t.bucket}/${o.runPrefix}/t${++n}`, {
      endpoint,
      region: t.region,
      credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey },
      listPageSize: o.listPageSize,
      ...extra,
    });
    await store.init();
    return store;
  };
  return {
    name,
    conditional: o.conditional,
    manyKeys: o.manyKeys,
    open: (extra) => openAt(target().endpoint, extra),
    s3: { target, checksSignatures: o.checksSignatures, openAt },
  };
}

/** Deletes everything under `s3://bucket/<runPrefix>/` (radosgw's bucket outlives the test run). */
async function cleanRun(t: S3Target, runPrefix: string): Promise<void> {
  const root = await openObjectStore(`s3://${t.bucket}/${runPrefix}`, {
    endpoint: t.endpoint,
    region: t.region,
    credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey },
  });
  const keys = (await collect(root.list(''))).map((o) => o.key);
  await root.delete(keys);
}

/** The contract every backend must meet. */
function conformance(b: Backend): void {
  it('init is idempotent and puts/gets binary bytes intact', async () => {
    const s = await b.open();
    await s.init();
    const all = new Uint8Array(256).map((_, i) => i);
    const big = new Uint8Array(randomBytes(300_000));
    for (const [key, body] of [
      ['bin/all-bytes', all],
      ['bin/big', big],
      ['bin/empty', new Uint8Array()],
      ['bin/name with spaces+plus=eq&amp%41é', enc('odd key')],
    ] as const) {
      const { etag } = await s.put(key, body);
      expect(etag).toMatch(/^[^"]+$/);
      const got = await s.get(key);
      expect(sha(got.body)).toBe(sha(body));
      expect(got.body.byteLength).toBe(body.byteLength);
      expect(got.etag).toBe(etag);
      const h = await s.head(key);
      expect(h).toMatchObject({ key, size: body.byteLength, etag });
    }
    expect(s.url).not.toMatch(/S3RVER|DEVSECRET|DEVKEY/);
  });

  it('get refuses an object larger than maxBytes (INTEGRITY), and reads one that fits', async () => {
    const s = await b.open();
    const body = new Uint8Array(randomBytes(200_000));
    await s.put('cap/obj', body);
    const err = await expectSuError(s.get('cap/obj', { maxBytes: 1000 }), 'INTEGRITY');
    expect(err.message).toMatch(/more than the 1000 it may be: refused before downloading/);
    expect(Buffer.from((await s.get('cap/obj', { maxBytes: body.length })).body).equals(Buffer.from(body))).toBe(true);
  });

  it('get and head of a missing key throw ObjectNotFound', async () => {
    const s = await b.open();
    for (const op of [() => s.get('nope/missing'), () => s.head('nope/missing')]) {
      const err = await expectSuError(op(), 'NOT_FOUND');
      expect(err).toBeInstanceOf(ObjectNotFound);
      expect(isNotFound(err)).toBe(true);
      expect((err as ObjectNotFound).key).toBe('nope/missing');
    }
  });

  it('rejects keys outside the contract', async () => {
    const s = await b.open();
    for (const key of ['', '/abs', 'a//b', '../escape', 'a/../b', 'a/./b', 'a\\b', '.su-tmp/x']) {
      await expectSuError(s.put(key, enc('x')), 'INTERNAL');
    }
  });

  it('lists by plain string prefix, sorted, with size and etag', async () => {
    const s = await b.open();
    const keys = ['b/5', 'a/sub/3', 'a/2', 'ab/4', 'a/1', 'a/10'];
    const etags = new Map<string, string>();
    for (const k of keys) etags.set(k, (await s.put(k, enc(`body of ${k}`))).etag);
    const a = await collect(s.list('a/'));
    expect(a.map((o) => o.key)).toEqual(['a/1', 'a/10', 'a/2', 'a/sub/3']);
    for (const o of a) {
      expect(o.size).toBe(enc(`body of ${o.key}`).byteLength);
      expect(o.etag).toBe(etags.get(o.key));
    }
    expect((await collect(s.list('a'))).map((o) => o.key)).toEqual(['a/1', 'a/10', 'a/2', 'a/sub/3', 'ab/4']);
    expect((await collect(s.list('a/1'))).map((o) => o.key)).toEqual(['a/1', 'a/10']);
    expect((await collect(s.list(''))).map((o) => o.key)).toEqual(['a/1', 'a/10', 'a/2', 'a/sub/3', 'ab/4', 'b/5']);
    expect(await collect(s.list('zzz/'))).toEqual([]);
  });

  it(`lists ${b.manyKeys} keys (paged where the server pages), then deletes them all`, async () => {
    const s = await b.open();
    const keys = Array.from({ length: b.manyKeys }, (_, i) => `many/k${String(i).padStart(5, '0')}`);
    await pool(keys, 8, (k) => s.put(k, enc(k)));
    await s.put('other/x', enc('x'));
    const listed = (await collect(s.list('many/'))).map((o) => o.key);
    expect(listed.length).toBe(keys.length);
    expect(listed).toEqual(keys);
    await s.delete(keys);
    expect(await collect(s.list('many/'))).toEqual([]);
    expect((await collect(s.list(''))).map((o) => o.key)).toEqual(['other/x']);
  });

  it('deletes many keys, missing ones included, without error', async () => {
    const s = await b.open();
    for (const k of ['d/1', 'd/2', 'd/3', 'd/4', 'd/5']) await s.put(k, enc(k));
    await s.delete(['d/1', 'd/missing', 'd/3', 'nowhere/at/all', 'd/5']);
    expect((await collect(s.list('d/'))).map((o) => o.key)).toEqual(['d/2', 'd/4']);
    await s.delete([]);
    await s.delete(['d/missing']);
    await expectSuError(s.get('d/1'), 'NOT_FOUND');
    expect(new TextDecoder().decode((await s.get('d/2')).body)).toBe('d/2');
  });

  it('overwrites an object with new bytes and a new etag', async () => {
    const s = await b.open();
    const v1 = await s.put('o/k', enc('version one'));
    const v2 = await s.put('o/k', enc('v2'));
    expect(v2.etag).not.toBe(v1.etag);
    const got = await s.get('o/k');
    expect(new TextDecoder().decode(got.body)).toBe('v2');
    expect(got.etag).toBe(v2.etag);
    expect((await s.head('o/k')).size).toBe(2);
    // Same bytes, same etag: etags are content-derived on every backend here.
    expect((await s.put('o/k', enc('v2'))).etag).toBe(v2.etag);
  });

  if (b.conditional) {
    it('If-None-Match:* creates once, then refuses with CONFLICT', async () => {
      const s = await b.open();
      const first = await s.put('c/new', enc('first'), { ifNoneMatch: '*' });
      const err = await expectSuError(s.put('c/new', enc('second'), { ifNoneMatch: '*' }), 'CONFLICT');
      expect(err.hint).toBeTruthy();
      const got = await s.get('c/new');
      expect(new TextDecoder().decode(got.body)).toBe('first');
      expect(got.etag).toBe(first.etag);
    });

    it('If-Match: stale etag → CONFLICT, current etag → ok, missing object → CONFLICT', async () => {
      const s = await b.open();
      const v1 = await s.put('c/m', enc('one'));
      const v2 = await s.put('c/m', enc('two'));
      await expectSuError(s.put('c/m', enc('three'), { ifMatch: v1.etag }), 'CONFLICT');
      expect(new TextDecoder().decode((await s.get('c/m')).body)).toBe('two');
      // Quoted or not, the caller's etag form does not matter.
      const v3 = await s.put('c/m', enc('three'), { ifMatch: `"${v2.etag}"` });
      expect(v3.etag).toBe((await s.head('c/m')).etag);
      const v4 = await s.put('c/m', enc('four'), { ifMatch: v3.etag });
      expect(new TextDecoder().decode((await s.get('c/m')).body)).toBe('four');
      expect(v4.etag).not.toBe(v3.etag);
      await expectSuError(s.put('c/absent', enc('x'), { ifMatch: v4.etag }), 'CONFLICT');
      await expectSuError(s.get('c/absent'), 'NOT_FOUND');
    });

    it('concurrent writers with the same If-Match: exactly one wins, every round', async () => {
      const a = await b.open();
      // A second, independent client/instance on the same objects.
      const other = await openObjectStore(a.url, b.s3 ? s3OptsOf(b.s3.target()) : undefined);
      for (let round = 0; round < 6; round++) {
        const key = 'manifest/head';
        const base = round === 0 ? await a.put(key, enc('base')) : { etag: (await a.head(key)).etag };
        const bodies = [enc(`round ${round} writer A ${'a'.repeat(round)}`), enc(`round ${round} writer B`)];
        const results = await Promise.allSettled([
          a.put(key, bodies[0], { ifMatch: base.etag }),
          other.put(key, bodies[1], { ifMatch: base.etag }),
        ]);
        const won = results.map((r) => r.status === 'fulfilled');
        expect(won.filter(Boolean).length, `round ${round}: ${JSON.stringify(results.map((r) => r.status))}`).toBe(1);
        const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(loser.reason).toBeInstanceOf(SuError);
        expect((loser.reason as SuError).code).toBe('CONFLICT');
        const winner = won.indexOf(true);
        expect(sha((await a.get(key)).body)).toBe(sha(bodies[winner]));
      }
      // Several creators of one fresh key: one wins.
      const creators = await Promise.allSettled(
        [0, 1, 2, 3].map((i) => (i % 2 ? other : a).put('manifest/fresh', enc(`creator ${i}`), { ifNoneMatch: '*' })),
      );
      expect(creators.filter((r) => r.status === 'fulfilled').length).toBe(1);
    });

    it('probeConditionalWrites says true and cleans up after itself', async () => {
      const s = await b.open();
      await s.put('keep/me', enc('x'));
      expect(await probeConditionalWrites(s)).toBe(true);
      expect((await collect(s.list(''))).map((o) => o.key)).toEqual(['keep/me']);
    });
  } else {
    it('probeConditionalWrites says false (server ignores If-None-Match / If-Match) and cleans up', async () => {
      const s = await b.open();
      expect(s.supportsConditionalWrites).toBe('unknown');
      expect(await probeConditionalWrites(s)).toBe(false);
      expect(await collect(s.list(''))).toEqual([]);
    });
  }

  if (b.s3) network(b, b.s3);
}

function s3OptsOf(t: S3Target): OpenOptions {
  return { endpoint: t.endpoint, region: t.region, credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey } };
}

/** S3-only cases: failure mapping and retries, with a fault proxy in front of the real server. */
function network(b: Backend, s3: NonNullable<Backend['s3']>): void {
  it('an unreachable endpoint fails with UNREACHABLE within seconds (default client settings)', async () => {
    const proxy = await startFaultProxy(s3.target().endpoint);
    const s = await s3.openAt(proxy.url);
    await proxy.close();
    for (const op of [() => s.put('u/x', enc('x')), () => s.get('u/x'), () => collect(s.list('')), () => s.init()]) {
      const t0 = Date.now();
      const err = await expectSuError(op(), 'UNREACHABLE');
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(err.message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
      expect(err.hint).toMatch(/retry/);
    }
  });

  it('a server answering conditional headers with 501 (as B2 does) probes as "no conditional writes", and stays writable', async () => {
    const proxy = await startFaultProxy(s3.target().endpoint);
    try {
      const s = await s3.openAt(proxy.url);
      proxy.reset();
      proxy.failNext(1, 501);
      expect(await probeConditionalWrites(s, 'probe/b2-like')).toBe(false);
      const puts = proxy.requests.filter((r) => r.method === 'PUT');
      expect(puts[0]).toMatchObject({ outcome: 'failed', status: 501 });
      expect(puts[0].headers['if-none-match']).toBe('*');
      // The fallback write carries no condition, and the probe cleans up after itself.
      expect(puts[1].headers['if-none-match']).toBeUndefined();
      expect(await collect(s.list('probe/'))).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('5xx answers are retried with identical bytes; the put succeeds', async () => {
    const proxy = await startFaultProxy(s3.target().endpoint);
    try {
      const s = await s3.openAt(proxy.url);
      const body = new Uint8Array(randomBytes(50_000));
      proxy.reset();
      proxy.failNext(2, 500);
      const { etag } = await s.put('r/seg', body);
      const puts = proxy.requests.filter((r) => r.method === 'PUT');
      expect(puts.map((r) => r.outcome)).toEqual(['failed', 'failed', 'forwarded']);
      expect(new Set(puts.map((r) => r.bodySha256))).toEqual(new Set([sha(body)]));
      const got = await s.get('r/seg');
      expect(sha(got.body)).toBe(sha(body));
      expect(got.etag).toBe(etag);
      expect(proxy.count('GET')).toBe(1);

      proxy.failNext(1, 503);
      expect(sha((await s.get('r/seg')).body)).toBe(sha(body));
    } finally {
      await proxy.close();
    }
  });

  it('5xx beyond the retry budget → UNREACHABLE after exactly maxAttempts requests', async () => {
    const proxy = await startFaultProxy(s3.target().endpoint);
    try {
      const s = await s3.openAt(proxy.url, { maxAttempts: 3 });
      proxy.reset();
      proxy.failNext(100, 500);
      const err = await expectSuError(s.put('r/x', enc('x')), 'UNREACHABLE');
      expect(err.message).toMatch(/HTTP 500/);
      expect(proxy.count('PUT')).toBe(3);
      proxy.reset();
      await expectSuError(s.get('r/x'), 'NOT_FOUND');
    } finally {
      await proxy.close();
    }
  });

  it('dropped connections: retried to success, or UNREACHABLE when they persist', async () => {
    const proxy = await startFaultProxy(s3.target().endpoint);
    try {
      const s = await s3.openAt(proxy.url);
      const body = enc('survives a dropped connection');
      proxy.reset();
      proxy.dropNext(1);
      await s.put('r/drop', body);
      const puts = proxy.requests.filter((r) => r.method === 'PUT');
      expect(puts.map((r) => r.outcome)).toEqual(['dropped', 'forwarded']);
      expect(puts[0].bodySha256).toBe(puts[1].bodySha256);
      expect(new TextDecoder().decode((await s.get('r/drop')).body)).toBe('survives a dropped connection');

      proxy.dropNext(100);
      const t0 = Date.now();
      await expectSuError(s.get('r/drop'), 'UNREACHABLE');
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      await proxy.close();
    }
  });

  it('a stalled answer past the idle timeout is retried; a server that never answers → UNREACHABLE', async () => {
    const proxy = await startFaultProxy(s3.target().endpoint);
    try {
      const s = await s3.openAt(proxy.url, { idleTimeoutMs: 500 });
      await s.put('r/slow', enc('slow'));
      proxy.reset();
      proxy.delayNext(1, 1_500);
      expect(new TextDecoder().decode((await s.get('r/slow')).body)).toBe('slow');
      expect(proxy.count('GET')).toBe(2);
      proxy.delayNext(100, 1_500);
      const t0 = Date.now();
      await expectSuError(s.get('r/slow'), 'UNREACHABLE');
      expect(Date.now() - t0).toBeLessThan(5_000);
      // The whole-attempt cap works too.
      proxy.reset();
      const capped = await s3.openAt(proxy.url, { requestTimeoutMs: 300, maxAttempts: 2 });
      proxy.reset();
      proxy.delayNext(100, 1_000);
      await expectSuError(capped.head('r/none'), 'UNREACHABLE');
      expect(proxy.count('HEAD')).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it('a server that accepts connections but never answers → UNREACHABLE after the idle timeout', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((sock) => sockets.add(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const t = s3.target();
      const port = (silent.address() as net.AddressInfo).port;
      const s = await openObjectStore(`s3://${t.bucket}/p`, { ...s3OptsOf(t), endpoint: `http://127.0.0.1:${port}`, idleTimeoutMs: 300, maxAttempts: 2 });
      const t0 = Date.now();
      const err = await expectSuError(s.put('k', enc('x')), 'UNREACHABLE');
      expect(err.message).toMatch(/cannot reach/);
      expect(Date.now() - t0).toBeLessThan(4_000);
    } finally {
      sockets.forEach((sock) => sock.destroy());
      silent.close();
    }
  });

  it('takes credentials from a named profile in the standard AWS files', async () => {
    const t = s3.target();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'su-aws-'));
    const saved = { ...process.env };
    try {
      const wrong = `wrong-${randomBytes(8).toString('hex')}`;
      fs.writeFileSync(
        path.join(dir, 'credentials'),
        `[su-good]\naws_access_key_id = ${t.accessKeyId}\naws_secret_access_key = ${t.secretAccessKey}\n` +
          `[su-bad]\naws_access_key_id = ${t.accessKeyId}\naws_secret_access_key = ${wrong}\n`,
      );
      fs.writeFileSync(path.join(dir, 'config'), '');
      for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete process.env[k];
      process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
      process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
      const at = { endpoint: t.endpoint, region: t.region };
      const good = await openObjectStore(`s3://${t.bucket}/${`profile-${randomBytes(3).toString('hex')}`}`, { ...at, profile: 'su-good' });
      await good.init();
      await good.put('k', enc('via profile'));
      expect(new TextDecoder().decode((await good.get('k')).body)).toBe('via profile');
      await good.delete(['k']);
      const missing = await openObjectStore(`s3://${t.bucket}/p`, { ...at, profile: 'su-nonexistent', maxAttempts: 1 });
      const err = await expectSuError(missing.head('k'), 'CONFIG');
      expect(err.hint).toMatch(/profile/);
      if (s3.checksSignatures) {
        const bad = await openObjectStore(`s3://${t.bucket}/p`, { ...at, profile: 'su-bad' });
        const e2 = await expectSuError(bad.head('k'), 'CONFIG');
        expect(inspect(e2, { depth: 5 })).not.toContain(wrong);
      }
    } finally {
      process.env = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a conditional create whose answer was lost is retried and recognised as our own write', async () => {
    const proxy = await startFaultProxy(s3.target().endpoint);
    try {
      const s = await s3.openAt(proxy.url);
      const body = enc(`manifest ${randomBytes(8).toString('hex')}`);
      proxy.reset();
      proxy.loseResponseNext(1);
      const { etag } = await s.put('lost/m', body, { ifNoneMatch: '*' });
      const puts = proxy.requests.filter((r) => r.method === 'PUT');
      expect(puts.map((r) => r.outcome)).toEqual(['response-lost', 'forwarded']);
      expect(puts[0].bodySha256).toBe(puts[1].bodySha256);
      // Where conditions are enforced, the retry collides with our own first attempt.
      if (b.conditional) expect(puts[1].status).toBe(412);
      const got = await s.get('lost/m');
      expect(sha(got.body)).toBe(sha(body));
      expect(got.etag).toBe(etag);
      if (b.conditional) await expectSuError(s.put('lost/m', enc('someone else'), { ifNoneMatch: '*' }), 'CONFLICT');
    } finally {
      await proxy.close();
    }
  });

  it('a missing bucket is a CONFIG error naming the bucket', async () => {
    const t = s3.target();
    const s = await openObjectStore(`s3://no-such-bucket-${randomBytes(4).toString('hex')}/p`, s3OptsOf(t));
    const err = await expectSuError(s.init(), 'CONFIG');
    expect(err.message).toMatch(/bucket no-such-bucket-\w+ does not exist/);
    await expectSuError(s.put('k', enc('x')), 'CONFIG');
  });

  if (s3.checksSignatures) {
    it('a wrong secret is a clean CONFIG error that never shows the secret', async () => {
      const t = s3.target();
      const secret = `wrong-${randomBytes(12).toString('hex')}`;
      const bad = { credentials: { accessKeyId: t.accessKeyId, secretAccessKey: secret } };
      const s = await openObjectStore(`s3://${t.bucket}/p`, { ...s3OptsOf(t), ...bad });
      for (const op of [() => s.init(), () => s.put('k', enc('x')), () => s.get('k'), () => collect(s.list(''))]) {
        const err = await expectSuError(op(), 'CONFIG');
        expect(err.message).toMatch(/access denied|SignatureDoesNotMatch|Forbidden|HTTP 403/);
        expect(err.hint).toMatch(/credentials/);
        for (const text of [err.message, err.hint ?? '', inspect(err, { depth: 5 }), JSON.stringify(err), String(err.stack)]) {
          expect(text).not.toContain(secret);
        }
      }
      const unknownKey = await openObjectStore(`s3://${t.bucket}/p`, {
        ...s3OptsOf(t),
        credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: secret },
      });
      const err = await expectSuError(unknownKey.put('k', enc('x')), 'CONFIG');
      expect(inspect(err, { depth: 5 })).not.toContain(secret);
    });
  }
}

describe('openObjectStore URL parsing', () => {
  it('accepts s3:// and file:// URLs and normalises the display form', async () => {
    const s3 = await openObjectStore('s3://my-bucket/some/prefix/', { endpoint: 'http://127.0.0.1:1' });
    expect(s3.url).toBe('s3://my-bucket/some/prefix');
    expect(s3.supportsConditionalWrites).toBe('unknown');
    expect((await openObjectStore('s3://my-bucket')).url).toBe('s3://my-bucket');
    expect((await openObjectStore('s3://my-bucket', { conditionalWrites: true })).supportsConditionalWrites).toBe(true);
    const f = await openObjectStore('file:///tmp/su-bucket/');
    expect(f.url).toBe('file:///tmp/su-bucket');
    expect(f.supportsConditionalWrites).toBe(true);
  });

  it('rejects malformed URLs with USAGE and never echoes credentials', async () => {
    for (const url of ['not a url', 'http://bucket/x', 's3://b1', 's3://Bad_Bucket', 'file://remotehost/dir', 's3://bucket/a//b', 's3://bucket/../x', 's3://bucket/p/%2E%2e/x']) {
      await expectSuError(openObjectStore(url), 'USAGE');
    }
    const err = await expectSuError(openObjectStore('s3://AKIAX:supersecret@bucket/p'), 'USAGE');
    expect(`${err.message} ${err.hint}`).not.toContain('supersecret');
    const e2 = await expectSuError(openObjectStore('s3://bucket/p', { endpoint: 'http://k:supersecret@host' }), 'USAGE');
    expect(`${e2.message} ${e2.hint}`).not.toContain('supersecret');
    await expectSuError(openObjectStore('file:///tmp/x', { endpoint: 'http://127.0.0.1:1' }), 'USAGE');
  });

  it('normalizeEtag strips quotes and weak markers only', () => {
    expect(normalizeEtag('"abc"')).toBe('abc');
    expect(normalizeEtag('W/"abc"')).toBe('abc');
    expect(normalizeEtag('abc')).toBe('abc');
    expect(normalizeEtag('"abc-3"')).toBe('abc-3');
  });
});

describe('file backend', () => {
  const b = fileBackend();
  conformance(b);

  it('writes atomically through .su-tmp and leaves no temp files or lock behind', async () => {
    const s = await b.open();
    const root = new URL(s.url).pathname;
    await s.put('x/y', enc('1'));
    await s.put('x/y', enc('2'), { ifMatch: (await s.head('x/y')).etag });
    await expectSuError(s.put('x/y', enc('3'), { ifNoneMatch: '*' }), 'CONFLICT');
    expect(fs.readdirSync(path.join(root, '.su-tmp'))).toEqual([]);
    expect(fs.existsSync(path.join(root, '.su-lock'))).toBe(false);
    expect(fs.readFileSync(path.join(root, 'x', 'y'), 'utf8')).toBe('2');
    expect((await s.head('x/y')).etag).toBe(sha(enc('2')));
  });

  describe('a bucket directory others can write to: nothing outside it is touched', () => {
    const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'su-hostile-'));
    const old = (p: string) => fs.utimesSync(p, new Date(0), new Date(0));

    it('init never deletes through a .su-tmp symlink: the target keeps its old files, and init refuses', async () => {
      const d = tmp();
      const victim = path.join(d, 'victim');
      fs.mkdirSync(victim);
      fs.writeFileSync(path.join(victim, 'identity.txt'), 'precious');
      old(path.join(victim, 'identity.txt'));
      const root = path.join(d, 'bucket');
      fs.mkdirSync(root);
      fs.symlinkSync(victim, path.join(root, '.su-tmp'));
      const s = await openObjectStore(pathToFileURL(root).href);
      const err = await expectSuError(s.init(), 'INTEGRITY');
      expect(err.message).toMatch(/\.su-tmp .*symbolic link/);
      await expectSuError(s.put('a/b', enc('x')), 'INTEGRITY');
      expect(fs.readFileSync(path.join(victim, 'identity.txt'), 'utf8')).toBe('precious');
      expect(fs.readdirSync(victim)).toEqual(['identity.txt']);
    });

    it('init removes only old regular files of the real .su-tmp, not links in it', async () => {
      const d = tmp();
      const outside = path.join(d, 'outside.txt');
      fs.writeFileSync(outside, 'keep');
      old(outside);
      const root = path.join(d, 'bucket');
      fs.mkdirSync(path.join(root, '.su-tmp'), { recursive: true });
      fs.writeFileSync(path.join(root, '.su-tmp', 'stale.tmp'), 'x');
      old(path.join(root, '.su-tmp', 'stale.tmp'));
      fs.symlinkSync(outside, path.join(root, '.su-tmp', 'link.tmp'));
      const s = await openObjectStore(pathToFileURL(root).href);
      await s.init();
      expect(fs.readdirSync(path.join(root, '.su-tmp'))).toEqual(['link.tmp']);
      expect(fs.readFileSync(outside, 'utf8')).toBe('keep');
    });

    it('a symlinked device folder: put, get, head, list and delete refuse it; nothing outside is written or deleted', async () => {
      const d = tmp();
      const elsewhere = path.join(d, 'elsewhere');
      fs.mkdirSync(elsewhere);
      fs.writeFileSync(path.join(elsewhere, 'manifest.age'), 'not yours');
      const root = path.join(d, 'bucket');
      const s = await openObjectStore(pathToFileURL(root).href);
      await s.init();
      fs.mkdirSync(path.join(root, 'devices'), { recursive: true });
      fs.symlinkSync(elsewhere, path.join(root, 'devices', 'abc'));
      for (const op of [() => s.put('devices/abc/seg/x', enc('x')), () => s.get('devices/abc/manifest.age'), () => s.head('devices/abc/manifest.age'), () => s.delete(['devices/abc/manifest.age']), () => collect(s.list('devices/'))]) {
        const err = await expectSuError(op(), 'INTEGRITY');
        expect(err.message).toMatch(/devices\/abc .*symbolic link/);
      }
      expect(fs.readdirSync(elsewhere)).toEqual(['manifest.age']);
      expect(fs.readFileSync(path.join(elsewhere, 'manifest.age'), 'utf8')).toBe('not yours');
    });

    it('an object that is a symlink is refused (O_NOFOLLOW), not read through', async () => {
      const d = tmp();
      fs.writeFileSync(path.join(d, 'secret'), 'outside');
      const root = path.join(d, 'bucket');
      const s = await openObjectStore(pathToFileURL(root).href);
      await s.init();
      await s.put('k/real', enc('x'));
      fs.symlinkSync(path.join(d, 'secret'), path.join(root, 'k', 'link'));
      await expectSuError(s.get('k/link'), 'INTEGRITY');
      await expectSuError(s.head('k/link'), 'INTEGRITY');
    });

    it('a FIFO in place of an object is an INTEGRITY error at once, never a hang', async () => {
      const d = tmp();
      const root = path.join(d, 'bucket');
      const s = await openObjectStore(pathToFileURL(root).href);
      await s.init();
      await s.put('k/obj', enc('x'));
      fs.rmSync(path.join(root, 'k', 'obj'));
      execFileSync('mkfifo', [path.join(root, 'k', 'obj')]);
      const started = Date.now();
      const err = await expectSuError(s.get('k/obj'), 'INTEGRITY');
      expect(err.message).toMatch(/FIFO/);
      await expectSuError(s.head('k/obj'), 'INTEGRITY');
      await expectSuError(collect(s.list('k/')), 'INTEGRITY');
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('files are 0600 and directories 0700', async () => {
      const d = tmp();
      const root = path.join(d, 'bucket');
      const s = await openObjectStore(pathToFileURL(root).href);
      await s.init();
      await s.put('a/b/c', enc('x'));
      await s.put('a/b/d', enc('y'), { ifNoneMatch: '*' });
      const mode = (p: string) => fs.statSync(path.join(root, p)).mode & 0o777;
      expect([mode('.'), mode('.su-tmp'), mode('a'), mode('a/b')]).toEqual([0o700, 0o700, 0o700, 0o700]);
      expect([mode('a/b/c'), mode('a/b/d')]).toEqual([0o600, 0o600]);
    });

    it('outside init, a missing root is not recreated: CONFIG', async () => {
      const root = path.join(tmp(), 'unmounted');
      const s = await openObjectStore(pathToFileURL(root).href);
      await expectSuError(s.put('a/b', enc('x')), 'CONFIG');
      expect(fs.existsSync(root)).toBe(false);
    });
  });

  it('init on a path that is a file is a CONFIG error', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'su-objstore-'));
    try {
      fs.writeFileSync(path.join(d, 'f'), 'x');
      const s = await openObjectStore(pathToFileURL(path.join(d, 'f')).href);
      await expectSuError(s.init(), 'CONFIG');
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('s3 backend on s3rver (in-process)', () => {
  let server: RunningS3;
  beforeAll(async () => {
    server = await startS3rver();
  });
  afterAll(async () => {
    await server?.stop();
  });
  conformance(
    s3Backend('s3rver', () => server, { conditional: false, checksSignatures: false, manyKeys: 1001, runPrefix: 'run' }),
  );

  it('a stopped server → UNREACHABLE within seconds', async () => {
    const own = await startS3rver('stop-me');
    const s = await openObjectStore(`s3://${own.bucket}/p`, s3OptsOf(own));
    await s.init();
    await s.put('k', enc('x'));
    await own.stop();
    const t0 = Date.now();
    await expectSuError(s.get('k'), 'UNREACHABLE');
    await expectSuError(s.put('k', enc('y')), 'UNREACHABLE');
    expect(Date.now() - t0).toBeLessThan(8_000);
  });

  it('If-Match is sent unquoted, and retried quoted only when the object still has that etag', async () => {
    const proxy = await startFaultProxy(server.endpoint);
    try {
      const s = await openObjectStore(`s3://${server.bucket}/quoting`, { ...s3OptsOf(server), endpoint: proxy.url });
      const v1 = await s.put('q/m', enc('one'));
      // A server that wants the RFC's quoted form answers 412 to the unquoted one.
      proxy.reset();
      proxy.failNext(1, 412);
      await s.put('q/m', enc('two'), { ifMatch: v1.etag });
      expect(proxy.requests.map((r) => [r.method, r.headers['if-match'] ?? null])).toEqual([
        ['PUT', v1.etag],
        ['HEAD', null],
        ['PUT', `"${v1.etag}"`],
      ]);
      expect(new TextDecoder().decode((await s.get('q/m')).body)).toBe('two');
      // A real conflict (the etag moved on) is not retried.
      proxy.reset();
      proxy.failNext(1, 412);
      await expectSuError(s.put('q/m', enc('three'), { ifMatch: v1.etag }), 'CONFLICT');
      expect(proxy.requests.map((r) => r.method)).toEqual(['PUT', 'HEAD']);
    } finally {
      await proxy.close();
    }
  });

  it('pages lists (one ListObjectsV2 request per page of listPageSize)', async () => {
    const proxy = await startFaultProxy(server.endpoint);
    try {
      const s = await openObjectStore(`s3://${server.bucket}/paging-${randomBytes(3).toString('hex')}`, {
        ...s3OptsOf(server),
        endpoint: proxy.url,
        listPageSize: 4,
      });
      await pool(Array.from({ length: 10 }, (_, i) => `p/${i}`), 5, (k) => s.put(k, enc(k)));
      proxy.reset();
      expect((await collect(s.list('p/'))).map((o) => o.key)).toEqual(Array.from({ length: 10 }, (_, i) => `p/${i}`));
      expect(proxy.requests.filter((r) => r.method === 'GET' && r.url.includes('list-type=2')).length).toBe(3);
    } finally {
      await proxy.close();
    }
  });
});

const { rgw, skip } = rgwOrSkip();
describe.skipIf(!rgw)(skip ? `s3 backend on Ceph radosgw — ${skip}` : 's3 backend on Ceph radosgw', () => {
  const runPrefix = `run-${Date.now()}-${randomBytes(3).toString('hex')}`;
  afterAll(async () => {
    await cleanRun(rgw!, runPrefix);
  });
  // Small pages so paging is exercised without thousands of PUTs.
  conformance(
    s3Backend('radosgw', () => rgw!, { conditional: true, checksSignatures: true, manyKeys: 25, listPageSize: 7, runPrefix }),
  );
});
