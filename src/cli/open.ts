/**
 * `nicup open IFACE`: opens the interface and prints every state change until Ctrl-C,
 * then closes it (the STOPPED line) and exits 0. With `--until connected` it exits 0 once
 * CONNECTED (after the IP table) and 1 on a settled failure or after --timeout.
 */
import { CliFailure, EXIT_OK } from './cli-errors.js';
import { openNetwork, type Context } from './context.js';
import { printIpTable } from './format.js';
import { buildNic, type NicFlags } from './nic-options.js';
import { openWatched, outcomeMessage, parseInteger, waitConnected, waitForStop } from './watch.js';

export interface OpenFlags extends NicFlags {
  until?: 'connected';
  timeout?: string;
}

/** How long `--until connected` (and the udp commands) wait by default. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export async function runOpen(ctx: Context, ifname: string, flags: OpenFlags): Promise<number> {
  const timeoutMs = flags.timeout === undefined ? undefined : parseInteger(flags.timeout, '--timeout', 1, MAX_TIMEOUT_MS);
  const built = await buildNic(ifname, flags, ctx);
  const opened = await openNetwork(ctx);
  try {
    const clock = opened.platform.clock;
    const watched = openWatched(ctx, opened, built, clock.now());
    let failure: CliFailure | undefined;
    if (flags.until === 'connected') {
      const outcome = await waitConnected(watched, timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, ctx.io.signal);
      if (outcome.kind === 'connected') printIpTable(ctx.out, watched.iface.name, outcome.table);
      else failure = new CliFailure(outcomeMessage(watched, outcome));
    } else {
      await waitForStop(clock, ctx.io.signal, timeoutMs);
    }
    await watched.iface.close();
    if (failure) throw failure;
    return EXIT_OK;
  } finally {
    await opened.dispose();
  }
}
