/**
 * Sync encryption: age v1 (X25519 recipients, ChaCha20-Poly1305 STREAM) through
 * `age-encryption`. We never touch a nonce or a raw AEAD; this module only picks the
 * identity type, keeps the secret from printing, keeps plaintext and ciphertext apart
 * in the type system, and turns the library's errors into one actionable SuError.
 * No age-encryption type appears in an export.
 */
import { timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import type * as AgeEncryption from 'age-encryption';
import type * as NobleHkdf from '@noble/hashes/hkdf.js';
import type * as NobleHmac from '@noble/hashes/hmac.js';
import type * as NobleSha2 from '@noble/hashes/sha2.js';
import { SuError, messageOf } from '../errors.js';
import { sha256Hex } from '../model/canonical.js';
import { importEsm } from '../util/esm.js';

declare const plainBrand: unique symbol;
declare const sealedBrand: unique symbol;
declare const recipientBrand: unique symbol;

/** Bytes that are not encrypted: must never be uploaded as they are. */
export type Plain = Uint8Array & { readonly [plainBrand]: true };
/** An age file: the only kind of bytes push may upload (besides the plaintext key.json). */
export type Sealed = Uint8Array & { readonly [sealedBrand]: true };
/** An age X25519 recipient (`age1…`). Not secret, but v1 never publishes it (only its fingerprint). */
export type Recipient = string & { readonly [recipientBrand]: true };

/** Marks bytes as plaintext (local data about to be sealed, or the output of a decoder). */
export function asPlain(bytes: Uint8Array): Plain {
  return bytes as Plain;
}

/** Marks bytes read from the bucket or the spool as ciphertext; `open` is what authenticates them. */
export function asSealed(bytes: Uint8Array): Sealed {
  return bytes as Sealed;
}

// Loaded on first use, by import(): the package is an ES module only, and the bin is CommonJS
// (scripts/build-cli.mjs), where a static import would become a require() of it.
let ageModule: Promise<typeof AgeEncryption> | undefined;
const age = (): Promise<typeof AgeEncryption> => (ageModule ??= importEsm<typeof AgeEncryption>('age-encryption'));

// @noble/hashes is also an ES module only; loaded the same way, and only when sync runs.
let nobleModules: Promise<[typeof NobleHkdf, typeof NobleHmac, typeof NobleSha2]> | undefined;
const noble = () =>
  (nobleModules ??= Promise.all([
    importEsm<typeof NobleHkdf>('@noble/hashes/hkdf.js'),
    importEsm<typeof NobleHmac>('@noble/hashes/hmac.js'),
    importEsm<typeof NobleSha2>('@noble/hashes/sha2.js'),
  ]));

const REDACTED = '[redacted]';
// Bech32 of 32 bytes = 52 data characters + 6 checksum characters.
const SECRET_RE = /^AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}$/;
const RECIPIENT_RE = /^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/;

/**
 * The sync secret (`AGE-SECRET-KEY-1…`). Held in a private field; `toString`,
 * `toJSON` and `util.inspect` print `[redacted]`, so an identity that slips into a
 * log line, an error or a JSON response leaks nothing.
 */
export class Identity {
  readonly #secret: string;
  #recipient: Promise<Recipient> | undefined;
  #auth: Promise<ManifestAuth> | undefined;

  private constructor(secret: string) {
    this.#secret = secret;
  }

  /**
   * Validates an identity string. Throws SuError KEY (without echoing the input) when it
   * is not an age X25519 secret key.
   */
  static async parse(text: string, source = 'the sync key'): Promise<Identity> {
    const s = text.trim();
    if (s.startsWith('AGE-SECRET-KEY-PQ-1')) {
      throw new SuError('KEY', `${source} is a post-quantum age key; stackunderflow sync v1 uses X25519 keys`, {
        hint: 'use the key printed by `stackunderflow sync init` or `stackunderflow sync key export` on your first device',
      });
    }
    if (!SECRET_RE.test(s)) {
      throw new SuError('KEY', `${source} is not an age secret key (expected one line starting with AGE-SECRET-KEY-1, 74 characters)`, {
        hint: 'copy it again from `stackunderflow sync key export` on a device that already syncs',
      });
    }
    const id = new Identity(s);
    try {
      // The checksum and curve point are only checked by deriving the recipient.
      await id.recipient();
    } catch {
      throw new SuError('KEY', `${source} is not a valid age secret key (checksum mismatch: a character was changed or lost)`, {
        hint: 'copy it again from `stackunderflow sync key export` on a device that already syncs',
      });
    }
    return id;
  }

  /** The public half, derived once. */
  recipient(): Promise<Recipient> {
    this.#recipient ??= age().then(({ identityToRecipient }) => identityToRecipient(this.#secret)).then((r) => r as Recipient);
    return this.#recipient;
  }

  /**
   * The secret string itself. Only for writing the identity file, for `sync key export`
   * and for the pull's decoder thread (src/sync/decoder.ts); nothing else should call this.
   */
  revealSecret(): string {
    return this.#secret;
  }

  /**
   * The manifest authenticator of this identity: an HMAC-SHA-256 key derived from the secret
   * by HKDF, so only a holder of the secret (not of the recipient) can make a manifest that
   * passes. Derived once.
   */
  manifestAuth(): Promise<ManifestAuth> {
    this.#auth ??= (async () => {
      const [{ hkdf }, { hmac }, { sha256 }] = await noble();
      const utf8 = (s: string) => new TextEncoder().encode(s);
      const key = hkdf(sha256, utf8(this.#secret), utf8(AUTH_SALT), utf8(AUTH_INFO), 32);
      const kid = fingerprint(await this.recipient()).slice(0, 16);
      const mac = (bytes: Uint8Array) => Buffer.from(hmac(sha256, key, bytes)).toString('hex');
      return new ManifestAuth(kid, mac);
    })();
    return this.#auth;
  }

  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return `Identity ${REDACTED}`;
  }
}

/** HKDF salt and info of the manifest key: fixed labels, so the derived key is only ever this MAC's. */
const AUTH_SALT = 'stackunderflow-sync/v1';
const AUTH_INFO = 'manifest-auth hmac-sha256';
/** The one algorithm v1 writes in a manifest's `auth.alg`. Team mode adds `ed25519` (spec §3.8). */
export const MANIFEST_AUTH_ALG = 'hmac-sha256';

/**
 * Signs and checks manifest bytes for one identity. The MAC key stays inside (closed over);
 * `kid` names the key (the first 16 hex of the key fingerprint), so a reader can tell "made
 * with another key" from "altered".
 */
export class ManifestAuth {
  readonly alg = MANIFEST_AUTH_ALG;
  readonly kid: string;
  readonly #mac: (bytes: Uint8Array) => string;

  constructor(kid: string, mac: (bytes: Uint8Array) => string) {
    this.kid = kid;
    this.#mac = mac;
  }

  /** The tag (64 hex) of `bytes`. */
  sign(bytes: Uint8Array): string {
    return this.#mac(bytes);
  }

  /** True when `sig` is the tag of `bytes`; compared in constant time. */
  check(bytes: Uint8Array, sig: string): boolean {
    const want = Buffer.from(this.#mac(bytes), 'hex');
    const got = /^[0-9a-f]{64}$/.test(sig) ? Buffer.from(sig, 'hex') : Buffer.alloc(32);
    return timingSafeEqual(want, got) && got.length === 32 && /^[0-9a-f]{64}$/.test(sig);
  }

  toString(): string {
    return `ManifestAuth ${this.kid}`;
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * A fresh identity. Always X25519: age's default may become a post-quantum hybrid,
 * which the age 1.1 CLI in Debian stable cannot read, and stock-tool recovery is a promise.
 */
export async function generateIdentity(): Promise<Identity> {
  return Identity.parse(await (await age()).generateX25519Identity());
}

/** The recipient (public key) of an identity. */
export function recipientOf(identity: Identity): Promise<Recipient> {
  return identity.recipient();
}

/** Validates a recipient string (`age1…`, X25519 only). */
export function parseRecipient(text: string): Recipient {
  const s = text.trim();
  if (!RECIPIENT_RE.test(s)) throw new SuError('KEY', 'not an age X25519 recipient (expected age1…, 62 characters)');
  return s as Recipient;
}

/**
 * The key fingerprint published in the bucket's key.json: SHA-256 (hex) of the
 * recipient string. Lets a device check it holds the right key without the bucket
 * revealing the recipient, which is what would let someone forge segments.
 */
export function fingerprint(recipient: Recipient): string {
  return sha256Hex(recipient);
}

/** Encrypts to one recipient. The output differs on every call (fresh file key). */
export async function seal(plain: Plain, recipient: Recipient): Promise<Sealed> {
  const e = new (await age()).Encrypter();
  e.addRecipient(recipient);
  return asSealed(await e.encrypt(plain));
}

/**
 * Decrypts and authenticates. Every failure is one SuError:
 * - KEY when no stanza opens with this identity (encrypted for another key — or,
 *   indistinguishably by design of age, a damaged recipient stanza);
 * - INTEGRITY for everything else (not an age file, truncated, any flipped byte).
 * Messages name the object (`what`), never key material or content.
 */
export async function open(sealed: Sealed, identity: Identity, what = 'this object'): Promise<Plain> {
  const d = new (await age()).Decrypter();
  d.addIdentity(identity.revealSecret());
  try {
    return asPlain(await d.decrypt(sealed));
  } catch (err) {
    const reason = messageOf(err);
    // age-encryption reports a key mismatch only through this message; test/sync/crypto.test.ts pins it.
    if (/no identity matched/i.test(reason)) {
      const fp = fingerprint(await identity.recipient()).slice(0, 16);
      throw new SuError('KEY', `${what} was encrypted for a different key than this device's (fingerprint ${fp}), or its header was altered`, {
        hint:
          'run `stackunderflow sync key export` on the device that first ran `sync init` and give that key to this one ' +
          '(in STACKUNDERFLOW_SYNC_KEY or `sync init --force`)',
      });
    }
    throw new SuError('INTEGRITY', `${what} failed to decrypt: it is damaged, truncated or was altered (${describe(reason)})`, {
      hint: 'run `stackunderflow sync verify` to check every object',
    });
  }
}

// Map the library's messages onto fixed phrases: some embed bytes of the input (the
// version line), and nothing data-derived belongs in an error.
const REASONS: Array<[RegExp, string]> = [
  [/^invalid version|non-ASCII/, 'not an age v1 file'],
  [/header HMAC/, 'header authentication failed'],
  [/invalid tag|final chunk|ciphertext (is too small|size)/, 'payload authentication failed'],
  [/stream ended|unexpected end|invalid header|invalid stanza|invalid X25519 stanza/, 'truncated or malformed header'],
];

function describe(reason: string): string {
  for (const [re, phrase] of REASONS) if (re.test(reason)) return phrase;
  return 'malformed age file';
}
