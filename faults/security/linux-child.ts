/**
 * The Linux half of the security sweep, run as its own process with NODE_DEBUG=nicup by
 * sweep.ts, which searches all it prints (and the command lines it reports) for the
 * secrets. In a lab namespace it runs nicup's Linux platform for real: Ethernet with a
 * static address and a proxy password (the leftovers ledger is written), the sealed
 * configuration (the device key file is created), and pppd — a stand-in (fake-pppd.mjs)
 * started exactly as pppd would be — with the PPP user name and password. While pppd runs
 * it samples /proc/PID/cmdline of every process it started and the modes of the files
 * nicup wrote. The last line is a JSON summary.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inspect } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { Network, NetState, createImp } from '../../src/index.js';
import { LinuxPlatform } from '../../src/platform/linux/index.js';
import { DEFAULT_LEFTOVERS_DIR } from '../../src/core/leftovers.js';
import { createLab } from '../../test/lab/netns.js';
import { descendants } from '../lib/probe.js';
import { SECRETS } from './secrets.js';

const FAKE_PPPD = fileURLToPath(new URL('./fake-pppd.mjs', import.meta.url));
const PPP_USER = 'mobile"$(u)`;#\\';

const out: string[] = [];
const say = (where: string, value: unknown) => out.push(`${where}: ${typeof value === 'string' ? value : inspect(value, { depth: 10 })}`);
const summary: Record<string, unknown> = {};
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const keyDir = mkdtempSync(join(tmpdir(), 'nicup-sweep-key-'));
process.env.NICUP_KEY_FILE = join(keyDir, 'nicup', 'device.key');
const lab = await createLab();
try {
  const client = await lab.addNamespace('client');
  const server = await lab.addNamespace('server');
  await lab.addVethPair({ clientNs: client, serverNs: server, serverAddress: '192.168.77.1/24' });
  const logLines: string[] = [];
  const logger = { debug: (m: string) => void logLines.push(`debug ${m}`), error: (m: string) => void logLines.push(`error ${m}`) };
  const platform = new LinuxPlatform({ netns: client, ppp: { pppdPath: FAKE_PPPD, stopTimeoutMs: 2000 } });
  const net = await Network.create(platform, { logger });
  const changes: string[] = [];
  const eth = net.open(
    {
      interface: 'eth0',
      staticconfig: { ip: '192.168.77.5', netmask: '255.255.255.0', gateway: '192.168.77.1', dns: ['192.168.77.1'] },
      proxyconfig: { type: 'HTTP', address: 'proxy.example', port: 3128, username: 'user', password: SECRETS.proxyPassword },
    },
    (_s, c) => void changes.push(JSON.stringify(c)),
  );
  await eth.connected({ signal: AbortSignal.timeout(20_000) });
  summary.ethernetConnected = eth.state === NetState.CONNECTED;

  // The leftovers ledger of this link: private, and no secret in it.
  const ino = statSync(`/run/netns/${client}`).ino;
  const ledger = join(DEFAULT_LEFTOVERS_DIR, `${ino}-eth0-${process.pid}.json`);
  summary.ledgerMode = mode(ledger);
  summary.ledgerDirMode = mode(DEFAULT_LEFTOVERS_DIR);
  say('ledger', readFileSync(ledger, 'utf8'));

  // getcurrentconfig seals the proxy password with the device key, created now: private.
  const sealed = createImp(net).net.getcurrentconfig('eth0');
  say('getcurrentconfig', sealed);
  summary.keyFileMode = mode(process.env.NICUP_KEY_FILE);
  summary.keyDirMode = mode(dirname(process.env.NICUP_KEY_FILE));
  say('eth inspect', eth);
  say('eth nic', JSON.stringify(eth.nic));

  // pppd with credentials: they go into a 0600 options file, never on the command line.
  const link = await platform.startPpp({ device: '/dev/null', username: PPP_USER, password: SECRETS.pppPassword, usePeerDns: true });
  const pppdPid = (link as unknown as { pid?: number }).pid;
  const cmdlines = new Set<string>();
  const sample = () => {
    for (const cmd of descendants().values()) cmdlines.add(cmd);
  };
  const pppLog = (link as unknown as { log: string[] }).log;
  for (let i = 0; i < 2500 && !pppLog.some((l) => l.startsWith('READ ')); i++) {
    sample();
    await sleep(2);
  }
  sample();
  const argv = readFileSync(`/proc/${pppdPid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  say('pppd argv', argv.join(' '));
  const at = argv.indexOf('file');
  const optionsFile = at >= 0 ? argv[at + 1] : undefined;
  summary.pppOptionsFileMode = optionsFile ? mode(optionsFile) : 'none';
  summary.pppOptionsDirMode = optionsFile ? mode(dirname(optionsFile)) : 'none';
  summary.pppOptionsOwner = optionsFile ? statSync(optionsFile).uid : -1;
  const read = pppLog.find((l) => l.startsWith('READ ')) ?? '';
  summary.pppUserArrivedLiterally = read.includes(`user=${sha(PPP_USER)}`);
  summary.pppPasswordArrivedLiterally = read.includes(`password=${sha(SECRETS.pppPassword)}`);
  process.kill(pppdPid!, 'SIGUSR1');
  const ifname = await link.ifname;
  summary.pppIfname = ifname;
  for (let i = 0; i < 500 && optionsFile && existsQuiet(dirname(optionsFile)); i++) await sleep(2);
  summary.pppOptionsRemovedAfterRead = optionsFile ? !existsQuiet(dirname(optionsFile)) : false;
  sample();
  await link.stop();
  say('pppd log', pppLog.join('\n'));
  say('command lines of every process started', [...cmdlines].join('\n'));
  summary.processesSeen = cmdlines.size;

  await eth.close();
  await net.close();
  await platform.dispose();
  say('changes', changes.join('\n'));
  say('logger', logLines.join('\n'));
  summary.logLines = logLines.length;
} finally {
  await lab.dispose();
  rmSync(keyDir, { recursive: true, force: true });
}
process.stdout.write(`${out.join('\n')}\n`);
process.stdout.write(`SUMMARY ${JSON.stringify(summary)}\n`);

function existsQuiet(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
