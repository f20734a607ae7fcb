import { workerData, type MessagePort } from 'node:worker_threads';
import { SuError, messageOf } from '../errors.js';
import { decodeSegment } from './codec.js';
import { asSealed, Identity, open } from './crypto.js';
import { peerRows, POSTED, TAKEN, type DecoderMessage, type SealedItem } from './decoder.js';

// The worker half of decodeInWorker (decoder.ts): decrypts and decodes the segments in order, posts each
// one's rows, and stays at most `ahead` segments in front of the landing.

const { port, state, secret, device, cursor, items, ahead } = workerData as {
  port: MessagePort;
  state: Int32Array;
  secret: string;
  device: string;
  cursor: number;
  items: SealedItem[];
  ahead: number;
};

// No top-level await: the bundle's worker is CommonJS (scripts/build-cli.mjs).
async function decode(): Promise<void> {
  const identity = await Identity.parse(secret);
  for (let i = 0; i < items.length; i++) {
    for (let taken = Atomics.load(state, TAKEN); i - taken >= ahead; taken = Atomics.load(state, TAKEN)) Atomics.wait(state, TAKEN, taken);
    let msg: DecoderMessage;
    try {
      const { sealed, expect } = items[i];
      const gz = await open(asSealed(sealed), identity, expect.object);
      msg = { i, rows: peerRows(decodeSegment(gz, expect), device, cursor) };
    } catch (err) {
      msg = failure(i, err);
    }
    items[i] = { sealed: new Uint8Array(0), expect: items[i].expect };
    post(msg);
    if ('error' in msg) break;
  }
}

function failure(i: number, err: unknown): DecoderMessage {
  const e = err instanceof SuError ? err : null;
  return { i, error: { code: e?.code ?? 'INTERNAL', message: messageOf(err), hint: e?.hint } };
}

function post(msg: DecoderMessage): void {
  port.postMessage(msg);
  Atomics.add(state, POSTED, 1);
  Atomics.notify(state, POSTED);
}

// Anything decode() did not turn into a message must still reach the landing, which waits in
// Atomics.wait and hears only posted messages.
decode().catch((err: unknown) => post(failure(-1, err)));
// The port stays open until the landing terminates this worker: closing it could drop a posted message.
