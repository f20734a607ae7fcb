/** Injectable clock: production uses Date.now; tests pass a fixed or stepping clock. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

export function fixedClock(ms: number, stepMs = 0): Clock {
  let t = ms;
  return {
    now() {
      const v = t;
      t += stepMs;
      return v;
    },
  };
}

/**
 * Hybrid logical clock. Stamps are strings that sort lexicographically in causal
 * order: 13-digit physical milliseconds, '.', 6-digit logical counter. A device whose
 * wall clock is behind still produces stamps after any stamp it has observed.
 */
export class Hlc {
  private wall = 0;
  private logical = 0;
  constructor(private readonly clock: Clock = systemClock) {}

  static format(wall: number, logical: number): string {
    return String(wall).padStart(13, '0') + '.' + String(logical).padStart(6, '0');
  }

  static parse(stamp: string): { wall: number; logical: number } {
    const m = /^(\d{13})\.(\d{6})$/.exec(stamp);
    if (!m) throw new Error(`invalid HLC stamp: ${stamp}`);
    return { wall: Number(m[1]), logical: Number(m[2]) };
  }

  /** A new stamp for a local write. */
  tick(): string {
    const pt = this.clock.now();
    if (pt > this.wall) {
      this.wall = pt;
      this.logical = 0;
    } else {
      this.logical += 1;
    }
    return Hlc.format(this.wall, this.logical);
  }

  /** Fold in a stamp seen from elsewhere (a peer's event, or our own last persisted stamp). */
  observe(stamp: string): void {
    const { wall, logical } = Hlc.parse(stamp);
    if (wall > this.wall || (wall === this.wall && logical > this.logical)) {
      this.wall = wall;
      this.logical = logical;
    }
  }
}
