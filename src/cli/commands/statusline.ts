import type { Command } from 'commander';
import type { CliIo } from '../io.js';

/** Claude Code's hook payload, the fields we read. */
interface HookPayload {
  session_id?: unknown;
  transcript_path?: unknown;
  model?: { display_name?: unknown; id?: unknown };
}

/** Longest wait for the hook's JSON: a prompt must never hang on us. */
const STDIN_TIMEOUT_MS = 1000;

type Input = NonNullable<CliIo['stdin']>;

/** A stream with events (process.stdin), not only an async iterable. */
function isEmitter(input: Input): input is Input & NodeJS.ReadableStream {
  return typeof (input as Partial<NodeJS.ReadableStream>).on === 'function';
}

async function readInput(io: CliIo): Promise<string> {
  const input = io.stdin;
  if (!input || input.isTTY) return '';
  const chunks: Buffer[] = [];
  const add = (chunk: string | Buffer) => void chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  // Decoded once, whole: a character split between two chunks stays one character.
  const text = () => Buffer.concat(chunks).toString('utf8');
  const read = new Promise<string>((resolve, reject) => {
    if (isEmitter(input)) {
      // A stream's own events: setting up its async iterator costs a fresh process ~2 ms more.
      input.on('data', add);
      input.once('end', () => resolve(text()));
      input.once('error', reject);
    } else {
      (async () => {
        for await (const chunk of input) add(chunk);
      })().then(() => resolve(text()), reject);
    }
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(text()), STDIN_TIMEOUT_MS)));
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
    // A writer that never closes its end must not keep this process (and the prompt) alive.
    input.destroy?.();
  }
}

function modelName(p: HookPayload | null): string | null {
  const m = p?.model;
  if (!m || typeof m !== 'object') return null;
  if (typeof m.display_name === 'string' && m.display_name) return m.display_name;
  return typeof m.id === 'string' && m.id ? m.id : null;
}

async function line(io: CliIo, payload: HookPayload | null): Promise<string> {
  const [{ withStore }, { ingestTranscript }, { statusFigures, statusLine }] = await Promise.all([
    import('../io.js'),
    import('../../ingest/transcript.js'),
    import('../../reports/statusline.js'),
  ]);
  const session = typeof payload?.session_id === 'string' ? payload.session_id : undefined;
  const transcript = typeof payload?.transcript_path === 'string' ? payload.transcript_path : undefined;
  return withStore(io, async (db) => {
    // Another writer (an ingest, the sync daemon) may hold the store: then show what it has, without waiting.
    db.pragma('busy_timeout = 100');
    // Not mapped for reads as the reports are (mmap_size): what the figures read is a few index
    // ranges, and a mapped store made the transcript's inserts 3-17 ms instead of under 1 ms.
    if (transcript) {
      try {
        await ingestTranscript(db, transcript, { env: io.env, clock: io.clock });
      } catch (err) {
        if (io.env.STACKUNDERFLOW_DEBUG) io.stderr.write(`statusline: transcript not ingested: ${(err as Error).message}\n`);
      }
    }
    return statusLine(modelName(payload), statusFigures(db, { session, now: io.clock?.now() ?? Date.now(), env: io.env }));
  });
}

/**
 * Claude Code's status-line hook, from its JSON on stdin to one line on stdout. It must never
 * break the prompt: whatever fails, it prints a short line (and never throws). Run by the
 * `statusline` command and, for the bin, by its own bundle (src/cli/statusline-main.ts).
 */
export async function runStatusline(io: CliIo): Promise<void> {
  let payload: HookPayload | null = null;
  try {
    const text = await readInput(io);
    const parsed: unknown = text.trim() ? JSON.parse(text) : null;
    payload = parsed && typeof parsed === 'object' ? (parsed) : null;
    io.stdout.write((await line(io, payload)) + '\n');
  } catch (err) {
    const model = modelName(payload);
    io.stdout.write(`${model ? `🤖 ${model} | ` : ''}💰 usage unavailable (stackunderflow)\n`);
    if (io.env.STACKUNDERFLOW_DEBUG) io.stderr.write(`statusline: ${(err as Error).message}\n`);
  }
}

/**
 * `stackunderflow statusline`: Claude Code's status-line hook. It must never break the prompt:
 * whatever fails, it prints a short line and exits 0.
 */
export function registerStatusline(program: Command, io: CliIo): void {
  program
    .command('statusline')
    .description("one line for Claude Code's status line: model, session / today / block cost, time left, burn rate (reads the hook's JSON on stdin)")
    .addHelpText(
      'after',
      `
In ~/.claude/settings.json:
  "statusLine": { "type": "command", "command": "npx stackunderflow statusline" }

It reads the transcript Claude Code names (only what was added since the last call) and never syncs.`,
    )
    .action(() => runStatusline(io));
}
