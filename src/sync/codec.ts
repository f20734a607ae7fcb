/**
 * The sync wire format (plaintext side): segments, manifests and key.json.
 * Encoding is canonical — fixed field order, sorted keys, no clock, no randomness —
 * so equal data gives equal bytes and equal hashes. Decoding trusts nothing: age
 * proves who wrote an object, not which object it is (age has no associated data), so
 * every object carries its identity (device, kind, seq range, count, format) inside
 * and the decoder checks it against what the manifest promised.
 *
 * Segment plaintext (format 2), gzip-compressed (`age -d -i identity.txt f.age | gunzip` reads it):
 * ```
 * {"count":N,"device":"<id>","format":2,"kind":"segment","seqFrom":a,"seqTo":b}
 * [seq,writtenAt,provider,project,projectPath,session,record,ts,kind,model,sidechain,agent,usageKey,usage,text,extra]
 * …one line per event, ascending seq, '\n' after every line
 * ```
 * Format 1 (still decoded) had `uid` after `writtenAt`; format 2 leaves it out, as the
 * reader recomputes it from (provider, session, record).
 */
import { isUtf8 } from 'node:buffer';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback, gunzipSync, gzip as gzipCallback, gzipSync } from 'node:zlib';
import { eventUid } from '../model/identity.js';
import type { EventRecord, Provider } from '../model/event.js';
import { SuError } from '../errors.js';
import { EVENT_FIELDS, USAGE_FIELDS, canonicalJson, eventFromTuple, eventToTuple, sha256Hex } from '../model/canonical.js';
import { asPlain, MANIFEST_AUTH_ALG, open, seal, type Identity, type ManifestAuth, type Plain, type Recipient, type Sealed } from './crypto.js';
import { isDeviceId, isSegmentName } from './layout.js';

/** Version of the manifest plaintext format. Old versions must keep decoding. */
export const FORMAT = 1;
/** Version of the segment plaintext format written. Format 1 (with `uid`) still decodes. */
export const SEGMENT_FORMAT = 2;
/** The `format` string of key.json. */
const KEY_JSON_FORMAT = 'stackunderflow-sync/v1';

/** Default bounds for one segment: both are upper limits on the uncompressed JSONL. */
export const SEGMENT_LIMITS = { maxEvents: 20_000, maxBytes: 8 * 1024 * 1024 } as const;

// Ceilings for one decompressed object, so a hostile gzip cannot exhaust memory. Far above
// SEGMENT_LIMITS.maxBytes; only a single event larger than the bound could exceed that.
const MAX_SEGMENT_BYTES = 256 * 1024 * 1024;
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/**
 * The most a sealed manifest may weigh in the bucket: its plaintext bound (gzip never grows it
 * by more than a little) plus age's overhead, with room. Readers ask for no more than this.
 */
export const MAX_SEALED_MANIFEST_BYTES = MAX_MANIFEST_BYTES + 1024 * 1024;
const MAX_DEVICE_NAME = 64;
const GZIP_LEVEL = 6;
const HLC_RE = /^\d{13}\.\d{6}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
/**
 * The event fields a format-2 line carries: all but `uid`, a SHA-256 of (provider, session,
 * record) that is ~20 % of a compressed segment and that readers recomputed to check anyway.
 */
const WIRE_FIELDS = EVENT_FIELDS.slice(1);
if (EVENT_FIELDS[0] !== 'uid') throw new Error('codec: uid must lead EVENT_FIELDS');
type Fields = readonly (typeof EVENT_FIELDS)[number][];
const gzipCb = promisify(gzipCallback);
const gunzipCb = promisify(gunzipCallback);

/** A segment holds new/changed events (`segment`) or the compacted latest state (`snapshot`). */
export type SegmentKind = 'segment' | 'snapshot';

/** One event as shipped: its origin device's change number and HLC stamp, and the record. */
export interface SegmentEvent {
  seq: number;
  writtenAt: string;
  event: EventRecord;
}

export interface SegmentInput {
  device: string;
  kind: SegmentKind;
  /** At least one event; any order (encoded ascending by seq); seqs unique. */
  events: SegmentEvent[];
}

/** An encoded segment: the bytes to seal and what the manifest will say about them. */
export interface EncodedSegment {
  /** gzip of the JSONL. */
  plain: Plain;
  /** SHA-256 hex of the uncompressed JSONL (stable across zlib builds, unlike the gzip bytes). */
  sha256: string;
  seqFrom: number;
  seqTo: number;
  count: number;
  /** Length of the uncompressed JSONL. */
  rawBytes: number;
}

/** What a reader expects of a segment, from the manifest that lists it. */
export interface SegmentExpectation {
  device: string;
  kind: SegmentKind;
  seqFrom: number;
  seqTo: number;
  count: number;
  sha256: string;
  /** How to name the object in errors, e.g. its object key. */
  object?: string;
}

/** One segment as listed in a manifest. */
export interface ManifestSegment {
  name: string;
  kind: SegmentKind;
  seqFrom: number;
  seqTo: number;
  count: number;
  /** Size of the sealed object in the bucket (ciphertext bytes): checkable before decrypting. */
  bytes: number;
  /** SHA-256 hex of the segment's uncompressed JSONL. */
  sha256: string;
}

/** A device's manifest: the commit point of its pushes. */
export interface Manifest {
  device: string;
  /** Human device name, at most 64 characters (may be empty). */
  name: string;
  /** Grows by at least one on every manifest write; readers reject a lower one (replay guard). */
  generation: number;
  keyFingerprint: string;
  /** HLC stamp of the write, supplied by the caller (the codec reads no clock). Display only: `generation` orders. */
  writtenAt: string;
  /** Live segments, ascending and non-overlapping seq ranges. */
  segments: ManifestSegment[];
  /** For each peer device id, the highest peer seq this device has merged. */
  acks: Record<string, number>;
  /**
   * Set only by the decoder, on a manifest that carries no `auth` (written before manifests
   * were authenticated, or by someone who knows only the recipient). Callers decide (spec §4.5).
   */
  unauthenticated?: true;
}

/**
 * A manifest whose `auth` does not verify under this identity's key: forged by someone who
 * knows the recipient, edited and sealed again, or made with another key. Nothing it lists
 * may land. INTEGRITY (exit 4), never KEY: re-keying would not help.
 */
export class ForgedManifestError extends SuError {
  constructor(object: string, why: string) {
    super('INTEGRITY', `${object} is not authenticated by this bucket's key (${why}): it was forged or altered after it was written; nothing from it is used`, {
      hint: 'someone who can write to the bucket and knows the public recipient wrote it. Nothing was merged from it. Run `stackunderflow sync verify`; see "Threat model" in docs/specs/sync-protocol-v1.md',
    });
    this.name = 'ForgedManifestError';
  }
}

export interface ManifestExpectation {
  device: string;
  keyFingerprint: string;
  /** Checks the manifest's `auth`. */
  auth: ManifestAuth;
  object?: string;
}

/** The plaintext key.json: lets a joining device check its key without revealing the recipient. */
export interface KeyJson {
  /** ISO-8601 UTC. */
  created: string;
  fingerprint: string;
}

// ---------------------------------------------------------------------------------------
// gzip

/**
 * gzip with a fixed header. Node already writes mtime 0, but the OS byte is zlib's
 * compile-time OS_CODE (3 on Linux, other values on Windows/macOS builds): pin it.
 */
function gzip(data: Uint8Array): Buffer {
  return pinHeader(gzipSync(data, { level: GZIP_LEVEL }));
}

// The async variants run zlib on libuv's thread pool: a push or pull compresses one
// segment while the main thread serializes or parses the next. Same zlib, same bytes.
async function gzipAsync(data: Uint8Array): Promise<Buffer> {
  return pinHeader(await gzipCb(data, { level: GZIP_LEVEL }));
}

function pinHeader(out: Buffer): Buffer {
  out.writeUInt32LE(0, 4); // MTIME
  out[9] = 3; // OS = Unix
  return out;
}

function gunzip(data: Uint8Array, object: string, max: number): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: max });
  } catch (err) {
    throw gunzipError(err, object, max);
  }
}

async function gunzipAsync(data: Uint8Array, object: string): Promise<Buffer> {
  try {
    return await gunzipCb(data, { maxOutputLength: MAX_SEGMENT_BYTES });
  } catch (err) {
    throw gunzipError(err, object, MAX_SEGMENT_BYTES);
  }
}

function gunzipError(err: unknown, object: string, max: number): SuError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'Z_BUF_ERROR' ? 'truncated gzip stream'
    : code === 'ERR_BUFFER_TOO_LARGE' ? `exceeds the size bound (decompresses to more than ${max / 1024 / 1024} MiB)`
    : 'not a valid gzip stream';
  return integrity(object, why);
}

/** A format number from a newer writer is an upgrade problem (exit 2), not damage. */
function checkFormat(v: unknown, object: string, newest = FORMAT, oldest = newest): void {
  if (typeof v === 'number' && Number.isInteger(v) && v >= oldest && v <= newest) return;
  if (typeof v === 'number' && Number.isInteger(v) && v > newest) {
    throw new SuError('CONFIG', `${object} was written by a newer stackunderflow (format ${v}); this version reads format ${newest}`, {
      hint: 'upgrade stackunderflow on this device',
    });
  }
  throw integrity(object, `format ${JSON.stringify(v)} is not a known format`);
}

function integrity(object: string, why: string): SuError {
  return new SuError('INTEGRITY', `${object} is invalid: ${why}`, {
    hint: 'run `stackunderflow sync verify`; nothing from this object was applied',
  });
}

// ---------------------------------------------------------------------------------------
// events

const isSafeNat = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isPos = (v: unknown): v is number => isSafeNat(v) && v >= 1;
const isStr = (v: unknown): v is string => typeof v === 'string';
const isOptStr = (v: unknown): boolean => v === null || v === undefined || typeof v === 'string';

// Which tuple positions are nullable strings; the rest of the strings are required.
const NULLABLE = new Set<string>(['projectPath', 'model', 'agent', 'usageKey', 'text', 'extra']);

/**
 * Why an event tuple (in `fields` order, without seq/writtenAt) is malformed, or null when it
 * is fine. With `uid` among the fields (format 1, and the encoder's check of a store row), the
 * uid must be the one (provider, session, record) derive.
 */
function tupleProblem(t: unknown[], fields: Fields): string | null {
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const v = t[i];
    if (f === 'sidechain') {
      if (typeof v !== 'boolean') return `field ${f} is not a boolean`;
    } else if (f === 'usage') {
      if (v === null || v === undefined) continue;
      if (!Array.isArray(v) || v.length !== USAGE_FIELDS.length) return `field ${f} is not null or ${USAGE_FIELDS.length} numbers`;
      if (!v.every(isSafeNat)) return `field ${f} holds a count that is not an integer ≥ 0`;
    } else if (NULLABLE.has(f)) {
      if (!isOptStr(v)) return `field ${f} is not a string or null`;
    } else if (!isStr(v) || (v === '' && f !== 'ts')) {
      return `field ${f} is not a non-empty string`;
    }
  }
  // The identity is a function of (provider, session, record): a uid that disagrees would
  // make the same event two events, or two events one, on every device that lands it.
  if (fields === EVENT_FIELDS && t[0] !== eventUid(t[1] as Provider, t[4] as string, t[5] as string)) {
    return 'field uid does not match (provider, session, record)';
  }
  return null;
}

/** A format-2 tuple as an event: `uid` recomputed, as every writer derived it. */
function eventFromWire(t: unknown[]): EventRecord {
  return eventFromTuple([eventUid(t[0] as Provider, t[3] as string, t[4] as string), ...t]);
}

function sortedBySeq(events: SegmentEvent[]): SegmentEvent[] {
  return [...events].sort((a, b) => a.seq - b.seq);
}

function segmentHeader(h: { count: number; device: string; kind: SegmentKind; seqFrom: number; seqTo: number }): string {
  return canonicalJson({ count: h.count, device: h.device, format: SEGMENT_FORMAT, kind: h.kind, seqFrom: h.seqFrom, seqTo: h.seqTo });
}

// ---------------------------------------------------------------------------------------
// segments

/**
 * Encodes events as one segment. Throws SuError INTERNAL on input that could not be
 * decoded again (bad device id, duplicate seq, malformed event): better a failed push
 * than a segment every peer rejects.
 */
export function encodeSegment(input: SegmentInput): EncodedSegment {
  const { raw, ...meta } = segmentJsonl(input.device, input.kind, wholePart(input));
  return { plain: asPlain(gzip(raw)), ...meta };
}

/**
 * Why one event cannot go into a segment (a value the wire format cannot carry, e.g. a token
 * count that is not an integer ≥ 0), or null. Lets a writer hold a bad row back instead of
 * failing the whole segment on it.
 */
export function segmentEventProblem(e: SegmentEvent): string | null {
  if (!isPos(e.seq)) return `seq ${String(e.seq)} is not a positive integer`;
  if (!isStr(e.writtenAt) || !HLC_RE.test(e.writtenAt)) return 'invalid writtenAt stamp';
  return tupleProblem(eventToTuple(e.event), EVENT_FIELDS);
}

/** All of a segment's events as one part, whatever their size. */
function wholePart(input: SegmentInput): SegmentPart {
  if (input.events.length === 0) throw new SuError('INTERNAL', 'encodeSegment: a segment needs at least one event');
  const cutter = new SegmentCutter({ maxEvents: Infinity, maxBytes: Infinity });
  for (const e of sortedBySeq(input.events)) cutter.add(e);
  return cutter.flush()!;
}

function segmentJsonl(device: string, kind: SegmentKind, part: SegmentPart): Omit<EncodedSegment, 'plain'> & { raw: Buffer } {
  if (!isDeviceId(device)) throw new SuError('INTERNAL', 'encodeSegment: invalid device id');
  if (kind !== 'segment' && kind !== 'snapshot') throw new SuError('INTERNAL', 'encodeSegment: invalid kind');
  const { seqFrom, seqTo, count } = part;
  const header = segmentHeader({ count, device, kind, seqFrom, seqTo });
  // The header goes into the room the cutter left in front of the lines: no copy of the lines.
  const start = HEADER_ROOM - 1 - Buffer.byteLength(header, 'utf8');
  if (start < 0) throw new SuError('INTERNAL', 'encodeSegment: header too long');
  part.buf.write(header, start, 'utf8');
  part.buf[HEADER_ROOM - 1] = 0x0a;
  const raw = part.buf.subarray(start, HEADER_ROOM + part.bytes);
  return { raw, sha256: sha256Hex(raw), seqFrom, seqTo, count, rawBytes: raw.length };
}

/** Bytes kept in front of a part's first line for its header line (a little over 100 bytes at most). */
const HEADER_ROOM = 160;
/** First buffer of a part without a byte bound (it doubles as needed). */
const UNBOUNDED_START = 64 * 1024;

/** Events cut into one segment: their JSONL lines, already in the buffer the segment is encoded from. */
export interface SegmentPart {
  seqFrom: number;
  seqTo: number;
  count: number;
  /** UTF-8 length of the lines, a newline counted after each. */
  bytes: number;
  /** The lines from offset HEADER_ROOM on; the header is written in front of them when encoded. */
  buf: Buffer;
}

/**
 * Cuts events arriving in ascending seq order into parts that each fit the limits, measured
 * as uncompressed JSONL; an event larger than `maxBytes` on its own gets a part of its own.
 * Every event is checked and serialized once, here (SuError INTERNAL when it could not be
 * decoded again), and its line written at once into the part's buffer: neither the events
 * nor their strings outlive the call, so a 1 M-event push does not promote them to V8's old
 * generation (GC was its largest cost). Line by line also matters for speed: joined, one
 * non-Latin-1 character makes the whole string two-byte, which V8 encodes to UTF-8 ten times
 * slower. Streaming, so a push or compaction reading the store in batches fills each part up
 * to the bounds across batch boundaries.
 */
export class SegmentCutter {
  private readonly maxEvents: number;
  private readonly budget: number;
  private buf: Buffer | null = null;
  private bytes = 0;
  private count = 0;
  private seqFrom = 0;
  private prev = 0;

  constructor(limits: { maxEvents?: number; maxBytes?: number } = {}) {
    this.maxEvents = limits.maxEvents ?? SEGMENT_LIMITS.maxEvents;
    this.budget = (limits.maxBytes ?? SEGMENT_LIMITS.maxBytes) - HEADER_ROOM;
  }

  /** Adds the next event; returns the part it closed, if it did not fit there. */
  add(e: SegmentEvent): SegmentPart | null {
    if (!isPos(e.seq)) throw new SuError('INTERNAL', `encodeSegment: seq ${String(e.seq)} is not a positive integer`);
    if (e.seq === this.prev) throw new SuError('INTERNAL', `encodeSegment: seq ${e.seq} appears twice`);
    if (e.seq < this.prev) throw new SuError('INTERNAL', `encodeSegment: seq ${e.seq} comes after ${this.prev}`);
    if (!isStr(e.writtenAt) || !HLC_RE.test(e.writtenAt)) throw new SuError('INTERNAL', `encodeSegment: seq ${e.seq} has an invalid writtenAt stamp`);
    // Checked with its uid (a store row whose uid disagrees would change identity on the way),
    // shipped without it.
    const tuple = eventToTuple(e.event);
    const problem = tupleProblem(tuple, EVENT_FIELDS);
    if (problem) throw new SuError('INTERNAL', `encodeSegment: seq ${e.seq}: ${problem}`);
    tuple[0] = e.writtenAt;
    const line = JSON.stringify([e.seq, ...tuple]);
    const n = Buffer.byteLength(line, 'utf8') + 1;
    const done = this.count > 0 && (this.count >= this.maxEvents || this.bytes + n > this.budget) ? this.flush() : null;
    const at = this.reserve(n);
    this.buf!.write(line, at, 'utf8');
    this.buf![at + n - 1] = 0x0a;
    if (this.count === 0) this.seqFrom = e.seq;
    this.count++;
    this.bytes += n;
    this.prev = e.seq;
    return done;
  }

  /** The part being filled, or null when it is empty; the next event starts a new one. */
  flush(): SegmentPart | null {
    if (this.count === 0) return null;
    const part: SegmentPart = { seqFrom: this.seqFrom, seqTo: this.prev, count: this.count, bytes: this.bytes, buf: this.buf! };
    this.buf = null;
    this.count = 0;
    this.bytes = 0;
    return part;
  }

  /** Makes room for n more bytes; returns where they go. */
  private reserve(n: number): number {
    const at = HEADER_ROOM + this.bytes;
    if (this.buf && at + n <= this.buf.length) return at;
    // A bounded part gets its bound at once (untouched pages cost nothing); an unbounded one grows.
    const bound = HEADER_ROOM + this.budget;
    let size = Number.isFinite(bound) ? bound : Math.max(UNBOUNDED_START, 2 * (this.buf?.length ?? 0));
    size = Math.max(size, at + n);
    const grown = Buffer.allocUnsafe(size);
    this.buf?.copy(grown, 0, 0, at);
    this.buf = grown;
    return at;
  }
}

/**
 * Decodes a segment and checks it is exactly the object the manifest promised:
 * gzip intact, plaintext SHA-256, header (format, device, kind, range, count), every
 * line a well-formed event tuple, seqs strictly ascending from seqFrom to seqTo.
 * Any mismatch is SuError INTEGRITY naming the object, never its content.
 */
export function decodeSegment(plainGz: Uint8Array, expect: SegmentExpectation): SegmentEvent[] {
  const object = segmentObject(expect);
  return parseSegment(gunzip(plainGz, object, MAX_SEGMENT_BYTES), expect, object);
}

function segmentObject(expect: SegmentExpectation): string {
  return expect.object ?? `segment ${expect.device}:${expect.seqFrom}-${expect.seqTo}`;
}

function parseSegment(raw: Buffer, expect: SegmentExpectation, object: string): SegmentEvent[] {
  if (sha256Hex(raw) !== expect.sha256) throw integrity(object, 'content hash does not match the manifest');
  // Validated once, then decoded line by line: decoding the whole 8 MB at once made one
  // two-byte string of it whenever a single character was outside Latin-1, and every line
  // sliced from it stayed two-byte (~10 s per 1 M events, against ~1 s this way).
  if (!isUtf8(raw)) throw integrity(object, 'not UTF-8 text');
  if (raw.length === 0 || raw[raw.length - 1] !== 0x0a) throw integrity(object, 'last line is not terminated');
  const lines: string[] = [];
  for (let start = 0; start < raw.length; ) {
    const nl = raw.indexOf(0x0a, start);
    lines.push(raw.toString('utf8', start, nl));
    start = nl + 1;
  }

  const header = parseJson(lines[0], object, 'header');
  const format = checkHeader(header, expect, object);
  const fields = format === 1 ? EVENT_FIELDS : WIRE_FIELDS;
  const arity = 2 + fields.length;
  if (lines.length < 2) throw integrity(object, 'holds no events');
  if (lines.length - 1 !== expect.count) throw integrity(object, `holds ${lines.length - 1} event lines, header says ${expect.count}`);

  const out = new Array<SegmentEvent>(expect.count);
  let prev = expect.seqFrom - 1;
  for (let i = 1; i < lines.length; i++) {
    const t = parseJson(lines[i], object, `line ${i + 1}`);
    if (!Array.isArray(t) || t.length !== arity) throw integrity(object, `line ${i + 1} is not an event tuple of ${arity} fields`);
    const [seq, writtenAt] = t as unknown[];
    if (!isPos(seq)) throw integrity(object, `line ${i + 1}: seq is not a positive integer`);
    if (seq <= prev) throw integrity(object, `line ${i + 1}: seq ${seq} is not above the previous ${prev}`);
    if (seq > expect.seqTo) throw integrity(object, `line ${i + 1}: seq ${seq} is beyond seqTo ${expect.seqTo}`);
    if (!isStr(writtenAt) || !HLC_RE.test(writtenAt)) throw integrity(object, `line ${i + 1}: writtenAt is not an HLC stamp`);
    const tuple = t.slice(2);
    const problem = tupleProblem(tuple, fields);
    if (problem) throw integrity(object, `line ${i + 1}: ${problem}`);
    out[i - 1] = { seq, writtenAt, event: format === 1 ? eventFromTuple(tuple) : eventFromWire(tuple) };
    prev = seq;
  }
  if (out[0].seq !== expect.seqFrom || prev !== expect.seqTo) {
    throw integrity(object, `events span ${out[0].seq}-${prev}, expected ${expect.seqFrom}-${expect.seqTo}`);
  }
  return out;
}

function parseJson(line: string, object: string, where: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw integrity(object, `${where} is not valid JSON`);
  }
}

/** Checks a segment header against the manifest entry; returns its format. */
function checkHeader(h: unknown, expect: SegmentExpectation, object: string): number {
  if (!isRecord(h)) throw integrity(object, 'header is not a JSON object');
  checkFormat(h.format, object, SEGMENT_FORMAT, 1);
  checkKeys(h, ['count', 'device', 'format', 'kind', 'seqFrom', 'seqTo'], object, 'header', h.format as number);
  const fields = ['device', 'kind', 'seqFrom', 'seqTo', 'count'] as const;
  for (const f of fields) {
    if (h[f] !== expect[f]) throw integrity(object, `header says ${f} ${JSON.stringify(h[f])}, the manifest says ${JSON.stringify(expect[f])}`);
  }
  return h.format as number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(o: Record<string, unknown>, keys: readonly string[], object: string, where: string, format = FORMAT): void {
  const have = Object.keys(o).sort();
  const want = [...keys].sort();
  if (have.length !== want.length || have.some((k, i) => k !== want[i])) {
    const missing = want.filter((k) => !(k in o));
    const extra = have.filter((k) => !want.includes(k));
    throw integrity(object, `${where} fields differ from format ${format} (missing: ${missing.join(',') || 'none'}; unexpected: ${extra.length} field(s))`);
  }
}

/**
 * Splits events (any order) into ascending runs that each fit the limits, measured as
 * uncompressed JSONL. An event larger than `maxBytes` on its own gets a segment of its own.
 */
export function cutSegments(events: SegmentEvent[], limits: { maxEvents?: number; maxBytes?: number } = {}): SegmentEvent[][] {
  const cutter = new SegmentCutter(limits);
  const sorted = sortedBySeq(events);
  const counts: number[] = [];
  for (const e of sorted) {
    const done = cutter.add(e);
    if (done) counts.push(done.count);
  }
  const last = cutter.flush();
  if (last) counts.push(last.count);
  let at = 0;
  return counts.map((n) => sorted.slice(at, (at += n)));
}

// ---------------------------------------------------------------------------------------
// manifests

/** Why a manifest-shaped value is malformed, or null. Shared by encode (INTERNAL) and decode (INTEGRITY). */
function manifestProblem(m: Record<string, unknown>): string | null {
  if (!isStr(m.device) || !isDeviceId(m.device)) return 'device is not a device id';
  if (!isStr(m.name) || m.name.length > MAX_DEVICE_NAME) return `name is not a string of at most ${MAX_DEVICE_NAME} characters`;
  if (!isPos(m.generation)) return 'generation is not a positive integer';
  if (!isStr(m.keyFingerprint) || !SHA256_RE.test(m.keyFingerprint)) return 'keyFingerprint is not a SHA-256 hex string';
  if (!isStr(m.writtenAt) || !HLC_RE.test(m.writtenAt)) return 'writtenAt is not an HLC stamp';
  if (!Array.isArray(m.segments)) return 'segments is not a list';
  const names = new Set<string>();
  let prevTo = 0;
  for (const [i, s] of m.segments.entries()) {
    const at = `segments[${i}]`;
    if (!isRecord(s)) return `${at} is not an object`;
    if (!isStr(s.name) || !isSegmentName(s.name)) return `${at}.name is not a segment name`;
    if (names.has(s.name)) return `${at}.name is listed twice`;
    names.add(s.name);
    if (s.kind !== 'segment' && s.kind !== 'snapshot') return `${at}.kind is not segment or snapshot`;
    if (!isPos(s.seqFrom) || !isPos(s.seqTo) || s.seqTo < s.seqFrom) return `${at} has an invalid seq range`;
    if (!isPos(s.count) || s.count > s.seqTo - s.seqFrom + 1) return `${at}.count does not fit its seq range`;
    if (!isSafeNat(s.bytes)) return `${at}.bytes is not a byte count`;
    if (!isStr(s.sha256) || !SHA256_RE.test(s.sha256)) return `${at}.sha256 is not a SHA-256 hex string`;
    if (s.seqFrom <= prevTo) return `${at} overlaps or precedes the segment before it`;
    prevTo = s.seqTo;
  }
  if (!isRecord(m.acks)) return 'acks is not an object';
  for (const [peer, seq] of Object.entries(m.acks)) {
    if (!isDeviceId(peer)) return 'acks has a key that is not a device id';
    if (peer === m.device) return 'acks names the manifest’s own device';
    if (!isSafeNat(seq)) return `acks of ${peer} is not a non-negative integer`;
  }
  return null;
}

/**
 * Encodes a manifest: canonical JSON (sorted keys, segments in seq order) with its `auth`
 * (a MAC over the canonical JSON of every other field), gzipped.
 * Throws SuError INTERNAL when the manifest would not decode.
 */
export function encodeManifest(m: Manifest, auth: ManifestAuth): Plain {
  const segments = [...m.segments]
    .sort((a, b) => a.seqFrom - b.seqFrom)
    .map((s) => ({ bytes: s.bytes, count: s.count, kind: s.kind, name: s.name, seqFrom: s.seqFrom, seqTo: s.seqTo, sha256: s.sha256 }));
  const value = {
    acks: { ...m.acks },
    device: m.device,
    format: FORMAT,
    generation: m.generation,
    keyFingerprint: m.keyFingerprint,
    kind: 'manifest',
    name: m.name,
    segments,
    writtenAt: m.writtenAt,
  };
  const problem = manifestProblem(value);
  if (problem) throw new SuError('INTERNAL', `encodeManifest: ${problem}`);
  const signed = { ...value, auth: { alg: auth.alg, kid: auth.kid, sig: auth.sign(authInput(value)) } };
  return asPlain(gzip(Buffer.from(canonicalJson(signed) + '\n', 'utf8')));
}

/** What `auth.sig` covers: the canonical JSON of the manifest object without `auth` (unknown keys included). */
function authInput(value: Record<string, unknown>): Uint8Array {
  const { auth: _auth, ...rest } = value;
  return Buffer.from(canonicalJson(rest), 'utf8');
}

/** Checks `auth`: absent → null (the caller decides about an unauthenticated manifest); wrong → ForgedManifestError. */
function checkAuth(v: Record<string, unknown>, auth: ManifestAuth, object: string): 'ok' | 'absent' {
  if (!('auth' in v)) return 'absent';
  const a = v.auth;
  if (!isRecord(a) || !isStr(a.alg) || !isStr(a.kid) || !isStr(a.sig)) throw new ForgedManifestError(object, 'its auth field is malformed');
  if (a.alg !== MANIFEST_AUTH_ALG) throw new ForgedManifestError(object, `auth algorithm ${JSON.stringify(a.alg.slice(0, 20))} is not ${MANIFEST_AUTH_ALG}`);
  if (a.kid !== auth.kid) throw new ForgedManifestError(object, 'it names another key id');
  if (!auth.check(authInput(v), a.sig)) throw new ForgedManifestError(object, 'its MAC does not match');
  return 'ok';
}

/** One JSON object in strict UTF-8 (a manifest, key.json); anything else is an integrity error naming `object`. */
function jsonObject(bytes: Uint8Array, object: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw integrity(object, 'not valid JSON');
  }
  if (!isRecord(v)) throw integrity(object, 'not a JSON object');
  return v;
}

/**
 * Decodes a manifest and checks it belongs where it was found (device) and to this
 * bucket's key (fingerprint). The replay guard (generation) is the caller's: it knows
 * the last generation accepted.
 */
export function decodeManifest(plainGz: Uint8Array, expect: ManifestExpectation): Manifest {
  const object = expect.object ?? `manifest of device ${expect.device}`;
  const v = jsonObject(gunzip(plainGz, object, MAX_MANIFEST_BYTES), object);
  checkFormat(v.format, object);
  if (v.kind !== 'manifest') throw integrity(object, 'kind is not manifest');
  // Unknown keys are ignored (additive changes within format 1); known ones must be valid.
  const problem = manifestProblem(v);
  if (problem) throw integrity(object, problem);
  if (v.device !== expect.device) throw integrity(object, `says device ${String(v.device)}, found under device ${expect.device}`);
  if (v.keyFingerprint !== expect.keyFingerprint) throw integrity(object, 'names a different key fingerprint than the bucket’s key.json');
  const authenticated = checkAuth(v, expect.auth, object) === 'ok';
  const m = v as unknown as Manifest & { format: number; kind: string };
  return {
    ...(authenticated ? {} : { unauthenticated: true as const }),
    device: m.device,
    name: m.name,
    generation: m.generation,
    keyFingerprint: m.keyFingerprint,
    writtenAt: m.writtenAt,
    segments: m.segments.map((s) => ({ name: s.name, kind: s.kind, seqFrom: s.seqFrom, seqTo: s.seqTo, count: s.count, bytes: s.bytes, sha256: s.sha256 })),
    acks: { ...m.acks },
  };
}

// ---------------------------------------------------------------------------------------
// key.json (plaintext by design: it holds only the fingerprint)

/** key.json bytes: canonical JSON and a newline. */
export function encodeKeyJson(k: KeyJson): Uint8Array {
  if (!ISO_RE.test(k.created) || !SHA256_RE.test(k.fingerprint)) throw new SuError('INTERNAL', 'encodeKeyJson: invalid created or fingerprint');
  return Buffer.from(canonicalJson({ created: k.created, fingerprint: k.fingerprint, format: KEY_JSON_FORMAT }) + '\n', 'utf8');
}

/** Parses the bucket's key.json. Malformed → INTEGRITY; another format → CONFIG; unknown fields ignored. */
export function decodeKeyJson(bytes: Uint8Array): KeyJson {
  const object = 'the bucket’s key.json';
  const v = jsonObject(bytes, object);
  if (!isStr(v.format)) throw integrity(object, 'not a stackunderflow sync key file (no format)');
  if (v.format !== KEY_JSON_FORMAT) {
    throw new SuError('CONFIG', `this bucket was written by another version of stackunderflow (${v.format.slice(0, 40)}); this version reads ${KEY_JSON_FORMAT}`, {
      hint: 'upgrade stackunderflow on this device',
    });
  }
  // Unknown fields are ignored: room for team mode (e.g. a list of member fingerprints).
  if (!isStr(v.created) || !ISO_RE.test(v.created)) throw integrity(object, 'created is not an ISO-8601 UTC time');
  if (!isStr(v.fingerprint) || !SHA256_RE.test(v.fingerprint)) throw integrity(object, 'fingerprint is not a SHA-256 hex string');
  return { created: v.created, fingerprint: v.fingerprint };
}

// ---------------------------------------------------------------------------------------
// seal/open conveniences (crypto stays in crypto.ts)

/** A sealed segment, its default object name and its manifest entry. */
export interface SealedSegment {
  sealed: Sealed;
  /** SHA-256 hex of the ciphertext: re-uploading the same spooled bytes hits the same key. */
  name: string;
  entry: ManifestSegment;
}

/** encodeSegment, then seal. */
export async function sealSegment(input: SegmentInput, recipient: Recipient): Promise<SealedSegment> {
  return sealSegmentPart(input.device, input.kind, wholePart(input), recipient);
}

/** Encodes a part {@link SegmentCutter} cut (reusing its serialized lines), then seals it. */
export async function sealSegmentPart(device: string, kind: SegmentKind, part: SegmentPart, recipient: Recipient): Promise<SealedSegment> {
  const { raw, ...enc } = segmentJsonl(device, kind, part);
  const sealed = await seal(asPlain(await gzipAsync(raw)), recipient);
  const name = sha256Hex(sealed);
  return {
    sealed,
    name,
    entry: { name, kind, seqFrom: enc.seqFrom, seqTo: enc.seqTo, count: enc.count, bytes: sealed.length, sha256: enc.sha256 },
  };
}

/** Size and name (= SHA-256 of the sealed bytes) checks, open, then decodeSegment against the manifest entry. */
export async function openSegment(sealed: Sealed, identity: Identity, device: string, entry: ManifestSegment, object?: string): Promise<SegmentEvent[]> {
  const { expect } = checkSealedSegment(sealed, device, entry, object);
  const gz = await open(sealed, identity, expect.object);
  return parseSegment(await gunzipAsync(gz, expect.object!), expect, expect.object!);
}

/** The checks a sealed segment passes before decryption: its size and its name (= SHA-256). */
export function checkSealedSegment(sealed: Sealed, device: string, entry: ManifestSegment, object?: string): { sealed: Sealed; expect: SegmentExpectation } {
  const what = object ?? `segment ${entry.name} of device ${device}`;
  if (sealed.length !== entry.bytes) throw integrity(what, `its size is ${sealed.length} bytes, the manifest says ${entry.bytes}`);
  if (sha256Hex(sealed) !== entry.name) throw integrity(what, 'its SHA-256 is not its name: damaged or altered');
  return { sealed, expect: { device, kind: entry.kind, seqFrom: entry.seqFrom, seqTo: entry.seqTo, count: entry.count, sha256: entry.sha256, object: what } };
}

/** encodeManifest (authenticated with the identity's manifest key), then seal to its recipient. */
export async function sealManifest(m: Manifest, identity: Identity): Promise<Sealed> {
  return seal(encodeManifest(m, await identity.manifestAuth()), await identity.recipient());
}

/** open, then decodeManifest. */
export async function openManifest(sealed: Sealed, identity: Identity, expect: Omit<ManifestExpectation, 'auth'>): Promise<Manifest> {
  const what = expect.object ?? `manifest of device ${expect.device}`;
  return decodeManifest(await open(sealed, identity, what), { ...expect, auth: await identity.manifestAuth(), object: what });
}
