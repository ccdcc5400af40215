// The VM lab itself: a second Linux kernel under QEMU/TCG with mac80211_hwsim, hostapd,
// wpa_supplicant, dnsmasq, pppd and a fake AT modem (test/lab/vm/README.md). One boot runs
// the smoke scripts; each test() checks one of their results. Needs root (build.sh installs
// qemu and the tools with apt, downloads the Debian kernel): without them it fails, loudly.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLab, runVm } from './lab/vm/run.js';
import type { VmRun } from './lab/vm/run.js';

const smoke = (file: string): string => `test/lab/vm/smoke/${file}`;
// About 26 s on an idle 2-core host; other work on the machine slows TCG down a lot.
const vmTimeoutMs = 180_000;

describe('VM lab (QEMU/TCG, real 802.11 and PPP stacks)', { timeout: 30 * 60_000 }, () => {
  let run: VmRun | undefined;
  // A failing before hook only marks the tests "cancelled"; keep the error and fail each test.
  let setupError: unknown;

  before(async () => {
    try {
      await boot();
    } catch (error) {
      setupError = error;
    }
  }, { timeout: 30 * 60_000 });

  async function boot(): Promise<void> {
    const lab = await buildLab(); // first run: apt + ~70 MB kernel download; later ~0.1 s
    run = await runVm({
      lab,
      scripts: [smoke('wifi.sh'), smoke('wifi-wrong-key.sh'), smoke('ppp-pty.sh'), smoke('modem.sh'), smoke('node.ts')],
      timeoutMs: vmTimeoutMs,
    });
    const timing = run.scripts.map((s) => `${s.name} ${s.seconds ?? '?'} s`).join(', ');
    console.log(`vm-lab: build ${Math.round(lab.buildMs)} ms, boot ${run.bootSeconds ?? '?'} s, ${timing}; ` +
      `wall ${(run.durationMs / 1000).toFixed(1)} s; log ${run.logPath}`);
  }

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

  test('wifi: hostapd WPA2 AP, wpa_supplicant reaches COMPLETED, udhcpc gets a dnsmasq lease', () => {
    assertPassed('wifi');
  });

  test('wifi: a wrong passphrase gives CTRL-EVENT-SSID-TEMP-DISABLED reason=WRONG_KEY', () => {
    assertPassed('wifi-wrong-key');
  });

  test('ppp: pppd over a socat pty pair gives ppp0 its addresses', () => {
    assertPassed('ppp');
  });

  test('modem: fake AT modem + chat + ATD*99# gives ppp0 with the offered address and DNS', () => {
    assertPassed('modem');
  });

  test('node: runs in the guest and loads koffi and netlink from the shared project', () => {
    assertPassed('node');
  });

  test('the run finished with no other failure', () => {
    const run = ranVm();
    assert.ok(run.done, `no LAB-DONE: ${run.results.at(-1)?.detail ?? ''}. Log: ${run.logPath}`);
    const failures = run.results.filter((r) => !r.pass);
    assert.deepEqual(failures, [], `log: ${run.logPath}`);
  });
});
