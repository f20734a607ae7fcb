/**
 * Segment compression: gzip -6 against brotli (quality 4, 6, 11) on real event JSONL.
 * Logs → our adapters → EventRecords → the exact segment JSONL the codec writes → each
 * compressor: ratio, compress and decompress MB/s, and bucket bytes per source-log byte
 * (after age's fixed overhead). Results and the decision: docs/specs/compression.md.
 *
 *   npx tsx bench/compression.ts                      # the copied real fixtures in test/fixtures
 *   npx tsx bench/compression.ts --logs DIR           # any tree with claude/ and/or codex/
 *   npx tsx bench/compression.ts --gen small          # synthetic logs from bench/gen.ts (tiny|small|medium)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';
import { ADAPTERS } from '../src/adapters/index.js';
import { eventUid } from '../src/model/identity.js';
import type { EventRecord, Provider } from '../src/model/event.js';
import { cutSegments, encodeSegment, type SegmentEvent } from '../src/sync/codec.js';
import { Hlc, fixedClock } from '../src/model/clock.js';
import { generate, presetOptions, type SizePreset } from './gen.js';

interface Args {
  logs?: string;
  gen?: SizePreset;
  repeat: number;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { repeat: 5 };
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--logs') out.logs = resolve(v);
    else if (k === '--gen') out.gen = v as SizePreset;
    else if (k === '--repeat') out.repeat = Number(v);
    else throw new Error(`unknown argument ${k}; usage: tsx bench/compression.ts [--logs DIR | --gen tiny|small|medium] [--repeat N]`);
    i++;
  }
  return out;
}


/** Every event the adapters find under `dir`, deduplicated by uid as the store does. */
async function readEvents(dir: string): Promise<{ events: EventRecord[]; logBytes: number }> {
  const env = { ...process.env, CLAUDE_CONFIG_DIR: join(dir, 'claude'), CODEX_HOME: join(dir, 'codex') };
  const byUid = new Map<string, EventRecord>();
  let logBytes = 0;
  for (const adapter of ADAPTERS) {
    const roots = adapter.roots(env).filter((r) => fs.existsSync(r));
    for (const file of await adapter.discover(roots)) {
      const text = fs.readFileSync(file.path, 'utf8');
      logBytes += Buffer.byteLength(text);
      const parser = adapter.parser(file, null);
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        for (const e of parser.line(line) ?? []) byUid.set(e.uid, e);
      }
    }
  }
  return { events: [...byUid.values()], logBytes };
}

// age: header (~200 B for one X25519 recipient) + 16 B nonce + 16 B tag per 64 KiB chunk.
const ageOverhead = (n: number) => 200 + 16 + 16 * Math.ceil((n + 1) / 65536);

interface Codec {
  name: string;
  compress: (b: Buffer) => Buffer;
  decompress: (b: Buffer) => Buffer;
}

const brotli = (q: number): Codec => ({
  name: `brotli q${q}`,
  compress: (b) =>
    brotliCompressSync(b, {
      params: { [constants.BROTLI_PARAM_QUALITY]: q, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: b.length },
    }),
  decompress: (b) => brotliDecompressSync(b),
});

const CODECS: Codec[] = [
  { name: 'gzip -6 (chosen)', compress: (b) => gzipSync(b, { level: 6 }), decompress: (b) => gunzipSync(b) },
  { name: 'gzip -9', compress: (b) => gzipSync(b, { level: 9 }), decompress: (b) => gunzipSync(b) },
  brotli(4),
  brotli(6),
  brotli(11),
];

/**
 * Best-of-N CPU time (user + system) of the calling thread's work: the sync zlib calls run
 * on it, and CPU time stays meaningful on a shared, busy machine where wall time does not.
 */
function timeIt<T>(repeat: number, f: () => T): { ms: number; out: T } {
  let best = Infinity;
  let out!: T;
  for (let i = 0; i < repeat; i++) {
    const t0 = process.cpuUsage();
    out = f();
    const d = process.cpuUsage(t0);
    best = Math.min(best, (d.user + d.system) / 1000);
  }
  return { ms: best, out };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let dir = args.logs ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '../test/fixtures');
  let label = args.logs ? args.logs : 'test/fixtures (real logs copied from public repositories)';
  let tmp: string | undefined;
  if (args.gen) {
    tmp = fs.mkdtempSync(join(os.tmpdir(), 'su-compress-'));
    generate(presetOptions(args.gen, 1, tmp));
    dir = tmp;
    label = `bench/gen.ts --size ${args.gen} --seed 1 (synthetic)`;
  }
  try {
    const { events, logBytes } = await readEvents(dir);
    const hlc = new Hlc(fixedClock(1_764_000_000_000, 1));
    const shipped: SegmentEvent[] = events.map((event, i) => ({ seq: i + 1, writtenAt: hlc.tick(), event }));
    const segments = cutSegments(shipped).map((part) => gunzipSync(encodeSegment({ device: '0123456789abcdef', kind: 'segment', events: part }).plain));
    const raw = segments.reduce((n, s) => n + s.length, 0);
    const mb = raw / 1e6;
    console.log(`input: ${label}`);
    console.log(`source logs ${(logBytes / 1e6).toFixed(2)} MB → ${events.length} events → ${segments.length} segment(s), ${mb.toFixed(2)} MB JSONL (${(raw / Math.max(1, events.length)).toFixed(0)} B/event)`);
    console.log(`node ${process.version}, ${os.cpus().length}× ${os.cpus()[0]?.model ?? 'cpu'}, best of ${args.repeat}, MB/s per CPU-second (MB = 10^6 bytes of JSONL)\n`);
    console.log('| codec | compressed MB | ratio | compress MB/s | decompress MB/s | bucket bytes / log byte |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const c of CODECS) {
      const comp = timeIt(args.repeat, () => segments.map(c.compress));
      const size = comp.out.reduce((n, b) => n + b.length, 0);
      const dec = timeIt(args.repeat, () => comp.out.map(c.decompress));
      if (dec.out.some((b, i) => !b.equals(segments[i]))) throw new Error(`${c.name} did not round-trip`);
      const bucket = comp.out.reduce((n, b) => n + b.length + ageOverhead(b.length), 0);
      console.log(
        `| ${c.name} | ${(size / 1e6).toFixed(3)} | ${(raw / size).toFixed(2)} | ${(mb / (comp.ms / 1000)).toFixed(1)} | ${(mb / (dec.ms / 1000)).toFixed(1)} | ${(bucket / logBytes).toFixed(4)} |`,
      );
    }
    // Format 1, for comparison: the same lines with `uid` (64 hex, a pure function of
    // (provider, session, record)) after writtenAt, as segments carried it until format 2.
    const withUid = segments.map((seg) =>
      Buffer.from(
        seg
          .toString('utf8')
          .split('\n')
          .map((l, i) => {
            if (i === 0 || l === '') return l;
            const t = JSON.parse(l) as unknown[];
            return JSON.stringify([t[0], t[1], eventUid(t[2] as Provider, t[5] as string, t[6] as string), ...t.slice(2)]);
          })
          .join('\n'),
      ),
    );
    const withUidGz = withUid.map((b) => gzipSync(b, { level: 6 }));
    const withUidSize = withUidGz.reduce((n, b) => n + b.length, 0);
    const withUidBucket = withUidGz.reduce((n, b) => n + b.length + ageOverhead(b.length), 0);
    const withUidRaw = withUid.reduce((n, b) => n + b.length, 0);
    console.log(`| (gzip -6, format 1: with uid) | ${(withUidSize / 1e6).toFixed(3)} | ${(withUidRaw / withUidSize).toFixed(2)} | | | ${(withUidBucket / logBytes).toFixed(4)} |`);
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
