import type { ApiContext } from './app.js';
import { changeKey } from '../reports/rollup.js';
import { warmDashboard } from '../reports/dashboard.js';
import { conflictsByDevice } from '../reports/devices.js';
import { syncStatusModule } from './devices.js';

/** How often the background check looks for a changed store, and how long after the page's last request it keeps looking. */
const WARM_CHECK_MS = 5_000;
const WARM_WHILE_MS = 120_000;

/**
 * Builds the dashboard's rollup and conflict counts off the request path: once when the app
 * starts (the page is opened seconds after `serve` prints its address), and again whenever the
 * store has changed (an ingest, a pull) while the page is in use. A request never waits for a
 * rebuild that could have happened while nobody was asking; with no page open nothing runs.
 */
export class Warmer {
  private lastRequest = 0;
  private builtFor = '';
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ctx: ApiContext) {
    setImmediate(() => {
      this.build();
      syncStatusModule().catch(() => undefined);
    }).unref?.();
    this.timer = setInterval(() => {
      if (Date.now() - this.lastRequest < WARM_WHILE_MS) this.build();
    }, WARM_CHECK_MS);
    this.timer.unref();
  }

  /** Called on each dashboard request. */
  touch(): void {
    this.lastRequest = Date.now();
  }

  private build(): void {
    const { db } = this.ctx;
    if (!db.open) {
      clearInterval(this.timer);
      return;
    }
    try {
      const key = changeKey(db);
      if (key === this.builtFor) return;
      warmDashboard(db, this.ctx.env);
      conflictsByDevice(db);
      this.builtFor = key;
    } catch {
      // A store being migrated or closed: the next request builds (and reports) for itself.
    }
  }
}
