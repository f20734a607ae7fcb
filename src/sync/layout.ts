/**
 * The bucket's object-key layout, in one place. Keys are relative to the bucket URL's
 * prefix (`s3://bucket/prefix/` or `file:///dir/`); the store backend prepends it.
 *
 * ```
 * stackunderflow/v1/key.json                        plaintext: format, fingerprint, created
 * stackunderflow/v1/devices/<device-id>/manifest.age
 * stackunderflow/v1/devices/<device-id>/seg/<name>.age      name = hex SHA-256 of the sealed bytes
 * ```
 */
import { SuError } from '../errors.js';

const ROOT = 'stackunderflow/v1/';
const DEVICES = `${ROOT}devices/`;
const DEVICE_ID_RE = /^[0-9a-f]{16}$/;
// A segment's name is the SHA-256 (hex) of its sealed bytes: checkable with sha256sum, and a
// retried upload of the same spooled bytes lands on the same key.
const SEGMENT_NAME_RE = /^[0-9a-f]{64}$/;

/** True for a device id: 16 lowercase hex characters. */
export function isDeviceId(s: string): boolean {
  return DEVICE_ID_RE.test(s);
}

/** True for a segment name: 64 lowercase hex characters (SHA-256 of the sealed object). */
export function isSegmentName(s: string): boolean {
  return SEGMENT_NAME_RE.test(s);
}

function checkDevice(id: string): string {
  if (!isDeviceId(id)) throw new SuError('INTERNAL', 'invalid device id (expected 16 lowercase hex characters)');
  return id;
}

/** The plaintext key.json: the published key fingerprint. */
export function keyJsonKey(): string {
  return `${ROOT}key.json`;
}

/** The prefix to list to discover every device. */
export function devicesPrefix(): string {
  return DEVICES;
}

/** Everything one device writes lives under this prefix. */
export function devicePrefix(deviceId: string): string {
  return `${DEVICES}${checkDevice(deviceId)}/`;
}

/** A device's manifest: the commit point of its pushes. */
export function manifestKey(deviceId: string): string {
  return `${devicePrefix(deviceId)}manifest.age`;
}

/** Where a device's segments live (list it to find orphans to prune). */
export function segmentsPrefix(deviceId: string): string {
  return `${devicePrefix(deviceId)}seg/`;
}

/** One sealed segment. */
export function segmentKey(deviceId: string, name: string): string {
  if (!isSegmentName(name)) throw new SuError('INTERNAL', 'invalid segment name');
  return `${segmentsPrefix(deviceId)}${name}.age`;
}

/** What an object key under `devices/` is. */
export type DeviceObject = { deviceId: string; type: 'manifest' } | { deviceId: string; type: 'segment'; name: string };

/**
 * Parses a key produced by `manifestKey` or `segmentKey`. Returns null for anything
 * else (foreign objects, temp files, a future layout), so listings can skip them.
 */
export function parseDeviceKey(key: string): DeviceObject | null {
  if (!key.startsWith(DEVICES)) return null;
  const parts = key.slice(DEVICES.length).split('/');
  const deviceId = parts[0];
  if (!isDeviceId(deviceId)) return null;
  if (parts.length === 2 && parts[1] === 'manifest.age') return { deviceId, type: 'manifest' };
  if (parts.length === 3 && parts[1] === 'seg' && parts[2].endsWith('.age')) {
    const name = parts[2].slice(0, -'.age'.length);
    if (isSegmentName(name)) return { deviceId, type: 'segment', name };
  }
  return null;
}

/** A key under one device's prefix without that prefix (`seg/<name>.age`, `manifest.age`), for people; other keys unchanged. */
export function keyWithinDevice(key: string): string {
  if (!key.startsWith(DEVICES)) return key;
  const rest = key.slice(DEVICES.length);
  const slash = rest.indexOf('/');
  return slash > 0 && isDeviceId(rest.slice(0, slash)) ? rest.slice(slash + 1) : key;
}
