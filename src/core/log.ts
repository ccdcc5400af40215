/**
 * Logging: quiet by default. NODE_DEBUG=nicup (or NICUP_DEBUG=1) prints debug lines to
 * stderr; a program can pass its own logger. State changes are also published on the
 * diagnostics channel "nicup:state" for observability tools.
 * Nothing logged here may carry a secret: callers log redacted forms only.
 */
import { debuglog } from 'node:util';
import diagnostics from 'node:diagnostics_channel';

export interface Logger {
  debug(message: string): void;
  error(message: string): void;
}

const nodeDebug = debuglog('nicup');

export function defaultLogger(): Logger {
  const on = process.env.NICUP_DEBUG === '1';
  return {
    debug: (m) => (on ? process.stderr.write(`nicup ${m}\n`) : nodeDebug(m)),
    error: (m) => (on ? process.stderr.write(`nicup ERROR ${m}\n`) : nodeDebug(`ERROR ${m}`)),
  };
}

export const silentLogger: Logger = { debug: () => {}, error: () => {} };

export const stateChannel = diagnostics.channel('nicup:state');
