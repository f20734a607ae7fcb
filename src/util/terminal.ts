/**
 * Text from logs (and from peers' manifests) printed to a terminal is made inert: a log line
 * can hold ESC sequences or other control characters that would recolour, move the cursor,
 * retitle the window or hide what follows. One sanitiser for every renderer: ESC shows as ␛,
 * the other C0 controls (except newline and tab), DEL and the C1 controls become spaces.
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001a\u001c-\u001f\u007f-\u009f]/g;

/** `s` with every terminal control made visible or blank; newlines and tabs kept. */
export function inert(s: string): string {
  // eslint-disable-next-line no-control-regex -- finding ESC is this sanitiser's job
  return s.replace(/\x1b/g, '␛').replace(CONTROL, ' ');
}

/**
 * A copy of `value` with every string in it made {@link inert} (objects and arrays walked,
 * other values kept): what a text renderer calls on its input first, so no field is forgotten.
 */
export function inertDeep<T>(value: T): T {
  if (typeof value === 'string') return inert(value) as T;
  if (Array.isArray(value)) return value.map(inertDeep) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inertDeep(v)])) as T;
  }
  return value;
}
