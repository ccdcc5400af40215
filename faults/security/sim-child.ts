/**
 * The simulator half of the security sweep, run as its own process with NODE_DEBUG=nicup
 * (so nicup's debug log goes to stderr) by sweep.ts, which searches everything this
 * process prints for the secrets. It really uses them: the AP takes only the WiFi key,
 * the SIM only the PIN; the outputs it prints are every way a program sees nicup: state
 * callbacks, 'state' events, async iterators, the diagnostics channel, a recording
 * logger, errors (bad NICs, a wrong key, a wrong PIN), util.inspect of the interfaces
 * (of the Network and platform: sweep.ts security-inspect), iface.nic, the IP
 * table, imp.net.info() and getcurrentconfig(), and the CLI (main() in-process).
 * The last line is a JSON summary for the parent to check that the secrets were used.
 */
import { inspect } from 'node:util';
import diagnostics from 'node:diagnostics_channel';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Network, NetState, createImp } from '../../src/index.js';
import type { NetInterface, StateChange } from '../../src/index.js';
import { SimPlatform, defaultWorld } from '../../src/platform/sim/index.js';
import { main } from '../../src/cli/main.js';
import { SECRETS } from './secrets.js';

const out: string[] = [];
const say = (where: string, value: unknown) => out.push(`${where}: ${typeof value === 'string' ? value : inspect(value, { depth: 8 })}`);
const summary: Record<string, unknown> = {};

const dir = mkdtempSync(join(tmpdir(), 'nicup-sweep-'));
process.env.NICUP_KEY_FILE = join(dir, 'device.key');

const published: unknown[] = [];
const onPublish = (m: unknown) => void published.push(m);
diagnostics.subscribe('nicup:state', onPublish);

async function library(): Promise<void> {
  const world = defaultWorld();
  world.accessPoint('Network')!.options.key = SECRETS.wifiKey;
  Object.assign(world.modem('cell0').options, { sim: 'pin', pin: SECRETS.pin });
  const logLines: string[] = [];
  const logger = { debug: (m: string) => void logLines.push(`debug ${m}`), error: (m: string) => void logLines.push(`error ${m}`) };
  const net = await Network.create(new SimPlatform(world), { logger });
  const changes: StateChange[] = [];
  const nics = [
    { interface: 'wl0', wificonfig: { ssid: 'Network', key: SECRETS.wifiKey } },
    { interface: 'cell0', cellconfig: { apn: 'internet', pin: SECRETS.pin, username: 'mobile', password: SECRETS.pppPassword } },
    {
      interface: 'eth0',
      staticconfig: { ip: '192.168.1.60', netmask: '255.255.255.0', gateway: '192.168.1.1', dns: ['192.168.1.1'] },
      proxyconfig: { type: 'HTTP', address: 'proxy.example', port: 3128, username: 'user', password: SECRETS.proxyPassword },
    },
  ];
  const ifaces: NetInterface[] = nics.map((nic) => {
    const i = net.open(nic, (_s, c) => void changes.push(c));
    i.on('state', (c) => changes.push(c));
    return i;
  });
  const iterated: StateChange[] = [];
  const loops = ifaces.map(async (i) => {
    for await (const c of i.changes()) iterated.push(c);
  });
  const ok = await world.runUntil(() => ifaces.every((i) => i.state === NetState.CONNECTED), 120_000);
  summary.allConnected = ok;
  summary.simUnlocked = world.modem('cell0').unlocked;
  for (const i of ifaces) {
    say(`${i.name} inspect`, i);
    say(`${i.name} nic`, JSON.stringify(i.nic));
    say(`${i.name} ipTable`, JSON.stringify(i.ipTable()));
    say(`${i.name} ipv4`, i.ipv4);
  }
  say('network info', net.info());
  const imp = createImp(net);
  for (const name of ['wl0', 'cell0', 'eth0']) {
    const sealed = imp.net.getcurrentconfig(name);
    say(`getcurrentconfig ${name}`, sealed);
    summary[`sealed ${name}`] = JSON.stringify(sealed, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)).length;
  }
  // Bad NICs that carry a secret: refused, and the error must not repeat it.
  const bad = [
    { interface: 'wl0', wificonfig: { ssid: 'Network', key: `${SECRETS.wifiKey}\n` } },
    { interface: 'wl0', wificonfig: { ssid: 'Network', key: SECRETS.wifiKey.repeat(4) } },
    { interface: 'cell0', cellconfig: { apn: `internet"${SECRETS.pin}`, pin: SECRETS.pin } },
    { interface: 'cell0', cellconfig: { apn: 'internet', pin: `${SECRETS.pin}x` } },
    { interface: 'eth0', proxyconfig: { type: 'HTTP', address: 'p', port: 1, password: SECRETS.proxyPassword } },
    { interface: 'eth0', proxyconfig: { type: 'HTTP', address: 'p', port: 1, username: 'u', password: SECRETS.proxyPassword.repeat(3) } },
  ];
  let refused = 0;
  for (const nic of bad) {
    try {
      net.open(nic, { reconfigure: true });
      say('bad NIC accepted', Object.keys(nic));
    } catch (e) {
      refused++;
      const err = e as Error & { field?: string };
      say('bad NIC error', [err.message, String(err), err.stack, JSON.stringify(err), inspect(err)].join(' | '));
    }
  }
  summary.badNicsRefused = `${refused}/${bad.length}`;
  for (const i of ifaces) await i.close();
  await Promise.all(loops);
  // A wrong key and a wrong PIN: their failures are reported without the values.
  const wrongWorld = defaultWorld();
  wrongWorld.accessPoint('Network')!.options.key = 'TheRealKeyIsOther';
  Object.assign(wrongWorld.modem('cell0').options, { sim: 'pin', pin: '1111' });
  const net2 = await Network.create(new SimPlatform(wrongWorld), { logger });
  const wl = net2.open(nics[0]!, (_s, c) => void changes.push(c));
  const cell = net2.open(nics[1]!, (_s, c) => void changes.push(c));
  await wrongWorld.runUntil(() => wl.state === NetState.WIFI_STOPPED_UNHAPPY && cell.state === NetState.CELLULAR_STOPPED_UNHAPPY, 300_000);
  summary.wrongKeyReason = wl.reason;
  summary.wrongPinReason = cell.reason;
  say('wrong key/pin info', net2.info());
  await wl.close();
  await cell.close();
  await net2.close();
  await net.close();
  say('changes', changes.map((c) => JSON.stringify(c)).join('\n'));
  say('iterated', iterated.map((c) => JSON.stringify(c)).join('\n'));
  say('diagnostics', published.map((c) => JSON.stringify(c)).join('\n'));
  say('logger', logLines.join('\n'));
  summary.logLines = logLines.length;
  summary.changes = changes.length;
}

async function cli(): Promise<void> {
  const files = { key: join(dir, 'key'), pin: join(dir, 'pin'), proxy: join(dir, 'proxy') };
  writeFileSync(files.key, `${SECRETS.wifiKey}\n`, { mode: 0o600 });
  writeFileSync(files.pin, `${SECRETS.pin}\n`, { mode: 0o600 });
  writeFileSync(files.proxy, `${SECRETS.proxyPassword}\n`, { mode: 0o600 });
  const runs: [string, string[], (w: ReturnType<typeof defaultWorld>) => void][] = [
    ['wifi', ['open', 'wl0', '--ssid', 'Network', '--key-file', files.key, '--until', 'connected'], (w) => (w.accessPoint('Network')!.options.key = SECRETS.wifiKey)],
    ['wifi json', ['--json', 'open', 'wl0', '--ssid', 'Network', '--key-file', files.key, '--until', 'connected'], (w) => (w.accessPoint('Network')!.options.key = SECRETS.wifiKey)],
    ['wifi wrong key', ['-v', 'open', 'wl0', '--ssid', 'Network', '--key-file', files.key, '--until', 'connected', '--timeout', '60000'], (w) => (w.accessPoint('Network')!.options.key = 'another-key')],
    ['cell', ['-v', 'open', 'cell0', '--apn', 'internet', '--pin-file', files.pin, '--until', 'connected'], (w) => Object.assign(w.modem('cell0').options, { sim: 'pin', pin: SECRETS.pin })],
    ['cell wrong pin', ['--json', 'open', 'cell0', '--apn', 'internet', '--pin-file', files.pin, '--until', 'connected', '--timeout', '120000'], (w) => Object.assign(w.modem('cell0').options, { sim: 'pin', pin: '1111' })],
    ['proxy', ['open', 'eth0', '--proxy', 'proxy.example:3128', '--proxy-user', 'user', '--proxy-password-file', files.proxy, '--until', 'connected'], () => {}],
  ];
  const codes: Record<string, number> = {};
  for (const [name, argv, tweak] of runs) {
    // The CLI waits on the platform's clock: a world in real time (the simulated daemons' delays are short).
    const world = defaultWorld('default', { time: 'real' });
    tweak(world);
    let stdout = '';
    let stderr = '';
    codes[name] = await main(['--platform', 'sim', ...argv], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { NICUP_DEBUG: '1' },
      simWorld: world,
    });
    say(`cli ${name} stdout`, stdout);
    say(`cli ${name} stderr`, stderr);
  }
  summary.cliExitCodes = codes;
}

try {
  await library();
  await cli();
} finally {
  diagnostics.unsubscribe('nicup:state', onPublish);
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${out.join('\n')}\n`);
// The real-time worlds of the CLI runs still have their simulated daemons' timers armed
// (a wrong-key rescan in 10 s): they would only keep this process waiting.
process.stdout.write(`SUMMARY ${JSON.stringify(summary)}\n`, () => process.exit(0));
