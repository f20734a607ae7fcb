import { SuError, messageOf, type ErrorCode } from '../errors.js';
import { MessageChannel, receiveMessageOnPort, Worker, workerData as threadData, type MessagePort, type ResourceLimits, type TransferListItem } from 'node:worker_threads';

/**
 * A worker thread that produces messages for a synchronous consumer (a SQLite transaction
 * cannot await): the consumer blocks in Atomics.wait until the next message is posted, and the
 * producer stays at most `ahead` messages in front, which bounds memory. Used where a
 * CPU-bound half of a job (decoding a sync segment, parsing logs) can run on the other core
 * while this thread writes the store.
 */

/** The shared counters: [messages posted, messages taken]. */
const POSTED = 0;
const TAKEN = 1;

/** What the worker receives beside its own data. */
interface StreamData {
  port: MessagePort;
  counters: Int32Array;
  ahead: number;
}

/** A failure inside the worker, as the consumer rethrows it. */
interface StreamFailure {
  failure: { message: string; code?: ErrorCode; hint?: string };
}

export interface StreamOptions {
  /** `import.meta.url` of the module beside which the worker's file lies. */
  from: string;
  /** The worker module's name without extension (`decoder-worker` → `decoder-worker.cjs` in the bundle, `.ts` from source). */
  name: string;
  /** The worker's own data (structured-cloned, or moved when listed in `transfer`). */
  data: Record<string, unknown>;
  transfer?: TransferListItem[];
  /** Messages the worker may post before the consumer takes them. */
  ahead: number;
  /** How long the consumer waits for one message before it calls the worker stuck. */
  stallMs: number;
  /** The worker's heap limits (Node's defaults when absent). */
  resourceLimits?: ResourceLimits;
  /** The error to throw for a failure: the worker's own (code and hint kept), a stall, a dead worker. */
  fail: (f: StreamFailure['failure'] | { stalled: true; why: string | null }) => Error;
}

/**
 * Consumes a worker's messages in order, synchronously. The worker ends when the generator
 * finishes, is closed early, or throws. The stream ends after `last` says a message is the
 * last one (it is yielded); a failure message ends it with the error `fail` makes.
 */
export function* streamFromWorker<M>(opts: StreamOptions, last: (msg: M, taken: number) => boolean): Generator<M> {
  yield* startStream(opts, last);
}

/**
 * The same, with the worker started at once rather than at the first `next()`: for several
 * workers that must all be running before the consumer waits on the first. `stop` ends the
 * worker whether or not the stream was read (a generator never started runs no `finally`).
 */
export function startStream<M>(opts: StreamOptions, last: (msg: M, taken: number) => boolean): Generator<M> & { stop(): void } {
  const counters = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new MessageChannel();
  const workerData = { ...opts.data, port: port2, counters, ahead: opts.ahead } satisfies StreamData & Record<string, unknown>;
  const worker = new Worker(boot(opts.from, opts.name), { eval: true, workerData, transferList: [port2, ...(opts.transfer ?? [])], resourceLimits: opts.resourceLimits });
  worker.unref();
  let exited: string | null = null;
  worker.on('error', (err) => (exited = err.message));
  worker.on('exit', (code) => (exited ??= `exited with code ${code}`));
  return Object.assign(consume(opts, port1, counters, worker, () => exited, last), {
    stop: () => {
      port1.close();
      void worker.terminate();
    },
  });
}

function* consume<M>(
  opts: StreamOptions,
  port1: MessagePort,
  counters: Int32Array,
  worker: Worker,
  exited: () => string | null,
  last: (msg: M, taken: number) => boolean,
): Generator<M> {
  try {
    for (let taken = 0, done = false; !done; ) {
      const got = receiveMessageOnPort(port1);
      if (!got) {
        const posted = Atomics.load(counters, POSTED);
        if (posted > taken) continue; // posted just now: the message is there
        if (Atomics.wait(counters, POSTED, posted, opts.stallMs) === 'timed-out') throw opts.fail({ stalled: true, why: exited() });
        continue;
      }
      taken++;
      Atomics.store(counters, TAKEN, taken);
      Atomics.notify(counters, TAKEN);
      const msg = got.message as M | StreamFailure;
      if (msg !== null && typeof msg === 'object' && 'failure' in msg) throw opts.fail(msg.failure);
      done = last(msg, taken);
      yield msg;
    }
  } finally {
    port1.close();
    void worker.terminate();
  }
}

/**
 * The worker's side: its data, and `post`, which blocks while the consumer is `ahead` messages
 * behind. `run` is the worker's body; anything it throws reaches the consumer as a failure.
 */
export function workerSide<D>(): { data: D; post: (msg: unknown) => void; run: (body: () => Promise<void> | void) => void } {
  const d = threadData as D & StreamData;
  const post = (msg: unknown) => {
    for (let taken = Atomics.load(d.counters, TAKEN); Atomics.load(d.counters, POSTED) - taken >= d.ahead; taken = Atomics.load(d.counters, TAKEN)) {
      Atomics.wait(d.counters, TAKEN, taken);
    }
    d.port.postMessage(msg);
    Atomics.add(d.counters, POSTED, 1);
    Atomics.notify(d.counters, POSTED);
  };
  const run = (body: () => Promise<void> | void) => {
    // The port stays open until the consumer terminates this worker: closing it could drop a posted message.
    Promise.resolve()
      .then(body)
      .catch((err: unknown) => post(failureOf(err)));
  };
  return { data: d, post, run };
}

/** A thrown value as a failure message (an SuError's code and hint kept). */
function failureOf(err: unknown): StreamFailure {
  const e = err instanceof SuError ? err : null;
  return { failure: { message: messageOf(err), code: e?.code, hint: e?.hint } };
}

// The worker is a file beside the module that starts it, with that module's extension: .cjs in
// the bundle's dist/bin/, .ts from source (the tests), where it is loaded through tsx's loader,
// registered inside the worker (Node 20 does not apply a `--import` hook to a worker's entry
// module). Either way a small boot script imports it: if that fails (a broken installation),
// the consumer, blocked in Atomics.wait and deaf to the worker's 'error' event, still hears why at once.
function boot(from: string, name: string): string {
  const ext = /\.[cm]?[jt]s$/.exec(from)![0];
  const url = JSON.stringify(new URL(`./${name}${ext}`, from).href);
  const load = ext === '.ts' ? `import('tsx/esm/api').then(({ register }) => { register(); return import(${url}); })` : `import(${url})`;
  return `const { workerData } = require('node:worker_threads');
(${load}).catch((err) => {
  workerData.port.postMessage({ failure: { code: 'INTERNAL', message: ${JSON.stringify(`${name} could not start: `)} + (err && err.message), hint: 'reinstall stackunderflow' } });
  Atomics.add(workerData.counters, ${POSTED}, 1);
  Atomics.notify(workerData.counters, ${POSTED});
});`;
}
