// WPA2-PSK on a real 802.11 stack (mac80211_hwsim + hostapd + wpa_supplicant): nicup joins
// with a passphrase, sends UDP through the link, survives the AP going away and its own
// wpa_supplicant being killed, closes leaving nothing; then a raw 64-hex PSK and a wrong key.
import { pbkdf2Sync } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { UdpMessage } from '../../../../src/index.js';
import {
  NetState,
  PRIVATE_DIR,
  STA_IF,
  Station,
  assertInOrder,
  assertNothingLeft,
  check,
  finish,
  hostapdCli,
  ipv4Of,
  sleep,
  startAp,
  startEcho,
  supplicantProcesses,
  waitUntil,
  wpaCli,
} from './wifi-lab.js';

const SSID = 'Network';
const PASSPHRASE = 'Password';
const ap = startAp(['--ssid', SSID, '--psk', PASSPHRASE]);

/** The one wpa_supplicant nicup started (its command line names nicup's private directory). */
function ourSupplicant(): { pid: number; cmdline: string[] } {
  const ours = supplicantProcesses().filter((p) => p.cmdline.some((a) => a.startsWith(PRIVATE_DIR)));
  if (ours.length !== 1) throw new Error(`want one wpa_supplicant of nicup's, found ${ours.length}`);
  return ours[0]!;
}

async function closeAndCheck(station: Station): Promise<void> {
  const from = station.changes.length;
  await station.close();
  const last = station.changes.at(-1);
  if (station.changes.length === from || last?.state !== NetState.WIFI_STOPPED || last.reason !== 'closed-by-user') {
    throw new Error(`close: want WIFI_STOPPED closed-by-user last, got ${station.steps(from).join(', ')}`);
  }
  assertNothingLeft();
}

// --- passphrase ----------------------------------------------------------------------------
let station = await Station.open({ ssid: SSID, key: PASSPHRASE });

await check('wifi-wpa2-passphrase', station, async () => {
  await station.waitFor(NetState.CONNECTED);
  assertInOrder(station.values(), [NetState.WIFI_SCANNING, NetState.WIFI_JOINING, NetState.WIFI_LINK_UP, NetState.WIFI_DHCPING, NetState.CONNECTED], 'join');
  const address = station.iface.ipTable()?.ipv4.address ?? '';
  if (!/^192\.168\.77\.\d+$/.test(address)) throw new Error(`address ${address}, want one from the AP's dnsmasq (192.168.77.10-50)`);
  if (!ipv4Of(STA_IF).includes(address)) throw new Error(`${address} is not on ${STA_IF}: ${ipv4Of(STA_IF).join(', ')}`);
  if (!readFileSync('/tmp/lab-ap/leases', 'utf8').includes(` ${address} `)) throw new Error(`dnsmasq has no lease for ${address}`);
  const supplicant = ourSupplicant();
  if (!supplicant.cmdline.includes('-D') || !supplicant.cmdline.includes('nl80211,wext')) throw new Error(`argv ${supplicant.cmdline.join(' ')}`);
});

await check('wifi-no-key-in-files-or-logs', station, async () => {
  const files = readdirSync(PRIVATE_DIR).map((f) => join(PRIVATE_DIR, f)).filter((f) => statSync(f).isFile());
  if (files.length === 0) throw new Error(`no config file in ${PRIVATE_DIR}`);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    if (text.includes(PASSPHRASE) || /network=|psk/.test(text)) throw new Error(`${f} holds a network or key`);
  }
  if ((statSync(PRIVATE_DIR).mode & 0o777) !== 0o700) throw new Error(`${PRIVATE_DIR} is not 0700`);
  if (ourSupplicant().cmdline.join(' ').includes(PASSPHRASE)) throw new Error('the key is on the command line');
  if (station.logs.some((l) => l.includes(PASSPHRASE))) throw new Error('the key is in the log');
});

await check('wifi-udp-echo', station, async () => {
  const echo = startEcho(ap, 7007);
  try {
    const udp = await station.iface.openUdp();
    try {
      const got: UdpMessage[] = [];
      udp.on('message', (m) => got.push(m));
      // socat needs a moment to bind in the AP's namespace: resend until the echo comes.
      for (let i = 0; i < 40 && got.length === 0; i++) {
        udp.send(ap.AP_IP, 7007, 'hello over 802.11');
        await sleep(100);
      }
      const m = got[0];
      if (!m) throw new Error(`no echo from ${ap.AP_IP}:7007`);
      if (m.data.toString() !== 'hello over 802.11' || m.fromAddress !== ap.AP_IP || m.fromPort !== 7007) {
        throw new Error(`echo ${JSON.stringify({ data: m.data.toString(), from: m.fromAddress, port: m.fromPort })}`);
      }
    } finally {
      await udp.close();
    }
  } finally {
    echo.kill();
  }
});

await check('wifi-ap-lost', station, async () => {
  const from = station.changes.length;
  hostapdCli(ap, 'disable');
  try {
    await station.waitFor(NetState.WIFI_SCANNING, { reason: 'ap-lost', from, timeoutMs: 10_000 });
    await waitUntil('the address to go with the link', () => ipv4Of(STA_IF).length === 0, 3000);
    await sleep(300);
  } finally {
    hostapdCli(ap, 'enable');
  }
  await station.waitFor(NetState.CONNECTED, { from, timeoutMs: 30_000 });
  console.log(`lab: wifi-ap-lost: ${station.steps(from).join(', ')}`);
});

await check('wifi-supplicant-killed', station, async () => {
  const from = station.changes.length;
  const before = ourSupplicant();
  process.kill(before.pid, 'SIGKILL');
  await station.waitFor(NetState.WIFI_STOPPED_UNHAPPY, { reason: 'supplicant-died', from, timeoutMs: 10_000 });
  await station.waitFor(NetState.CONNECTED, { from, timeoutMs: 30_000 });
  const after = ourSupplicant();
  if (after.pid === before.pid) throw new Error('the same wpa_supplicant is still running');
  console.log(`lab: wifi-supplicant-killed: ${station.steps(from).join(', ')}`);
});

await check('wifi-close', station, () => closeAndCheck(station));

// --- raw PSK (PBKDF2-SHA1, 4096 rounds, salt = SSID: IEEE 802.11i H.4) ------------------------
const psk = pbkdf2Sync(PASSPHRASE, SSID, 4096, 32, 'sha1').toString('hex');
station = await Station.open({ ssid: SSID, key: psk });
await check('wifi-wpa2-raw-psk', station, async () => {
  await station.waitFor(NetState.CONNECTED);
  assertInOrder(station.values(), [NetState.WIFI_SCANNING, NetState.WIFI_JOINING, NetState.WIFI_LINK_UP, NetState.WIFI_DHCPING, NetState.CONNECTED], 'join');
  if (station.logs.some((l) => l.includes(psk))) throw new Error('the PSK is in the log');
  await closeAndCheck(station);
});

// --- wrong key --------------------------------------------------------------------------------
station = await Station.open({ ssid: SSID, key: 'WrongPassword' });
await check('wifi-wrong-key', station, async () => {
  const started = performance.now();
  const unhappy = await station.waitFor(NetState.WIFI_STOPPED_UNHAPPY, { reason: 'wrong-key', timeoutMs: 60_000 });
  console.log(`lab: wifi-wrong-key: wrong-key after ${Math.round(performance.now() - started)} ms: ${station.steps().join(', ')}`);
  if (station.values().includes(NetState.CONNECTED)) throw new Error('a wrong key reached CONNECTED');
  // No endless silent retry: the network is disabled and nothing happens for a while.
  const count = station.changes.length;
  await sleep(5000);
  if (station.changes.length !== count) throw new Error(`states after wrong-key: ${station.steps(count).join(', ')}`);
  const networks = wpaCli('list_networks');
  if (!/\[DISABLED\]/.test(networks)) throw new Error(`the network is not disabled: ${networks.replace(/\n/g, ' | ')}`);
  const status = /^wpa_state=(\S+)$/m.exec(wpaCli('status'))?.[1];
  if (status !== 'DISCONNECTED' && status !== 'INACTIVE') throw new Error(`wpa_state=${status} after the network was disabled`);
  if (unhappy.atMs - station.changes[0]!.atMs > 45_000) throw new Error('wrong-key took over 45 s');
  await closeAndCheck(station);
});

finish('wpa2');
