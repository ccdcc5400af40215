// The carrier drops mid-session: the network side's pppd is killed (no LCP Terminate) and the
// modem says NO CARRIER. Our pppd finds the dead link by LCP echoes and exits; the driver goes
// UNHAPPY ppp-dropped, takes the port back for AT commands, and reconnects by itself.
import { Cell, NetState, PEER_IP, assertReleased, check, ourPppd, ping, received, sleep, startModem } from './cell-lab.js';

export async function run(): Promise<void> {
  startModem('no-carrier', '--drop-after', '3', '--drop-sessions', '1');
  const cell = await Cell.open();

  await check('cell-no-carrier-recovers', cell, async () => {
    const first = await cell.waitFor(NetState.CONNECTED, { timeoutMs: 30_000 });
    const firstPppd = ourPppd();
    if (!firstPppd) throw new Error('no pppd while connected');
    const firstIndex = cell.changes.indexOf(first);
    const dropped = await cell.waitFor(NetState.CELLULAR_STOPPED_UNHAPPY, { from: firstIndex, reason: 'ppp-dropped', timeoutMs: 20_000 });
    const again = await cell.waitFor(NetState.CONNECTED, { from: cell.changes.indexOf(dropped), timeoutMs: 30_000 });
    const between = cell.changes.slice(cell.changes.indexOf(dropped), cell.changes.indexOf(again) + 1).map((c) => c.state);
    if (!between.includes(NetState.CELLULAR_PINGING)) throw new Error(`recovery did not start over with AT: ${cell.steps(firstIndex).join(', ')}`);
    const secondPppd = ourPppd();
    if (!secondPppd || secondPppd.pid === firstPppd.pid) throw new Error('no new pppd after the recovery');
    if (received('ATD') !== 2) throw new Error(`the modem saw ${received('ATD')} dials, want 2`);
    // Packets flow again, over the new link.
    await sleep(200);
    if (!ping('ppp0', PEER_IP)) throw new Error(`no ping answer from ${PEER_IP} after the recovery`);
    const exitLog = cell.logs.find((l) => l.includes('pppd exited'));
    // No LCP Terminate came: our pppd found the dead link by its echo requests.
    if (!exitLog || !/echo-requests/.test(exitLog)) throw new Error(`pppd's exit was not the LCP echo timeout: ${exitLog ?? 'no exit logged'}`);
    console.log(`lab: no-carrier: CONNECTED ${Math.round(first.atMs)} → ppp-dropped +${Math.round(dropped.atMs - first.atMs)} ms → CONNECTED +${Math.round(again.atMs - dropped.atMs)} ms`);
  });

  await check('cell-no-carrier-close', cell, async () => {
    await cell.close();
    if (cell.changes.at(-1)?.state !== NetState.CELLULAR_STOPPED) throw new Error(`after close: ${cell.steps().join(', ')}`);
    await assertReleased();
  });
}
