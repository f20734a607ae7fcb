/**
 * planPrune, one row per case: what goes, what stays, and why.
 */
import { describe, expect, it } from 'vitest';
import { planPrune, type PrunePlanInput } from '../../../src/sync/prune.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 27);
const ME = 'aaaaaaaaaaaaaaaa';
const PEER = 'bbbbbbbbbbbbbbbb';
const OTHER = 'cccccccccccccccc';
const seg = (name: string, dev = ME) => `stackunderflow/v1/devices/${dev}/seg/${name}.age`;
const obj = (key: string, ageDays: number, size = 100) => ({ key, size, etag: 'e', lastModified: new Date(NOW - ageDays * DAY) });
const n = (c: string) => c.repeat(64);

function input(over: Partial<PrunePlanInput>): PrunePlanInput {
  return {
    deviceId: ME,
    nowMs: NOW,
    keepDays: 30,
    objects: [],
    listed: new Set(),
    spooled: new Set(),
    retired: new Map(),
    peers: [],
    ...over,
  };
}

const decide = (over: Partial<PrunePlanInput>) => planPrune(input(over)).map((o) => [o.key, o.action, o.kind]);

describe('planPrune', () => {
  it('never touches listed segments, manifests, key.json or other devices', () => {
    const objects = [
      obj(seg(n('1')), 400),
      obj(`stackunderflow/v1/devices/${ME}/manifest.age`, 400),
      obj('stackunderflow/v1/key.json', 400),
      obj(seg(n('2'), OTHER), 400),
      obj(`stackunderflow/v1/devices/${OTHER}/manifest.age`, 400),
    ];
    expect(decide({ objects, listed: new Set([n('1')]) })).toEqual([]);
  });

  it('keeps spooled segments and anything younger than keep-days, whatever the acks', () => {
    const out = decide({
      objects: [obj(seg(n('1')), 400), obj(seg(n('2')), 29.9)],
      spooled: new Set([n('1')]),
    });
    expect(out).toEqual([
      [seg(n('1')), 'keep', 'orphan'],
      [seg(n('2')), 'keep', 'orphan'],
    ]);
  });

  it('deletes an old orphan on age alone (no seq range known, no peer needs it)', () => {
    const out = planPrune(input({ objects: [obj(seg(n('3')), 31)], peers: [{ id: PEER, ackedSeq: 0, lastActiveMs: NOW }] }));
    expect(out).toMatchObject([{ action: 'delete', kind: 'orphan', seqTo: null }]);
    expect(out[0].reason).toMatch(/never listed/);
  });

  it('a replaced segment goes only once every active peer acked past its seqTo', () => {
    const retired = new Map([[n('4'), { seqTo: 500, retiredAtMs: NOW - 40 * DAY }]]);
    const objects = [obj(seg(n('4')), 45, 1234)];
    const lagging = planPrune(input({ objects, retired, peers: [{ id: PEER, ackedSeq: 499, lastActiveMs: NOW - DAY }] }));
    expect(lagging).toMatchObject([{ action: 'keep', kind: 'replaced', seqTo: 500 }]);
    expect(lagging[0].reason).toContain(`${PEER} (acked 499 < 500)`);
    const caughtUp = planPrune(input({ objects, retired, peers: [{ id: PEER, ackedSeq: 500, lastActiveMs: NOW - DAY }] }));
    expect(caughtUp).toMatchObject([{ action: 'delete', kind: 'replaced', bytes: 1234 }]);
  });

  it('a peer silent for longer than keep-days no longer holds pruning back', () => {
    const retired = new Map([[n('5'), { seqTo: 500, retiredAtMs: NOW - 40 * DAY }]]);
    const objects = [obj(seg(n('5')), 45)];
    const peers = (silentDays: number) => [
      { id: PEER, ackedSeq: 900, lastActiveMs: NOW },
      { id: OTHER, ackedSeq: 10, lastActiveMs: NOW - silentDays * DAY },
    ];
    expect(decide({ objects, retired, peers: peers(29) })[0][1]).toBe('keep');
    expect(decide({ objects, retired, peers: peers(31) })[0][1]).toBe('delete');
    // A peer whose manifest we could not read (lastActive from the listing) counts as acked 0.
    expect(decide({ objects, retired, peers: [{ id: OTHER, ackedSeq: 0, lastActiveMs: NOW - DAY }] })[0][1]).toBe('keep');
  });

  it('a replaced segment counts its age from when it left the list, not from its upload', () => {
    const objects = [obj(seg(n('6')), 100)];
    const justReplaced = new Map([[n('6'), { seqTo: 5, retiredAtMs: NOW - DAY }]]);
    const out = planPrune(input({ objects, retired: justReplaced }));
    expect(out).toMatchObject([{ action: 'keep' }]);
    expect(out[0].reason).toMatch(/younger than keep-days \(1\.0 of 30/);
  });

  it('probe leftovers go by age; unknown objects in our folder stay; no modification time stays', () => {
    const out = decide({
      objects: [
        obj(`stackunderflow/v1/_probe/${ME}`, 31),
        obj(`stackunderflow/v1/devices/${ME}/probe-0123456789abcdef`, 31),
        obj(`stackunderflow/v1/devices/${ME}/something-new.bin`, 400),
        { key: seg(n('7')), size: 1, etag: 'e' },
      ],
    });
    expect(out).toEqual([
      [`stackunderflow/v1/_probe/${ME}`, 'delete', 'leftover'],
      [`stackunderflow/v1/devices/${ME}/probe-0123456789abcdef`, 'delete', 'leftover'],
      [seg(n('7')), 'keep', 'orphan'],
      [`stackunderflow/v1/devices/${ME}/something-new.bin`, 'keep', 'unknown'],
    ]);
  });

  it('keep-days 0 deletes every unlisted segment at once (and no peer is active)', () => {
    const retired = new Map([[n('8'), { seqTo: 50, retiredAtMs: NOW }]]);
    const out = decide({ keepDays: 0, objects: [obj(seg(n('8')), 0)], retired, peers: [{ id: PEER, ackedSeq: 0, lastActiveMs: NOW }] });
    expect(out).toEqual([[seg(n('8')), 'delete', 'replaced']]);
  });
});
