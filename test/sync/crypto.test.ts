import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SuError, exitCodeFor } from '../../src/errors.js';
import {
  Identity,
  asPlain,
  asSealed,
  fingerprint,
  generateIdentity,
  open,
  parseRecipient,
  recipientOf,
  seal,
} from '../../src/sync/crypto.js';
import {
  DEFAULT_KEY_ENV,
  identityPath,
  parseIdentityText,
  readIdentityFile,
  requireIdentity,
  resolveIdentity,
  writeIdentityFile,
} from '../../src/sync/keys.js';
import { sha256Hex } from '../../src/model/canonical.js';
import { prng, propertyRuns } from '../helpers/sync-events.js';

async function caught(p: Promise<unknown>): Promise<SuError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SuError);
    return err as SuError;
  }
  throw new Error('expected a rejection');
}

const bytes = (s: string) => asPlain(new TextEncoder().encode(s));

describe('seal / open', () => {
  it('round-trips, and every seal is fresh ciphertext', async () => {
    const id = await generateIdentity();
    const r = await recipientOf(id);
    const a = await seal(bytes('hello segment'), r);
    const b = await seal(bytes('hello segment'), r);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(new TextDecoder().decode(await open(a, id))).toBe('hello segment');
    expect(new TextDecoder().decode(await open(b, id))).toBe('hello segment');
    // An age v1 file, readable by the stock CLI (see interop-age.test.ts).
    expect(Buffer.from(a.subarray(0, 21)).toString()).toBe('age-encryption.org/v1');
  });

  it('generates X25519 identities only (readable by age 1.1)', async () => {
    const id = await generateIdentity();
    expect(id.revealSecret()).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    expect(await recipientOf(id)).toMatch(/^age1[0-9a-z]{58}$/);
  });

  it('property: open(seal(x)) = x for random sizes, across STREAM chunk boundaries', async () => {
    const id = await generateIdentity();
    const r = await recipientOf(id);
    const seed = 0x5eed;
    const rand = prng(seed);
    const sizes = [0, 1, 65535, 65536, 65537, 131072];
    for (let i = 0; i < propertyRuns(6); i++) sizes.push(Math.floor(rand() * 200_000));
    for (const n of sizes) {
      const plain = new Uint8Array(n);
      for (let j = 0; j < n; j++) plain[j] = Math.floor(rand() * 256);
      const back = await open(await seal(asPlain(plain), r), id);
      expect(Buffer.from(back).equals(Buffer.from(plain)), `size ${n}, seed ${seed}`).toBe(true);
    }
  });

  it('wrong key → one KEY error that names our fingerprint and the fix, not the key', async () => {
    const mine = await generateIdentity();
    const theirs = await generateIdentity();
    const sealed = await seal(bytes('x'), await recipientOf(theirs));
    const err = await caught(open(sealed, mine, 'segment abc'));
    expect(err.code).toBe('KEY');
    expect(exitCodeFor(err)).toBe(2);
    expect(err.message).toContain('segment abc');
    expect(err.message).toContain('different key');
    expect(err.message).toContain(fingerprint(await recipientOf(mine)).slice(0, 16));
    expect(err.message).not.toContain(await recipientOf(mine));
    expect(err.hint).toContain('sync key export');
    expect(err.hint).toContain('STACKUNDERFLOW_SYNC_KEY');
    const shown = `${err.message} ${err.hint} ${inspect(err)}`;
    expect(shown).not.toContain(mine.revealSecret());
    expect(shown).not.toContain(theirs.revealSecret());
  });

  it('flipped payload byte, flipped header MAC, truncation and garbage → INTEGRITY', async () => {
    const id = await generateIdentity();
    const plain = new Uint8Array(150_000).fill(7);
    const sealed = await seal(asPlain(plain), await recipientOf(id));
    const headerEnd = Buffer.from(sealed).indexOf('\n---') + 1;
    const macLineEnd = Buffer.from(sealed).indexOf('\n', headerEnd) + 1;
    const flip = (pos: number) => {
      const c = Uint8Array.from(sealed);
      c[pos] ^= 0x01;
      return asSealed(c);
    };
    const cases: Array<[string, Uint8Array]> = [
      ['payload byte', flip(macLineEnd + 40)],
      ['last byte', flip(sealed.length - 1)],
      ['header MAC', flip(headerEnd + 6)],
      ['version line', flip(3)],
      ['truncated in payload', sealed.subarray(0, sealed.length - 100)],
      ['truncated at a chunk boundary', sealed.subarray(0, macLineEnd + 16 + 65536 + 16)],
      ['truncated in header', sealed.subarray(0, 60)],
      ['empty', new Uint8Array(0)],
      ['not an age file', new TextEncoder().encode('{"secret":"AGE-SECRET-KEY-1NOPE"}\n')],
    ];
    for (const [label, bad] of cases) {
      const err = await caught(open(asSealed(bad), id, 'seg-1'));
      expect(err.code, label).toBe('INTEGRITY');
      expect(exitCodeFor(err)).toBe(4);
      expect(err.message, label).toContain('seg-1');
      // Never echo input bytes (the version line of a non-age file would otherwise appear).
      expect(err.message, label).not.toContain('NOPE');
      expect(err.message, label).not.toContain(id.revealSecret());
    }
  });
});

describe('Identity never prints', () => {
  it('toString, template strings, JSON, inspect, errors, spreading', async () => {
    const id = await generateIdentity();
    const secret = id.revealSecret();
    const renderings = [
      String(id),
      // Every way a value becomes text is tried on purpose, these two included.
      // eslint-disable-next-line @typescript-eslint/restrict-template-expressions
      `${id}`,
      // eslint-disable-next-line @typescript-eslint/restrict-plus-operands
      'key: ' + id,
      JSON.stringify(id),
      JSON.stringify({ nested: { id } }),
      inspect(id),
      inspect({ id }, { depth: 5, showHidden: true }),
      JSON.stringify({ ...id }),
      Object.keys(id).join(','),
      // eslint-disable-next-line @typescript-eslint/restrict-template-expressions
      new SuError('KEY', `bad ${id}`).message,
    ];
    for (const s of renderings) {
      expect(s).not.toContain(secret);
      expect(s).not.toContain(secret.slice(16, 40));
    }
    expect(String(id)).toBe('[redacted]');
    expect(JSON.stringify(id)).toBe('"[redacted]"');
  });

  it('parse rejects malformed keys without echoing them', async () => {
    const good = (await generateIdentity()).revealSecret();
    const cases = [
      ['empty', ''],
      ['recipient instead of key', 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'],
      ['lowercase', good.toLowerCase()],
      ['one char changed (checksum)', good.slice(0, 30) + (good[30] === 'Q' ? 'P' : 'Q') + good.slice(31)],
      ['truncated', good.slice(0, -1)],
      ['post-quantum', 'AGE-SECRET-KEY-PQ-1' + good.slice(16)],
    ];
    for (const [label, text] of cases) {
      const err = await caught(Identity.parse(text, 'the test key'));
      expect(err.code, label).toBe('KEY');
      expect(err.message, label).toContain('the test key');
      if (text.length > 20) expect(err.message, label).not.toContain(text.slice(16, 40));
    }
    expect(String(await Identity.parse(`  ${good}\n`))).toBe('[redacted]');
  });

  it('fingerprint is sha256 hex of the recipient string', async () => {
    const id = await generateIdentity();
    const r = await recipientOf(id);
    expect(fingerprint(r)).toBe(sha256Hex(r));
    expect(fingerprint(r)).toMatch(/^[0-9a-f]{64}$/);
    expect(parseRecipient(` ${r} `)).toBe(r);
    expect(() => parseRecipient('age1pq1xyz')).toThrow(SuError);
  });
});

describe('key files and resolution', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    home = fs.mkdtempSync(join(os.tmpdir(), 'su-keys-'));
    env = { STACKUNDERFLOW_HOME: home };
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('writes an age identity file at 0600 that reads back, even under umask 000', async () => {
    const id = await generateIdentity();
    const path = identityPath(env);
    const old = process.umask(0);
    try {
      await writeIdentityFile(path, id, { created: new Date('2026-11-27T10:11:12.345Z') });
    } finally {
      process.umask(old);
    }
    expect(fs.statSync(path).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(path, 'utf8');
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^# stackunderflow sync key - SECRET/);
    expect(lines[1]).toBe('# created: 2026-11-27T10:11:12Z');
    expect(lines[2]).toBe(`# fingerprint: ${fingerprint(await recipientOf(id))}`);
    expect(lines[3]).toBe(id.revealSecret());
    expect(lines[4]).toBe('');
    // Unlike age-keygen, no `# public key:` line: the recipient is never written down.
    expect(text).not.toContain(await recipientOf(id));
    expect(fs.statSync(join(home, 'sync')).mode & 0o777).toBe(0o700);
    const back = await readIdentityFile(path);
    expect(back.revealSecret()).toBe(id.revealSecret());
    // No temp files left beside it.
    expect(fs.readdirSync(join(home, 'sync'))).toEqual(['identity.txt']);
  });

  it('refuses to replace an existing key unless overwrite', async () => {
    const path = identityPath(env);
    const a = await generateIdentity();
    const b = await generateIdentity();
    await writeIdentityFile(path, a, { created: new Date(0) });
    const err = await caught(writeIdentityFile(path, b, { created: new Date(0) }));
    expect(err.code).toBe('KEY');
    expect(err.hint).toContain('--force');
    expect((await readIdentityFile(path)).revealSecret()).toBe(a.revealSecret());
    await writeIdentityFile(path, b, { created: new Date(0), overwrite: true });
    expect((await readIdentityFile(path)).revealSecret()).toBe(b.revealSecret());
    expect(fs.statSync(path).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(join(home, 'sync'))).toEqual(['identity.txt']);
  });

  it('refuses a key file group/others can access, with a chmod hint', async () => {
    const id = await generateIdentity();
    const path = identityPath(env);
    await writeIdentityFile(path, id, { created: new Date(0) });
    for (const mode of [0o644, 0o640, 0o604, 0o660, 0o620]) {
      fs.chmodSync(path, mode);
      const err = await caught(readIdentityFile(path));
      expect(err.code).toBe('KEY');
      expect(err.hint).toBe(`chmod 600 ${path}`);
      expect(err.message).not.toContain(id.revealSecret());
      const err2 = await caught(resolveIdentity({ env }));
      expect(err2.code).toBe('KEY');
    }
    for (const mode of [0o600, 0o400]) {
      fs.chmodSync(path, mode);
      expect((await readIdentityFile(path)).revealSecret()).toBe(id.revealSecret());
    }
  });

  it('the environment variable wins over the file; a custom variable name is honoured', async () => {
    const fileKey = await generateIdentity();
    const envKey = await generateIdentity();
    await writeIdentityFile(identityPath(env), fileKey, { created: new Date(0) });

    const fromFile = await resolveIdentity({ env });
    expect(fromFile?.source).toBe('file');
    expect(fromFile?.identity.revealSecret()).toBe(fileKey.revealSecret());

    const fromEnv = await resolveIdentity({ env: { ...env, [DEFAULT_KEY_ENV]: envKey.revealSecret() } });
    expect(fromEnv?.source).toBe('env');
    expect(fromEnv?.from).toBe(DEFAULT_KEY_ENV);
    expect(fromEnv?.identity.revealSecret()).toBe(envKey.revealSecret());

    // The whole identity file pasted into the variable works too.
    const pasted = `# created: x\n# public key: ${await recipientOf(envKey)}\r\n${envKey.revealSecret()}\r\n`;
    const custom = await resolveIdentity({ env: { ...env, MY_KEY: pasted, [DEFAULT_KEY_ENV]: 'ignored' }, keyFromEnv: 'MY_KEY' });
    expect(custom?.from).toBe('MY_KEY');
    expect(custom?.identity.revealSecret()).toBe(envKey.revealSecret());

    // An empty variable falls through to the file.
    expect((await resolveIdentity({ env: { ...env, [DEFAULT_KEY_ENV]: '  ' } }))?.source).toBe('file');
  });

  it('a bad key in the environment is an error naming the variable, not a fall-through', async () => {
    await writeIdentityFile(identityPath(env), await generateIdentity(), { created: new Date(0) });
    const err = await caught(resolveIdentity({ env: { ...env, [DEFAULT_KEY_ENV]: 'AGE-SECRET-KEY-1TOOSHORT' } }));
    expect(err.code).toBe('KEY');
    expect(err.message).toContain(DEFAULT_KEY_ENV);
    expect(err.message).not.toContain('TOOSHORT');
  });

  it('no key anywhere: resolve → null, require → KEY with the way out', async () => {
    expect(await resolveIdentity({ env })).toBeNull();
    const err = await caught(requireIdentity({ env, keyFromEnv: 'MY_KEY' }));
    expect(err.code).toBe('KEY');
    expect(err.message).toContain('MY_KEY');
    expect(err.hint).toContain('sync key export');
  });

  it('identity text: zero or several keys is an error', async () => {
    const a = (await generateIdentity()).revealSecret();
    const b = (await generateIdentity()).revealSecret();
    expect((await caught(parseIdentityText('# only a comment\n', 'f'))).message).toContain('no key');
    const two = await caught(parseIdentityText(`${a}\n${b}\n`, 'f'));
    expect(two.message).toContain('2 non-comment lines');
    expect(two.message).not.toContain(a);
  });
});
