// WiFi through wpa_supplicant, proven on a real 802.11 stack: the VM lab (test/lab/vm) boots a
// second Linux kernel under QEMU/TCG with mac80211_hwsim, hostapd and dnsmasq on the AP side;
// the guest scripts in test/lab/vm/wifi/ run nicup's LinuxPlatform + Network there on wlan0,
// pinned to 2412 MHz. One boot runs every script; each test() checks one of their results.
// Needs root (build.sh installs qemu and the tools, downloads the Debian kernel): without them
// every test fails, naming what is missing.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLab, runVm } from './lab/vm/run.js';
import type { VmRun } from './lab/vm/run.js';
import { NetState, stateName } from '../src/states.js';

const scripts = ['test/lab/vm/wifi/wpa2.ts', 'test/lab/vm/wifi/variants.ts'];
// About 75 s on an idle 2-core host (boot 5 s, wpa2 45 s of which wrong-key 25 s, variants 20 s).
const vmTimeoutMs = 240_000;

/** Every WiFi state of the impOS table, and CONNECTED. */
const WIFI_STATES = [
  NetState.CONNECTED,
  NetState.WIFI_SCANNING,
  NetState.WIFI_JOINING,
  NetState.WIFI_WPSING,
  NetState.WIFI_LINK_UP,
  NetState.WIFI_DHCPING,
  NetState.WIFI_STOPPED,
  NetState.WIFI_STOPPED_UNHAPPY,
];

describe('WiFi on a real 802.11 stack (VM lab: mac80211_hwsim, hostapd, wpa_supplicant)', { timeout: 30 * 60_000 }, () => {
  let run: VmRun | undefined;
  let setupError: unknown;

  before(async () => {
    try {
      const lab = await buildLab();
      run = await runVm({ lab, scripts, timeoutMs: vmTimeoutMs });
      const timing = run.scripts.map((s) => `${s.name} ${s.seconds ?? '?'} s`).join(', ');
      console.log(`vm-wifi: boot ${run.bootSeconds ?? '?'} s, ${timing}; wall ${(run.durationMs / 1000).toFixed(1)} s; log ${run.logPath}`);
    } catch (error) {
      // A failing before hook only marks the tests "cancelled"; keep the error and fail each.
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
    assert.ok(found[0]?.pass, `${name} failed: ${found[0]?.detail}. Log: ${run.logPath}`);
  }

  test('WPA2 passphrase: SCANNING, JOINING, LINK_UP, DHCPING, CONNECTED with an address from the AP’s dnsmasq', () => {
    assertPassed('wifi-wpa2-passphrase');
  });

  test('the key is in no file of the private 0700 directory, not on the command line, not in the log', () => {
    assertPassed('wifi-no-key-in-files-or-logs');
  });

  test('UDP echo over the WiFi link with a socat peer on the AP side', () => {
    assertPassed('wifi-udp-echo');
  });

  test('AP disabled: SCANNING ap-lost and the address removed; AP back: CONNECTED again', () => {
    assertPassed('wifi-ap-lost');
  });

  test('wpa_supplicant killed: STOPPED_UNHAPPY supplicant-died, then CONNECTED by itself with a new daemon', () => {
    assertPassed('wifi-supplicant-killed');
  });

  test('close: WIFI_STOPPED, no wpa_supplicant, no private directory, no address', () => {
    assertPassed('wifi-close');
  });

  test('raw 64-hex PSK (PBKDF2 of passphrase and SSID) joins', () => {
    assertPassed('wifi-wpa2-raw-psk');
  });

  test('wrong key: STOPPED_UNHAPPY wrong-key, the network disabled, no retry for a while', () => {
    assertPassed('wifi-wrong-key');
  });

  test('open network joins', () => {
    assertPassed('wifi-open');
  });

  test('hidden SSID joins with hidden: true (scan_ssid 1)', () => {
    assertPassed('wifi-hidden');
  });

  test('WPS push-button: WIFI_WPSING until the AP’s button, then CONNECTED; the received key stays out of files and logs', () => {
    assertPassed('wifi-wps-pbc');
  });

  test('every WiFi state (100–106) and CONNECTED came from the real stack', () => {
    const run = ranVm();
    const seen = new Set<number>();
    const reports = [...run.log.replace(/\r/g, '').matchAll(/^WIFI-STATES: (\S+) ([-\d ]*)$/gm)];
    assert.equal(reports.length, scripts.length, `one WIFI-STATES line per script, got ${reports.length}. Log: ${run.logPath}`);
    for (const m of reports) for (const v of (m[2] ?? '').trim().split(/\s+/)) if (v !== '') seen.add(Number(v));
    const missing = WIFI_STATES.filter((s) => !seen.has(s)).map((s) => `${s} ${stateName(s)}`);
    assert.deepEqual(missing, [], `never produced: ${missing.join(', ')}. Log: ${run.logPath}`);
  });

  test('the run finished with no other failure', () => {
    const run = ranVm();
    assert.ok(run.done, `no LAB-DONE: ${run.results.at(-1)?.detail ?? ''}. Log: ${run.logPath}`);
    assert.deepEqual(run.results.filter((r) => !r.pass), [], `log: ${run.logPath}`);
  });
});
