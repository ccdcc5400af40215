// Cellular on the real stack, in the VM lab (test/lab/vm/README.md): nicup's cell driver talks
// AT over a pty to the fake modem (test/lab/vm/guest/fakemodem.sh), dials, and hands the tty to
// the real pppd; the kernel's PPP links it to the network side's pppd in another namespace. One
// boot runs the guest scenarios in test/lab/vm/cell/ (cellular.ts runs them all); each test()
// checks one of their results.
// Needs root, QEMU and the lab build (test/lab/vm/build.sh installs them): without, it fails loudly.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLab, runVm } from './lab/vm/run.js';
import type { VmRun } from './lab/vm/run.js';
import { NetState, stateName } from '../src/states.js';

const script = (file: string): string => `test/lab/vm/cell/${file}`;
// About 90 s on an idle 2-core host (boot ~5 s); TCG slows down a lot when the host is busy.
const vmTimeoutMs = 300_000;

/** The cellular states of the table (API.md) and CONNECTED: each must come from a real exchange. */
const CELL_STATES = [
  NetState.CONNECTED,
  NetState.CELLULAR_PINGING,
  NetState.CELLULAR_WAITING_FOR_SIM,
  NetState.CELLULAR_PPP_CONNECTING,
  NetState.CELLULAR_REGISTERING,
  NetState.CELLULAR_REGISTRATION_DENIED,
  NetState.CELLULAR_STOPPED,
  NetState.CELLULAR_STOPPED_UNHAPPY,
];

describe('cellular in the VM lab (AT over a pty, real pppd, kernel PPP)', { timeout: 30 * 60_000 }, () => {
  let run: VmRun | undefined;
  // A failing before hook only marks the tests "cancelled"; keep the error and fail each test.
  let setupError: unknown;

  before(async () => {
    try {
      const lab = await buildLab();
      run = await runVm({
        lab,
        // One node process for every scenario: loading node and the native add-ons over 9p costs ~10 s under TCG.
        scripts: [script('cellular.ts')],
        timeoutMs: vmTimeoutMs,
      });
      const timing = run.scripts.map((s) => `${s.name} ${s.seconds ?? '?'} s`).join(', ');
      console.log(`vm-cell: build ${Math.round(lab.buildMs)} ms, boot ${run.bootSeconds ?? '?'} s, ${timing}; wall ${(run.durationMs / 1000).toFixed(1)} s; log ${run.logPath}`);
    } catch (error) {
      setupError = error;
    }
  }, { timeout: 30 * 60_000 });

  function ranVm(): VmRun {
    if (setupError !== undefined) throw setupError;
    assert.ok(run, 'the VM did not run');
    return run;
  }

  function assertPassed(name: string): void {
    const run = ranVm();
    const found = run.results.filter((r) => r.name === name);
    const unfinished = run.done ? '' : ` The VM did not finish: ${run.results.at(-1)?.detail ?? ''}.`;
    assert.equal(found.length, 1, `expected one result named ${name}, got ${found.length}.${unfinished} Log: ${run.logPath}`);
    const [result] = found;
    assert.ok(result?.pass, `${name} failed: ${result?.detail}. Log: ${run.logPath}`);
  }

  test('happy path: PINGING → REGISTERING → PPP_CONNECTING → CONNECTED, address, gateway and DNS from IPCP', () => {
    assertPassed('cell-connect-states');
  });

  test('CONNECTED means packets flow: ping over ppp0 to the network side, default route with a metric', () => {
    assertPassed('cell-connect-packets');
  });

  test('pppd took over the dialled tty (its stdin) with the expected options and no defaultroute', () => {
    assertPassed('cell-connect-pppd');
  });

  test('the PPP password is in no argv, environment, file or log while pppd runs', () => {
    assertPassed('cell-connect-no-secrets');
  });

  test('modern iface.openUdp() on the cellular interface: a datagram reaches the network side over ppp0', () => {
    assertPassed('cell-connect-udp');
  });

  test('close: CELLULAR_STOPPED, pppd gone, no ppp link or private directory, the port free and the modem in command mode', () => {
    assertPassed('cell-connect-close');
  });

  test('SIM missing: WAITING_FOR_SIM sim-missing, polled, no registration or dial', () => {
    assertPassed('cell-sim-missing');
  });

  test('PIN required, right PIN: WAITING_FOR_SIM sim-pin-required then CONNECTED; the PIN sent once, never in argv or logs', () => {
    assertPassed('cell-pin-right');
  });

  test('wrong PIN: UNHAPPY sim-pin-wrong, the PIN sent exactly once and never retried', () => {
    assertPassed('cell-pin-wrong');
  });

  test('registration denied: REGISTRATION_DENIED, no dial', () => {
    assertPassed('cell-registration-denied');
  });

  test('slow registration: REGISTERING for a while, then CONNECTED', () => {
    assertPassed('cell-registration-slow');
  });

  test('silent modem: UNHAPPY modem-silent', () => {
    assertPassed('cell-modem-silent');
  });

  test('NO CARRIER mid-session: UNHAPPY ppp-dropped (LCP echo timeout), then CONNECTED again by itself', () => {
    assertPassed('cell-no-carrier-recovers');
  });

  test('close after a recovery releases pppd and the port', () => {
    assertPassed('cell-no-carrier-close');
  });

  test('every cellular state (300–306) and CONNECTED came from a real AT exchange and pppd', () => {
    const run = ranVm();
    const seen = new Set<number>();
    for (const m of run.log.matchAll(/^CELL-STATES: \S+ ([\d ]*)\r?$/gm)) {
      for (const v of (m[1] ?? '').trim().split(/\s+/)) if (v !== '') seen.add(Number(v));
    }
    const missing = CELL_STATES.filter((s) => !seen.has(s)).map((s) => stateName(s));
    assert.deepEqual(missing, [], `states never produced: ${missing.join(', ')}. Log: ${run.logPath}`);
  });

  test('the run finished with no other failure', () => {
    const run = ranVm();
    assert.ok(run.done, `no LAB-DONE: ${run.results.at(-1)?.detail ?? ''}. Log: ${run.logPath}`);
    const failures = run.results.filter((r) => !r.pass);
    assert.deepEqual(failures, [], `log: ${run.logPath}`);
  });
});
