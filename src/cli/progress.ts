import type cliProgressTypes from 'cli-progress';
import { createRequire } from 'node:module';
import type { Output } from './io.js';

// cli-progress loads only when a bar is drawn (a TTY): scripted runs start faster.
const loadProgress = (): typeof cliProgressTypes => createRequire(import.meta.url)('cli-progress') as typeof cliProgressTypes;

export interface ProgressBar {
  /** Draws `done` of `total`; `payload` fills the format's other {names}. The total may grow. */
  update(done: number, total: number, payload?: Record<string, string>): void;
  stop(): void;
}

/** A progress bar on `stream` (a terminal's stderr), drawn from its first update and cleared at stop. */
export function progressBar(stream: Output, format: string, opts: { etaBuffer?: number } = {}): ProgressBar {
  const { SingleBar, Presets } = loadProgress();
  const bar = new SingleBar({ stream: stream as NodeJS.WritableStream, format, hideCursor: true, clearOnComplete: true, ...opts }, Presets.shades_classic);
  let started = false;
  return {
    update(done, total, payload = {}) {
      if (!started) {
        bar.start(Math.max(1, total), done, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(1, total, done));
        bar.update(done, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
