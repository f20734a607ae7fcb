import { decodeSegment } from './codec.js';
import { asSealed, Identity, open } from './crypto.js';
import { peerRows, type DecoderMessage, type SealedItem } from './decoder.js';
import { workerSide } from '../util/worker-stream.js';

// The worker half of decodeInWorker (decoder.ts): decrypts and decodes the segments in order
// and posts each one's rows; a failure ends the stream after the segments before it.

const { data, post, run } = workerSide<{ secret: string; device: string; cursor: number; items: SealedItem[] }>();

// No top-level await: the bundle's worker is CommonJS (scripts/build-cli.mjs).
run(async () => {
  const { secret, device, cursor, items } = data;
  const identity = await Identity.parse(secret);
  for (let i = 0; i < items.length; i++) {
    const { sealed, expect } = items[i];
    const gz = await open(asSealed(sealed), identity, expect.object);
    items[i] = { sealed: new Uint8Array(0), expect };
    post({ i, rows: peerRows(decodeSegment(gz, expect), device, cursor) } satisfies DecoderMessage);
  }
});
