// Fault-matrix scenarios on a real 802.11 stack (VM lab: mac80211_hwsim, hostapd, the real
// wpa_supplicant that nicup starts): the AP going away and coming back, wpa_supplicant
// killed, a wrong key then the right one, and an SSID and key full of metacharacters that
// must reach hostapd's network literally. Counts: FAULT_LONG=1 for the long run.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetState, PRIVATE_DIR, STA_IF, Station, hostapdCli, ipv4Of, startAp, supplicantProcesses, type ApEnv } from '../../test/lab/vm/wifi/wifi-lab.js';
import { cmdlineSampler, ledgerFiles, scenario, sleep, waitUntil } from './guest-lib.js';
import { SECRETS, VM_WIFI_SSID } from '../security/secrets.js';

const LONG = process.env['FAULT_LONG'] === '1';
const SSID = 'Network';
const KEY = 'Password';
/** The metacharacter network: an SSID of 32 bytes at most, a printable-ASCII passphrase. */
const META_SSID = VM_WIFI_SSID;
const META_KEY = SECRETS.vmWifiKey;

// `--child`: this same script as a separate nicup process (the killed-nicup scenario):
// opens wlan0, prints each state, never closes anything.
if (process.argv.includes('--child')) {
  const child = await Station.open({ ssid: SSID, key: KEY });
  child.iface.on('state', (c) => console.log(`CHILD-STATE ${c.name}`));
  await new Promise(() => {});
}

const sampler = cmdlineSampler();
const ap: ApEnv = startAp(['--ssid', SSID, '--psk', KEY]);

function ours(): { pid: number; cmdline: string[] }[] {
  return supplicantProcesses().filter((p) => p.cmdline.some((a) => a.startsWith(PRIVATE_DIR)));
}

/** What nicup left after close: a wpa_supplicant, its private directory, an address. */
function leftovers(): string[] {
  const left: string[] = [];
  for (const p of supplicantProcesses()) left.push(`wpa_supplicant ${p.pid} still running`);
  try {
    for (const f of readdirSync('/run/nicup').filter((x) => x.startsWith('wpa-'))) left.push(`/run/nicup/${f}`);
  } catch {
    // no /run/nicup: nothing left
  }
  left.push(...ledgerFiles());
  const addrs = ipv4Of(STA_IF);
  if (addrs.length > 0) left.push(`${STA_IF}: ${addrs.join(', ')}`);
  return left;
}

await scenario('vm-wifi-ap-flap', async (r) => {
  const st = await Station.open({ ssid: SSID, key: KEY });
  try {
    await st.waitFor(NetState.CONNECTED, { timeoutMs: 60_000 });
    const address = st.iface.ipTable()?.ipv4.address;
    const n = LONG ? 100 : 5;
    for (let i = 0; i < n; i++) {
      const from = st.changes.length;
      hostapdCli(ap, 'disable');
      await st.waitFor(NetState.WIFI_SCANNING, { reason: 'ap-lost', from, timeoutMs: 15_000 });
      await waitUntil('the address to go with the link', () => ipv4Of(STA_IF).length === 0, 5000);
      hostapdCli(ap, 'enable');
      const t0 = performance.now();
      const back = st.changes.length;
      await st.waitFor(NetState.CONNECTED, { from: back, timeoutMs: 60_000 });
      r.recoveryMs.push(performance.now() - t0);
      r.iterations++;
    }
    if (ours().length !== 1) throw new Error(`${ours().length} wpa_supplicant(s) of nicup's, want 1`);
    if (JSON.stringify(ipv4Of(STA_IF)) !== JSON.stringify([address])) throw new Error(`addresses ${ipv4Of(STA_IF).join(', ')}, want ${address}`);
    r.finalState = `CONNECTED ${address}, 1 address, 1 wpa_supplicant`;
  } finally {
    await st.close();
  }
  r.leftBehind.push(...leftovers());
});

await scenario('vm-wifi-supplicant-killed', async (r) => {
  const st = await Station.open({ ssid: SSID, key: KEY });
  try {
    await st.waitFor(NetState.CONNECTED, { timeoutMs: 60_000 });
    const n = LONG ? 50 : 3;
    for (let i = 0; i < n; i++) {
      const before = ours();
      if (before.length !== 1) throw new Error(`${before.length} wpa_supplicant(s) of nicup's before the kill`);
      const from = st.changes.length;
      const t0 = performance.now();
      process.kill(before[0]!.pid, 'SIGKILL');
      await st.waitFor(NetState.WIFI_STOPPED_UNHAPPY, { reason: 'supplicant-died', from, timeoutMs: 15_000 });
      await st.waitFor(NetState.CONNECTED, { from, timeoutMs: 60_000 });
      r.recoveryMs.push(performance.now() - t0);
      const after = ours();
      if (after.length !== 1 || after[0]!.pid === before[0]!.pid) throw new Error(`after the restart: ${after.map((p) => p.pid).join(', ')}`);
      r.iterations++;
    }
    r.finalState = `CONNECTED ${st.iface.ipTable()?.ipv4.address} with wpa_supplicant number ${n + 1}`;
  } finally {
    await st.close();
  }
  r.leftBehind.push(...leftovers());
});

await scenario('vm-wifi-wrong-then-right-key', async (r) => {
  const st = await Station.open({ ssid: SSID, key: 'WrongPassword' });
  // Every reconfiguring open() is another handle on the interface: all are closed at the end.
  const handles = [st.iface];
  try {
    const n = LONG ? 3 : 1;
    for (let i = 0; i < n; i++) {
      const from = st.changes.length;
      if (i > 0) handles.push(st.net.open({ interface: STA_IF, wificonfig: { ssid: SSID, key: 'WrongPassword' } }, { reconfigure: true }));
      const t = performance.now();
      await st.waitFor(NetState.WIFI_STOPPED_UNHAPPY, { reason: 'wrong-key', from, timeoutMs: 60_000 });
      r.figures[`wrong key → UNHAPPY(wrong-key) #${i + 1} (ms)`] = Math.round(performance.now() - t);
      if (ipv4Of(STA_IF).length > 0) throw new Error('an address with a wrong key');
      const back = st.changes.length;
      const t0 = performance.now();
      handles.push(st.net.open({ interface: STA_IF, wificonfig: { ssid: SSID, key: KEY } }, { reconfigure: true }));
      await st.waitFor(NetState.CONNECTED, { from: back, timeoutMs: 60_000 });
      r.recoveryMs.push(performance.now() - t0);
      if (ours().length !== 1) throw new Error(`${ours().length} wpa_supplicant(s) of nicup's after reconfigure`);
      r.iterations++;
    }
    r.finalState = `CONNECTED ${st.iface.ipTable()?.ipv4.address} after reconfiguring with the right key`;
  } finally {
    for (const h of handles.slice(1)) await h.close();
    await st.close();
  }
  r.leftBehind.push(...leftovers());
});

await scenario('vm-wifi-killed-mid-bring-up', async (r) => {
  // nicup as its own process, SIGKILLed while joining and once CONNECTED: what it started
  // (wpa_supplicant, its private directory) and put on the link must not outlive the next
  // nicup's close.
  for (const killAt of ['WIFI_JOINING', 'CONNECTED']) {
    const child = spawn(process.execPath, [process.argv[1]!, '--child'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      await waitUntil(`the child nicup to reach ${killAt}`, () => out.includes(`CHILD-STATE ${killAt}`), 60_000);
    } catch (e) {
      child.kill('SIGKILL');
      throw new Error(`${(e as Error).message}; the child said: ${out.trim().split('\n').slice(-5).join(' | ')}`);
    }
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    const orphans = supplicantProcesses();
    r.figures[`left running by the nicup killed at ${killAt}`] = orphans.length ? `wpa_supplicant ${orphans.map((p) => p.pid).join(', ')}; ${STA_IF} ${ipv4Of(STA_IF).join(', ') || 'no address'}` : `nothing; ${STA_IF} ${ipv4Of(STA_IF).join(', ') || 'no address'}`;
    const st = await Station.open({ ssid: SSID, key: KEY });
    const t0 = performance.now();
    try {
      await st.waitFor(NetState.CONNECTED, { timeoutMs: 60_000 });
      r.recoveryMs.push(performance.now() - t0);
      // The killed nicup's daemon (with its network and key) must not serve alongside the new one.
      const still = orphans.filter((o) => existsSync(`/proc/${o.pid}`));
      r.figures[`its daemon once the next start is CONNECTED (kill at ${killAt})`] = orphans.length === 0 ? 'none was left' : still.length === 0 ? 'stopped' : `still running: ${still.map((o) => o.pid).join(', ')}`;
      for (const o of still) r.leftBehind.push(`after a kill at ${killAt}: the killed nicup's wpa_supplicant ${o.pid} still runs beside the next start's`);
    } finally {
      await st.close();
    }
    const left = leftovers();
    if (left.length > 0) {
      r.leftBehind.push(...left.map((l) => `after a kill at ${killAt} and the next start's close: ${l}`));
      // Clean up, so that what this kill left is not counted again (nor by later scenarios).
      for (const p of supplicantProcesses()) process.kill(p.pid, 'SIGKILL');
      execFileSync('ip', ['-4', 'addr', 'flush', 'dev', STA_IF]);
      for (const l of left) if (l.startsWith('/run/nicup/')) rmSync(l, { recursive: true, force: true });
    }
    r.iterations++;
  }
  r.finalState = 'the next start CONNECTED after each kill';
});

await scenario('vm-wifi-metacharacters', async (r) => {
  // hostapd with the metacharacter network: the SSID as hex (ssid2), the passphrase literally
  // (hostapd takes the rest of the line). nicup gets them as they are; CONNECTED proves that
  // the real wpa_supplicant read both byte for byte.
  const conf = readFileSync('/tmp/lab-ap/hostapd.conf', 'utf8')
    .split('\n')
    .filter((l) => !/^(ssid|ssid2|wpa_passphrase)=/.test(l))
    .concat([`ssid2=${Buffer.from(META_SSID, 'utf8').toString('hex')}`, `wpa_passphrase=${META_KEY}`])
    .join('\n');
  const metaConf = '/tmp/lab-ap/hostapd-meta.conf';
  writeFileSync(metaConf, `${conf}\n`);
  const pidFile = '/run/lab/ap/hostapd.pid';
  process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
  await sleep(300);
  const started = spawnSync('ip', ['netns', 'exec', ap.AP_NETNS, 'hostapd', '-B', '-P', pidFile, metaConf], { encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`hostapd with the metacharacter SSID: ${started.stdout} ${started.stderr}`);
  await waitUntil('hostapd ENABLED', () => /state=ENABLED/.test(hostapdCli(ap, 'status')), 10_000);
  const st = await Station.open({ ssid: META_SSID, key: META_KEY });
  try {
    const t0 = performance.now();
    await st.waitFor(NetState.CONNECTED, { timeoutMs: 60_000 });
    r.recoveryMs.push(performance.now() - t0);
    const status = execFileSync('wpa_cli', ['-p', PRIVATE_DIR, '-i', STA_IF, 'status'], { encoding: 'utf8' });
    if (!/wpa_state=COMPLETED/.test(status)) throw new Error(`wpa_supplicant status: ${status}`);
    // No key in nicup's files, and its directory is private.
    for (const f of readdirSync(PRIVATE_DIR).map((x) => join(PRIVATE_DIR, x)).filter((x) => statSync(x).isFile())) {
      if (readFileSync(f, 'utf8').includes(META_KEY)) throw new Error(`${f} holds the key`);
    }
    r.figures['private directory mode'] = (statSync(PRIVATE_DIR).mode & 0o777).toString(8);
    if (r.figures['private directory mode'] !== '700') throw new Error(`${PRIVATE_DIR} has mode ${r.figures['private directory mode']}`);
    if (st.logs.some((l) => l.includes(META_KEY))) throw new Error('the key is in nicup\'s log');
    r.iterations = 1;
    r.finalState = `CONNECTED ${st.iface.ipTable()?.ipv4.address} to SSID ${JSON.stringify(META_SSID)} (${Buffer.byteLength(META_SSID)} bytes) with a ${META_KEY.length}-character metacharacter key`;
  } finally {
    await st.close();
  }
  r.leftBehind.push(...leftovers());
});

const cmdlines = sampler.stop();
await scenario('vm-wifi-no-key-in-argv', async (r) => {
  const hits = cmdlines.filter((c) => (c.includes(KEY) && c.includes('wpa_supplicant')) || c.includes(META_KEY) || c.includes('WrongPassword'));
  // hostapd's argv names only its config file; the keys must not be on any command line.
  if (hits.length > 0) throw new Error(`a key on a command line: ${hits.length} process(es)`);
  r.iterations = cmdlines.length;
  r.finalState = `no WiFi key in the command line of any of ${cmdlines.length} processes seen`;
});

process.exit(0);
