// The SIM on the real stack: missing, locked with the right PIN, locked with a wrong PIN. The
// fake modem's transcript counts the PINs it received (masked there too); the PIN must reach
// no command line, environment, file or log.
import { NetState, assertInOrder, assertReleased, received, scenario, secretsInFiles, secretsInProcesses, sleep } from './cell-lab.js';
import type { Cell } from './cell-lab.js';

const PIN = '7391';

function assertNoPinLeak(cell: Cell): void {
  const inProcs = secretsInProcesses([PIN]);
  if (inProcs.length > 0) throw new Error(`the PIN is in ${inProcs.join(', ')}`);
  const inFiles = secretsInFiles([PIN]);
  if (inFiles.length > 0) throw new Error(`the PIN is in ${inFiles.join(', ')}`);
  const inLogs = cell.logs.filter((l) => l.includes(PIN));
  if (inLogs.length > 0) throw new Error(`the PIN is in nicup's log: ${inLogs[0]}`);
}

export async function run(): Promise<void> {
  await scenario('cell-sim-missing', ['sim-missing'], {}, async (cell) => {
    await cell.waitFor(NetState.CELLULAR_WAITING_FOR_SIM, { reason: 'sim-missing' });
    assertInOrder(cell.values(), [NetState.CELLULAR_PINGING, NetState.CELLULAR_WAITING_FOR_SIM], 'SIM missing');
    // It keeps asking, and neither registers nor dials without a SIM.
    await sleep(1200);
    if (received('AT+CPIN?') < 2) throw new Error(`AT+CPIN? sent ${received('AT+CPIN?')} times, want it polled`);
    if (received('ATD') > 0 || cell.values().includes(NetState.CELLULAR_REGISTERING)) throw new Error(`went on without a SIM: ${cell.steps().join(', ')}`);
    await cell.close();
    await assertReleased();
  });

  await scenario('cell-pin-right', ['pin-required', '--pin', PIN], { pin: PIN }, async (cell) => {
    await cell.waitFor(NetState.CONNECTED, { timeoutMs: 30_000 });
    assertInOrder(cell.values(), [NetState.CELLULAR_PINGING, NetState.CELLULAR_WAITING_FOR_SIM, NetState.CELLULAR_REGISTERING, NetState.CELLULAR_PPP_CONNECTING, NetState.CONNECTED], 'PIN required');
    const waiting = cell.changes.find((c) => c.state === NetState.CELLULAR_WAITING_FOR_SIM);
    if (waiting?.reason !== 'sim-pin-required') throw new Error(`WAITING_FOR_SIM reason ${waiting?.reason}, want sim-pin-required`);
    if (received('AT+CPIN=') !== 1) throw new Error(`the PIN was sent ${received('AT+CPIN=')} times, want 1`);
    // Checked while pppd runs: every process's argv and environment.
    assertNoPinLeak(cell);
    await cell.close();
    await assertReleased();
  });

  await scenario('cell-pin-wrong', ['wrong-pin'], { pin: PIN }, async (cell) => {
    await cell.waitFor(NetState.CELLULAR_STOPPED_UNHAPPY, { reason: 'sim-pin-wrong' });
    // Each wrong PIN burns one of the SIM's three tries: it must never be sent again,
    // however many back-off periods pass.
    await sleep(2000);
    if (received('AT+CPIN=') !== 1) throw new Error(`the PIN was sent ${received('AT+CPIN=')} times, want exactly 1`);
    const last = cell.changes.at(-1);
    if (last?.state !== NetState.CELLULAR_STOPPED_UNHAPPY || last.reason !== 'sim-pin-wrong') throw new Error(`did not stay UNHAPPY sim-pin-wrong: ${cell.steps().join(', ')}`);
    assertNoPinLeak(cell);
    await cell.close();
    await assertReleased();
  });
}
