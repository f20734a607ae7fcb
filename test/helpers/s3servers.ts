import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** Where a test S3 server is and how to sign for it. */
export interface S3Target {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** A server this process started; `stop()` makes its port refuse connections. */
export interface RunningS3 extends S3Target {
  stop(): Promise<void>;
}

// s3rver ships no types; this is the part of its API we use.
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  httpServer: Server;
}
type S3rverCtor = new (opts: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

/**
 * Starts s3rver in-process on 127.0.0.1 (random port) with one bucket. It checks no
 * signatures, ignores If-Match / If-None-Match on PUT, and paginates lists only when Node
 * runs with --openssl-legacy-provider (vitest.config.ts sets it for the test workers).
 */
export async function startS3rver(bucket = 'test-bucket'): Promise<RunningS3> {
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'su-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    async stop() {
      // close() alone waits for the SDK's keep-alive sockets to time out.
      const closed = new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
      server.httpServer.closeAllConnections();
      await closed;
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Env vars naming a running radosgw (scripts/radosgw.sh prints them). */
export const RGW_ENV = {
  endpoint: 'STACKUNDERFLOW_TEST_RGW_ENDPOINT',
  accessKey: 'STACKUNDERFLOW_TEST_RGW_ACCESS_KEY',
  secretKey: 'STACKUNDERFLOW_TEST_RGW_SECRET_KEY',
  bucket: 'STACKUNDERFLOW_TEST_RGW_BUCKET',
  region: 'STACKUNDERFLOW_TEST_RGW_REGION',
  /** Set by `npm test` and CI: there a missing radosgw fails the suite instead of skipping it. */
  required: 'STACKUNDERFLOW_TEST_REQUIRE_RGW',
} as const;

/**
 * The radosgw to test against, from env; undefined when STACKUNDERFLOW_TEST_RGW_ENDPOINT is
 * unset. Access and secret key are required with it; bucket and region have the defaults
 * scripts/radosgw.sh uses.
 */
export function rgwFromEnv(env: NodeJS.ProcessEnv = process.env): S3Target | undefined {
  const endpoint = env[RGW_ENV.endpoint];
  if (!endpoint) return undefined;
  const accessKeyId = env[RGW_ENV.accessKey];
  const secretAccessKey = env[RGW_ENV.secretKey];
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(`${RGW_ENV.endpoint} is set but ${RGW_ENV.accessKey} / ${RGW_ENV.secretKey} are not (eval "$(scripts/radosgw.sh env)")`);
  }
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    bucket: env[RGW_ENV.bucket] || 'stackunderflow-test',
    region: env[RGW_ENV.region] || 'us-east-1',
  };
}

/**
 * The radosgw tests' target, or why they cannot run here: a reason to put in the skipped
 * suite's name, so the runner's summary says what did not run. Where radosgw is required
 * (`npm test`, CI) a missing endpoint throws instead, failing the file.
 */
export function rgwOrSkip(env: NodeJS.ProcessEnv = process.env): { rgw: S3Target; skip?: undefined } | { rgw?: undefined; skip: string } {
  const rgw = rgwFromEnv(env);
  if (rgw) return { rgw };
  const skip = `SKIPPED: no radosgw (${RGW_ENV.endpoint} is not set; \`npm test\` starts one, or eval "$(scripts/radosgw.sh start)")`;
  if (env[RGW_ENV.required]) throw new Error(`${RGW_ENV.required} is set but radosgw is not: ${skip}`);
  return { skip };
}
