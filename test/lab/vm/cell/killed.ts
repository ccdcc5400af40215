// nicup SIGKILLed while CONNECTED: its pppd outlives it and keeps the modem in data mode (AT
// from the next start would go into the PPP stream). The next start must find it in the child
// ledger (src/platform/linux/child-ledger.ts), stop it, and come up on the same modem.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Cell, NetState, assertReleased, check, ourPppd, startModem, waitUntil } from './cell-lab.js';

/** The nicup that gets killed: this guest script again, with --killed-child (see cellular.ts). */
export async function child(): Promise<never> {
  const cell = await Cell.open();
  await cell.waitFor(NetState.CONNECTED, { timeoutMs: 60_000 });
  console.log('KILLED-CHILD CONNECTED');
  return new Promise<never>(() => {});
}

export async function run(): Promise<void> {
  startModem('happy');
  const killed = spawn(process.execPath, [process.argv[1]!, '--killed-child'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  killed.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  let orphan: number | undefined;
  try {
    await waitUntil('the first nicup to be CONNECTED', () => out.includes('KILLED-CHILD CONNECTED'), 90_000);
    orphan = ourPppd()?.pid;
  } finally {
    const exited = new Promise((res) => killed.once('exit', res));
    killed.kill('SIGKILL');
    await exited;
  }
  const cell = await Cell.open();
  await check('cell-killed-orphan-stopped', cell, async () => {
    try {
      if (orphan === undefined || !existsSync(`/proc/${orphan}`)) throw new Error(`the killed nicup left no pppd running (${orphan ?? 'none seen'}): the scenario tests nothing`);
      await cell.waitFor(NetState.CONNECTED, { timeoutMs: 60_000 });
      if (existsSync(`/proc/${orphan}`)) throw new Error(`the killed nicup's pppd ${orphan} still runs beside ours`);
      const said = cell.logs.find((l) => new RegExp(`pppd ${orphan} on \\S+ was left by nicup ${killed.pid}, which is gone; stopping it`).test(l));
      if (!said) throw new Error(`the log does not say the orphan was stopped: ${cell.logs.slice(0, 8).join(' | ')}`);
      // The fake modem's own pppd needs a moment to end after our orphan's LCP Terminate, so a
      // first round of pings may go unanswered (a real modem is back once DTR drops).
      const silent = cell.changes.filter((c) => c.reason === 'modem-silent').length;
      console.log(`lab: killed: orphan pppd ${orphan} stopped; modem-silent ${silent} time(s) before CONNECTED`);
    } finally {
      await cell.close();
    }
    await assertReleased();
  });
}
