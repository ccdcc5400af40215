/**
 * Time is injected: every deadline in nicup is computed from `now()` and armed through
 * the clock, so the simulator's virtual clock can drive the same code as real time.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Monotonic milliseconds (not wall time). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

let nextId = 1;

/** The real monotonic clock (performance.now). Its timers are ordinary (ref'd) Node timers; Network's keepAlive decides what keeps a process alive. */
export function realClock(): Clock {
  const timers = new Map<number, NodeJS.Timeout>();
  return {
    now: () => performance.now(),
    setTimeout(fn, ms) {
      const id = nextId++;
      const t = setTimeout(() => {
        timers.delete(id);
        fn();
      }, Math.max(0, ms));
      timers.set(id, t);
      return { id };
    },
    clearTimeout(handle) {
      if (!handle) return;
      const t = timers.get(handle.id);
      if (t) clearTimeout(t);
      timers.delete(handle.id);
    },
  };
}

/**
 * A virtual clock: time moves only when `advance` (or `runUntil`) is called. Timers fire
 * in deadline order; a timer armed by a firing timer runs in the same advance if due.
 */
export class VirtualClock implements Clock {
  private t = 0;
  private timers = new Map<number, { at: number; seq: number; fn: () => void }>();
  private seq = 0;

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = nextId++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), seq: this.seq++, fn });
    return { id };
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }
  /** Number of armed timers (tests use it to find leaks). */
  get pending(): number {
    return this.timers.size;
  }
  /** The deadline of the next timer, if any. */
  nextDeadline(): number | undefined {
    let best: number | undefined;
    for (const t of this.timers.values()) if (best === undefined || t.at < best) best = t.at;
    return best;
  }
  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.t + Math.max(0, ms);
    for (;;) {
      let nextId: number | undefined;
      let next: { at: number; seq: number; fn: () => void } | undefined;
      for (const [id, t] of this.timers) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) {
          next = t;
          nextId = id;
        }
      }
      if (!next || nextId === undefined) break;
      this.timers.delete(nextId);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }
}
