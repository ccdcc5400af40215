// The other kinds of network on a real 802.11 stack, one AP after another: open (key_mgmt
// NONE), a hidden SSID (`hidden: true` → scan_ssid 1, probing by name), and WPS push-button
// (WIFI_WPSING until the AP's button is pushed, then CONNECTED with the received credential,
// which never lands in a file or a log). Each closes leaving nothing behind.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NetState, PRIVATE_DIR, Station, assertInOrder, assertNothingLeft, check, finish, hostapdCli, sleep, startAp, stopAp } from './wifi-lab.js';

const JOIN = [NetState.WIFI_SCANNING, NetState.WIFI_JOINING, NetState.WIFI_LINK_UP, NetState.WIFI_DHCPING, NetState.CONNECTED];

async function closeAndCheck(station: Station): Promise<void> {
  await station.close();
  const last = station.changes.at(-1);
  if (last?.state !== NetState.WIFI_STOPPED) throw new Error(`last state ${station.steps().at(-1)}, want WIFI_STOPPED`);
  assertNothingLeft();
}

// --- open ----------------------------------------------------------------------------------------
startAp(['--ssid', 'OpenLab', '--open']);
let station = await Station.open({ ssid: 'OpenLab', key: '' });
await check('wifi-open', station, async () => {
  try {
    await station.waitFor(NetState.CONNECTED);
    assertInOrder(station.values(), JOIN, 'join');
    if (!station.logs.some((l) => /SET_NETWORK \d+ key_mgmt NONE/.test(l))) throw new Error('key_mgmt NONE was not sent');
    const address = station.iface.ipTable()?.ipv4.address ?? '';
    if (!/^192\.168\.77\.\d+$/.test(address)) throw new Error(`address ${address}, want one from the AP's dnsmasq`);
  } finally {
    await closeAndCheck(station);
  }
});

// --- hidden SSID -----------------------------------------------------------------------------------
stopAp();
startAp(['--ssid', 'HiddenLab', '--psk', 'HiddenPass', '--hidden']);
station = await Station.open({ ssid: 'HiddenLab', key: 'HiddenPass', hidden: true });
await check('wifi-hidden', station, async () => {
  try {
    await station.waitFor(NetState.CONNECTED);
    assertInOrder(station.values(), JOIN, 'join');
    if (!station.logs.some((l) => /SET_NETWORK \d+ scan_ssid 1/.test(l))) throw new Error('scan_ssid 1 was not sent');
  } finally {
    await closeAndCheck(station);
  }
});

// --- WPS push-button -------------------------------------------------------------------------------
stopAp();
const WPS_KEY = 'WpsPassphrase';
const ap = startAp(['--ssid', 'WpsLab', '--psk', WPS_KEY, '--wps']);
hostapdCli(ap, 'wps_cancel'); // wifi-ap.sh pushed the AP's button: release it until nicup waits
station = await Station.open({ ssid: 'WpsLab', wps: true });
await check('wifi-wps-pbc', station, async () => {
  try {
    await station.waitFor(NetState.WIFI_WPSING, { timeoutMs: 10_000 });
    await sleep(1000);
    if (station.values().some((v) => v !== NetState.STARTING && v !== NetState.WIFI_WPSING)) {
      throw new Error(`left WPSING before the AP's button was pushed: ${station.steps().join(', ')}`);
    }
    const pushed = performance.now();
    if (!/OK/.test(hostapdCli(ap, 'wps_pbc'))) throw new Error('hostapd_cli wps_pbc failed');
    await station.waitFor(NetState.CONNECTED, { timeoutMs: 60_000 });
    console.log(`lab: wifi-wps-pbc: CONNECTED ${Math.round(performance.now() - pushed)} ms after the push: ${station.steps().join(', ')}`);
    const files = existsSync(PRIVATE_DIR) ? readdirSync(PRIVATE_DIR).map((f) => join(PRIVATE_DIR, f)).filter((f) => statSync(f).isFile()) : [];
    for (const f of files) if (readFileSync(f, 'utf8').includes(WPS_KEY)) throw new Error(`${f} holds the key WPS delivered`);
    if (station.logs.some((l) => l.includes(WPS_KEY))) throw new Error('the key WPS delivered is in the log');
  } finally {
    await closeAndCheck(station);
  }
});

finish('variants');
