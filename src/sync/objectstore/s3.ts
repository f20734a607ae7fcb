// The only module that imports the AWS SDK: everything else sees `ObjectStore`.
import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { SuError } from '../../errors.js';
import {
  checkKey,
  checkPutOptions,
  normalizeEtag,
  tooLarge,
  type GetOptions,
  ObjectNotFound,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  ConditionalWritesUnsupported,
} from './types.js';

/** Static credentials; without them the standard AWS chain (env, `profile`, ~/.aws, SSO, IMDS) is used. */
interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Settings of an S3 (or S3-compatible) store. Nothing here is persisted by the store. */
export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, `''` or ending in `/`. */
  prefix: string;
  /** Custom endpoint (R2, B2, MinIO, Ceph, ...); switches to path-style addressing. */
  endpoint?: string;
  /** Default: the SDK's chain for AWS; for a custom endpoint `AWS_REGION`, else `us-east-1`. */
  region?: string;
  /** Named profile of ~/.aws/config and ~/.aws/credentials. */
  profile?: string;
  credentials?: S3Credentials;
  /** Attempts per request including the first (SDK standard retry, backoff with jitter). Default 3. */
  maxAttempts?: number;
  /** TCP connect timeout per attempt: what makes an unreachable bucket fail fast. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** A connected socket with no traffic for this long fails the attempt (stalled server). Default 30000 ms. */
  idleTimeoutMs?: number;
  /** Cap on one whole attempt, so a slow upload that still trickles can't hang forever. Default 300000 ms. */
  requestTimeoutMs?: number;
  /** `MaxKeys` per ListObjectsV2 page (1..1000). Default 1000. */
  listPageSize?: number;
  /** Result of an earlier {@link probeConditionalWrites}, if recorded. */
  conditionalWrites?: boolean;
}

const DELETE_CONCURRENCY = 8;

/**
 * `ObjectStore` over S3 with the settings every non-AWS endpoint needs: path-style for a
 * custom endpoint, checksums only where the API requires them (the SDK's default CRC
 * trailers break R2, B2, older MinIO and s3rver), bodies buffered (no unknown-length
 * uploads), bounded retries and timeouts so an unreachable bucket fails in seconds.
 */
export class S3ObjectStore implements ObjectStore {
  readonly url: string;
  readonly supportsConditionalWrites: boolean | 'unknown';
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #pageSize: number;
  readonly #endpoint?: string;

  constructor(opts: S3StoreOptions) {
    this.#bucket = opts.bucket;
    this.#prefix = opts.prefix;
    this.#pageSize = Math.max(1, Math.min(1000, opts.listPageSize ?? 1000));
    this.#endpoint = opts.endpoint;
    this.url = `s3://${opts.bucket}${opts.prefix === '' ? '' : `/${opts.prefix.replace(/\/$/, '')}`}`;
    this.supportsConditionalWrites = opts.conditionalWrites ?? 'unknown';
    // The SDK warns on every Node < 22 process about its 2027 support window; that is noise for our users.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const config: S3ClientConfig = {
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: opts.maxAttempts ?? 3,
      requestHandler: {
        connectionTimeout: opts.connectTimeoutMs ?? 5_000,
        socketTimeout: opts.idleTimeoutMs ?? 30_000,
        requestTimeout: opts.requestTimeoutMs ?? 300_000,
        throwOnRequestTimeout: true,
      },
    };
    if (opts.endpoint) {
      config.endpoint = opts.endpoint;
      config.forcePathStyle = true;
      config.region = opts.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1';
    } else if (opts.region) {
      config.region = opts.region;
    }
    if (opts.profile) config.profile = opts.profile;
    if (opts.credentials) config.credentials = { ...opts.credentials };
    this.#client = new S3Client(config);
  }

  async init(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }));
    } catch (err) {
      // HEAD answers carry no error body: only the status tells 404 from 403.
      const status = httpStatus(err);
      if (status === 404) {
        throw new SuError('CONFIG', `bucket ${this.#bucket} does not exist${this.#at()}`, {
          hint: 'create the bucket first, or fix the bucket name / --endpoint in `stackunderflow sync init`',
        });
      }
      throw this.#mapError(err, 'init', undefined);
    }
  }

  async put(key: string, body: Uint8Array, opts: PutOptions = {}): Promise<{ etag: string }> {
    checkKey(key);
    checkPutOptions(opts);
    // Ceph and DigitalOcean accept If-Match only unquoted; RFC-strict servers may want quotes (tried after a 412).
    const ifMatch = opts.ifMatch === undefined ? undefined : normalizeEtag(opts.ifMatch);
    try {
      return await this.#put(key, body, opts.ifNoneMatch, ifMatch);
    } catch (err) {
      const mapped = this.#mapError(err, 'put', key, opts.ifMatch !== undefined, opts.ifNoneMatch !== undefined || opts.ifMatch !== undefined);
      if (mapped.code !== 'CONFLICT') throw mapped;
      // A 412 can be a lie in two ways: our own earlier attempt landed and the SDK's retry
      // hit its own write (the response was lost), or the server wanted a quoted If-Match.
      const current = await this.head(key).catch((e) => {
        if (e instanceof ObjectNotFound) return undefined;
        throw e;
      });
      if (current && current.etag === md5Hex(body)) return { etag: current.etag };
      if (current && ifMatch !== undefined && current.etag === ifMatch) {
        try {
          return await this.#put(key, body, undefined, `"${ifMatch}"`);
        } catch (err2) {
          throw this.#mapError(err2, 'put', key, true);
        }
      }
      throw mapped;
    }
  }

  async get(key: string, opts: GetOptions = {}): Promise<{ body: Uint8Array; etag: string }> {
    checkKey(key);
    try {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#full(key) }));
      const max = opts.maxBytes;
      let body: Uint8Array;
      if (max === undefined) body = res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
      else {
        // Refused on the announced length, and counted as it streams (a length can be absent).
        const stream = res.Body as unknown as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
        if (res.ContentLength !== undefined && res.ContentLength > max) {
          stream?.destroy?.();
          throw tooLarge(key, res.ContentLength, max);
        }
        const chunks: Uint8Array[] = [];
        let n = 0;
        for await (const chunk of stream ?? []) {
          n += chunk.byteLength;
          if (n > max) {
            stream?.destroy?.();
            throw tooLarge(key, `more than ${max}`, max);
          }
          chunks.push(chunk);
        }
        body = new Uint8Array(Buffer.concat(chunks));
      }
      if (res.ContentLength !== undefined && res.ContentLength !== body.byteLength) {
        throw new SuError('UNREACHABLE', `get ${key}: truncated response (${body.byteLength} of ${res.ContentLength} bytes)`, {
          hint: 'retry; the connection to the bucket was interrupted',
        });
      }
      return { body, etag: normalizeEtag(res.ETag ?? '') };
    } catch (err) {
      throw this.#mapError(err, 'get', key);
    }
  }

  async head(key: string): Promise<ObjectInfo> {
    checkKey(key);
    try {
      const res = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#full(key) }));
      return { key, size: res.ContentLength ?? 0, etag: normalizeEtag(res.ETag ?? ''), lastModified: res.LastModified };
    } catch (err) {
      throw this.#mapError(err, 'head', key);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      let res;
      try {
        res = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: this.#prefix + prefix,
            MaxKeys: this.#pageSize,
            ContinuationToken: token,
          }),
        );
      } catch (err) {
        throw this.#mapError(err, 'list', prefix);
      }
      for (const o of res.Contents ?? []) {
        if (!o.Key) continue;
        yield {
          key: o.Key.slice(this.#prefix.length),
          size: o.Size ?? 0,
          etag: normalizeEtag(o.ETag ?? ''),
          lastModified: o.LastModified,
        };
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
      if (res.IsTruncated && !token) {
        throw new SuError('INTERNAL', `list ${prefix}: server sent a truncated page without a continuation token`);
      }
    } while (token);
  }

  /**
   * One DeleteObject per key, a few at a time. Not DeleteObjects: that call requires a
   * Content-MD5 which the SDK now replaces with a CRC32 checksum, and MinIO and other
   * S3-compatible servers refuse it. Deletes are rare here (pruning), so the extra
   * requests cost little. A missing key is not an error (S3 answers 204 anyway).
   */
  async delete(keys: string[]): Promise<void> {
    keys.forEach(checkKey);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++];
        try {
          await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#full(key) }));
        } catch (err) {
          const mapped = this.#mapError(err, 'delete', key);
          if (mapped instanceof ObjectNotFound) continue;
          throw mapped;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, keys.length) }, worker));
  }

  #put(key: string, body: Uint8Array, ifNoneMatch: string | undefined, ifMatch: string | undefined): Promise<{ etag: string }> {
    return this.#client
      .send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#full(key),
          Body: body,
          ContentLength: body.byteLength,
          ContentType: 'application/octet-stream',
          IfNoneMatch: ifNoneMatch,
          IfMatch: ifMatch,
        }),
      )
      .then((res) => ({ etag: normalizeEtag(res.ETag ?? '') }));
  }

  #full(key: string): string {
    return this.#prefix + key;
  }

  #at(): string {
    return this.#endpoint ? ` at ${displayEndpoint(this.#endpoint)}` : '';
  }

  /**
   * SDK error → SuError. Messages are built from codes and statuses only: server messages
   * and request details stay out so no credential material can leak into output.
   */
  #mapError(err: unknown, op: string, key: string | undefined, conditional = false, anyCondition = conditional): SuError {
    if (err instanceof SuError) return err;
    const name = (err as { name?: string } | undefined)?.name ?? '';
    const code = (err as { code?: string } | undefined)?.code ?? '';
    const status = httpStatus(err);
    const what = key === undefined ? `${op} ${this.url}` : `${op} ${key}`;
    const cause = sanitizedCause(err);
    // Some S3-compatible servers (B2 among them) answer conditional headers with 501.
    if (anyCondition && op === 'put' && (status === 501 || name === 'NotImplemented')) {
      return new ConditionalWritesUnsupported(`${what}: the bucket does not support conditional writes (${name || status})`, cause);
    }
    if (status === 412 || name === 'PreconditionFailed' || status === 409 || name === 'ConditionalRequestConflict') {
      return new SuError('CONFLICT', `${what}: conditional write refused (${name || status})`, {
        hint: 'another device wrote first; re-read and retry',
        cause,
      });
    }
    if (name === 'NoSuchBucket') {
      return new SuError('CONFIG', `bucket ${this.#bucket} does not exist${this.#at()}`, {
        hint: 'create the bucket first, or fix the bucket name / --endpoint in `stackunderflow sync init`',
        cause,
      });
    }
    if (status === 404 || name === 'NoSuchKey' || name === 'NotFound') {
      // S3 answers If-Match on a missing key with 404; for a compare-and-swap that is a lost race.
      if (conditional && op === 'put') {
        return new SuError('CONFLICT', `${what}: conditional write refused (object does not exist)`, {
          hint: 'another device deleted it; re-read and retry',
          cause,
        });
      }
      if (key !== undefined && op !== 'list' && op !== 'delete') return new ObjectNotFound(key, { cause });
    }
    if (name === 'RequestTimeTooSkewed') {
      return new SuError('CONFIG', `${what}: this machine's clock is too far off for the bucket to accept signed requests${this.#at()}`, {
        hint: 'set the system clock (e.g. enable NTP), then retry',
        cause,
      });
    }
    // Throttling and timeouts are passing conditions: queued work goes up later.
    if (status === 429 || status === 408 || name === 'SlowDown' || name === 'RequestTimeout' || name === 'ThrottlingException') {
      return new SuError('UNREACHABLE', `${what}: the bucket asked us to slow down (HTTP ${status ?? name})${this.#at()}`, {
        hint: 'work stays queued; retry later',
        cause,
      });
    }
    if (
      status === 403 ||
      status === 401 ||
      name === 'CredentialsProviderError' ||
      ['SignatureDoesNotMatch', 'InvalidAccessKeyId', 'AccessDenied', 'InvalidToken', 'ExpiredToken', 'TokenRefreshRequired'].includes(name)
    ) {
      const why = name === 'CredentialsProviderError' ? 'no credentials found' : `access denied (${name && name !== 'Unknown' ? name : `HTTP ${status}`})`;
      return new SuError('CONFIG', `${what}: ${why}${this.#at()}`, { hint: credentialsHint, cause });
    }
    if (/region/i.test(String((err as Error)?.message)) && !status) {
      return new SuError('CONFIG', `${what}: no region configured`, { hint: 'pass --region (or set AWS_REGION)', cause });
    }
    if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) {
      return new SuError('CONFIG', `${what}: wrong region for bucket ${this.#bucket} (${name || status})`, {
        hint: 'pass the bucket’s --region to `stackunderflow sync init`',
        cause,
      });
    }
    if (status !== undefined && status >= 500) {
      return new SuError('UNREACHABLE', `${what}: server error (HTTP ${status}${name && name !== 'Unknown' ? ` ${name}` : ''})${this.#at()}`, {
        hint: 'the bucket is having trouble; work stays queued, retry later',
        cause,
      });
    }
    if (status === undefined && (isNetworkCode(code) || isNetworkName(name) || /socket|network|connect/i.test(String((err as Error)?.message)))) {
      return new SuError('UNREACHABLE', `${what}: cannot reach ${this.#endpoint ? displayEndpoint(this.#endpoint) : 'S3'} (${code || name})`, {
        hint: 'check the network and --endpoint; work stays queued, retry later',
        cause,
      });
    }
    if (status !== undefined && status >= 400) {
      return new SuError('CONFIG', `${what}: request rejected (HTTP ${status}${name && name !== 'Unknown' ? ` ${name}` : ''})`, {
        hint: 'check the bucket settings given to `stackunderflow sync init`',
        cause,
      });
    }
    return new SuError('INTERNAL', `${what}: ${name || 'unexpected error'}`, { cause });
  }
}

const credentialsHint =
  'check the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile, ~/.aws/credentials) and that they may use this bucket';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

function isNetworkCode(code: string): boolean {
  return NETWORK_CODES.has(code);
}

function isNetworkName(name: string): boolean {
  return name === 'TimeoutError' || name === 'AbortError' || name === 'RequestTimeout';
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** A copy of the SDK error with only name, code, status and message: no request, no headers. */
function sanitizedCause(err: unknown): Error {
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
  const out = new Error(e?.message ?? String(err));
  out.name = e?.name ?? 'Error';
  Object.assign(out, { code: e?.code, status: e?.$metadata?.httpStatusCode, attempts: e?.$metadata?.attempts });
  return out;
}

function displayEndpoint(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'the endpoint';
  }
}

function md5Hex(body: Uint8Array): string {
  return createHash('md5').update(body).digest('hex');
}
