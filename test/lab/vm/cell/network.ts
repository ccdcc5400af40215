// The network and the modem on the real stack: registration denied, slow registration, a
// modem that never answers.
import { NetState, assertInOrder, assertReleased, atLog, received, scenario } from './cell-lab.js';

export async function run(): Promise<void> {
  await scenario('cell-registration-denied', ['denied'], {}, async (cell) => {
    await cell.waitFor(NetState.CELLULAR_REGISTRATION_DENIED);
    assertInOrder(cell.values(), [NetState.CELLULAR_PINGING, NetState.CELLULAR_REGISTERING, NetState.CELLULAR_REGISTRATION_DENIED], 'denied');
    if (received('ATD') > 0) throw new Error('dialled although registration was denied');
    await cell.close();
    await assertReleased();
  });

  const delayS = 3;
  await scenario('cell-registration-slow', ['slow-registration', '--reg-delay', String(delayS)], {}, async (cell) => {
    const connected = await cell.waitFor(NetState.CONNECTED, { timeoutMs: 30_000 });
    assertInOrder(cell.values(), [NetState.CELLULAR_PINGING, NetState.CELLULAR_REGISTERING, NetState.CELLULAR_PPP_CONNECTING, NetState.CONNECTED], 'slow registration');
    const registering = cell.changes.find((c) => c.state === NetState.CELLULAR_REGISTERING)!;
    const dialing = cell.changes.find((c) => c.state === NetState.CELLULAR_PPP_CONNECTING)!;
    const heldMs = dialing.atMs - registering.atMs;
    // The modem says "searching" for delayS seconds after the first AT; registering began a little later.
    if (heldMs < (delayS - 1) * 1000) throw new Error(`REGISTERING lasted ${Math.round(heldMs)} ms, want about ${delayS} s`);
    const polls = received('AT+CREG?');
    const searching = atLog().split('\n').filter((l) => l.startsWith('<- +CREG: 2,2')).length;
    if (searching < 1) throw new Error(`the modem never answered "searching" (+CREG: 2,2); ${polls} polls`);
    console.log(`lab: slow registration: REGISTERING ${Math.round(heldMs)} ms, ${polls} polls, CONNECTED after ${Math.round(connected.atMs - registering.atMs)} ms`);
    await cell.close();
    await assertReleased();
  });

  await scenario('cell-modem-silent', ['silent'], {}, async (cell) => {
    await cell.waitFor(NetState.CELLULAR_STOPPED_UNHAPPY, { reason: 'modem-silent' });
    assertInOrder(cell.values(), [NetState.CELLULAR_PINGING, NetState.CELLULAR_STOPPED_UNHAPPY], 'silent modem');
    if (received('AT') < 3) throw new Error(`the modem received ${received('AT')} ATs, want the pings`);
    await cell.close();
    if (cell.changes.at(-1)?.state !== NetState.CELLULAR_STOPPED) throw new Error(`after close: ${cell.steps().join(', ')}`);
  });
}
