/**
 * Opening an interface and watching it: every state change is printed as it happens;
 * commands wait for CONNECTED (or a settled failure, a timeout, Ctrl-C) on the platform's
 * clock, so the same code runs in real and in virtual time.
 */
import { NetState, isStopped, type Clock, type IpTable, type NetInterface, type NetStateValue, type StateChange } from '../index.js';
import { printState } from './format.js';
import { UsageError } from './cli-errors.js';
import type { Context, OpenedNetwork } from './context.js';
import type { BuiltNic } from './nic-options.js';

export interface Watched {
  iface: NetInterface;
  /** Platform-clock time the command started: state times are shown from here. */
  startMs: number;
  clock: Clock;
  last: StateChange | undefined;
}

/** Opens the interface and prints every state change (the STOPPED one included). */
export function openWatched(ctx: Context, opened: OpenedNetwork, built: BuiltNic, startMs: number): Watched {
  const clock = opened.platform.clock;
  const watched: Partial<Watched> & { last: StateChange | undefined } = { startMs, clock, last: undefined };
  watched.iface = opened.network.open(built.nic, {
    driver: built.driver,
    onState: (_state, change) => {
      watched.last = change;
      printState(ctx.out, change, startMs);
    },
  });
  return watched as Watched;
}

/** States after which nothing more happens without an outside change: the command gives up. */
export function isSettledFailure(value: NetStateValue): boolean {
  return (
    value === NetState.ETHERNET_STOPPED_UNHAPPY ||
    value === NetState.WIFI_STOPPED_UNHAPPY ||
    value === NetState.CELLULAR_STOPPED_UNHAPPY ||
    value === NetState.CELLULAR_REGISTRATION_DENIED ||
    isStopped(value)
  );
}

export type Outcome =
  | { kind: 'connected'; table: IpTable }
  | { kind: 'failed'; change: StateChange }
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'interrupted' };

/**
 * Waits for CONNECTED. A settled failure (UNHAPPY, DENIED, STOPPED) ends the wait at once;
 * NO_LINK does not (the cable may be plugged in) but the timeout does.
 */
export function waitConnected(w: Watched, timeoutMs: number, signal: AbortSignal | undefined): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const { iface, clock } = w;
    const finish = (o: Outcome) => {
      clock.clearTimeout(timer);
      iface.off('state', onState);
      signal?.removeEventListener('abort', onAbort);
      resolve(o);
    };
    const onState = (c: StateChange) => {
      if (c.state === NetState.CONNECTED) {
        const table = iface.ipTable();
        if (table) finish({ kind: 'connected', table });
      } else if (isSettledFailure(c.state)) {
        finish({ kind: 'failed', change: c });
      }
    };
    const onAbort = () => finish({ kind: 'interrupted' });
    const timer = clock.setTimeout(() => finish({ kind: 'timeout', timeoutMs }), timeoutMs);
    iface.on('state', onState);
    signal?.addEventListener('abort', onAbort, { once: true });
    const now = iface.ipTable();
    if (now) finish({ kind: 'connected', table: now });
    else if (signal?.aborted) onAbort();
    else if (w.last && isSettledFailure(w.last.state)) finish({ kind: 'failed', change: w.last });
  });
}

/** The one error line for an outcome that is not CONNECTED. */
export function outcomeMessage(w: Watched, o: Exclude<Outcome, { kind: 'connected' }>): string {
  const name = w.iface.name;
  const last = w.last ? `${w.last.name}, ${w.last.reason}` : 'no state yet';
  switch (o.kind) {
    case 'failed':
      return `${name}: ${o.change.name} (${o.change.reason}${o.change.detail ? `: ${o.change.detail}` : ''})`;
    case 'timeout':
      return `${name}: not CONNECTED within ${o.timeoutMs} ms (last state ${last})`;
    case 'interrupted':
      return `${name}: interrupted before CONNECTED (last state ${last})`;
  }
}

/** Resolves when the signal aborts, or after `timeoutMs` on the clock when given. */
export function waitForStop(clock: Clock, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<'interrupted' | 'timeout'> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve('interrupted');
    const timer = timeoutMs === undefined ? undefined : clock.setTimeout(() => done('timeout'), timeoutMs);
    const onAbort = () => done('interrupted');
    const done = (why: 'interrupted' | 'timeout') => {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Parses a non-negative integer option (ms, counts, ports). */
export function parseInteger(text: string, option: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${option}: must be an integer from ${min} to ${max}`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${option}: must be an integer from ${min} to ${max}`);
  return n;
}
