/**
 * Where nicup's time goes: a Platform wrapped so that every async call it makes (manager
 * detection, link reads, admin up, DHCP socket, address and route changes) is timed, and a
 * logger that keeps nicup's debug lines ("eth0: dhcp: SELECTING -> REQUESTING") with their
 * arrival times. Both cost microseconds against milliseconds measured.
 */
import type { Logger } from '../../src/core/log.js';
import type { Platform } from '../../src/platform/contract.js';

export interface PlatformCall {
  method: string;
  startMs: number;
  endMs: number;
}

export interface LogLine {
  atMs: number;
  text: string;
}

export class TimedLog implements Logger {
  lines: LogLine[] = [];
  debug(text: string): void {
    this.lines.push({ atMs: performance.now(), text });
  }
  error(text: string): void {
    this.lines.push({ atMs: performance.now(), text: `ERROR ${text}` });
  }
  /** Time of the first line at or after `fromMs` matching `re`. */
  first(re: RegExp, fromMs: number): number | undefined {
    return this.lines.find((l) => l.atMs >= fromMs && re.test(l.text))?.atMs;
  }
  clear(): void {
    this.lines = [];
  }
}

/** A transparent proxy that records the duration of every promise-returning method call. */
export function timedPlatform<P extends Platform>(platform: P, calls: PlatformCall[]): P {
  return new Proxy(platform, {
    get(target, key, receiver) {
      const v: unknown = Reflect.get(target, key, receiver);
      if (typeof v !== 'function' || typeof key !== 'string' || key === 'constructor') return v;
      const fn = v as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const startMs = performance.now();
        const r = fn.apply(target, args);
        if (r instanceof Promise) {
          return r.finally(() => calls.push({ method: key, startMs, endMs: performance.now() }));
        }
        calls.push({ method: key, startMs, endMs: performance.now() });
        return r;
      };
    },
  });
}
