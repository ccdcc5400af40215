/**
 * The demo on a real lab network: two throw-away network namespaces joined by a veth
 * cable, a real dnsmasq DHCP server and a UDP echo peer on the far side. nicup runs its
 * Linux platform in the near namespace: rtnetlink, its own DHCP client, a UDP socket
 * bound to the interface. Nothing in the host's own namespace or /etc is touched, and
 * everything is torn down at the end (also on Ctrl-C).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Network, NetState, SendError, type NetInterface, type SendErrorCode, type StateChange, type UdpMessage, type UdpSocket } from '../index.js';
import { LinuxPlatform } from '../platform/linux/index.js';
import { createLab, findBinary, type Lab } from '../lab/netns-lab.js';
import { CliFailure, EXIT_OK } from './cli-errors.js';
import { makeLogger, type Context } from './context.js';
import { printDatagram, printIpTable, printSend, printState } from './format.js';

const IFACE = 'eth0';
const SERVER = '192.168.77.1';
const ECHO_PORT = 7;
const STEP_LIMIT_MS = 15_000;
const CABLE_OUT_MS = 1_000;

/** Why the lab cannot run here, or undefined when it can (installing what it needs if allowed). */
export function labUnavailable(ctx: Context): string | undefined {
  if (ctx.io.env.NICUP_DEMO_LAB === '0') return 'NICUP_DEMO_LAB=0 asks for the simulator';
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (the lab creates network namespaces and veth links)';
  const missing = ['ip', 'dnsmasq', 'socat'].filter((b) => {
    try {
      findBinary(b);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return undefined;
  const packages = missing.map((b) => ({ ip: 'iproute2', dnsmasq: 'dnsmasq-base', socat: 'socat' })[b]!);
  if (ctx.io.env.NICUP_DEMO_NO_INSTALL === '1' || !existsSync('/usr/bin/apt-get')) {
    return `missing ${missing.join(', ')} (apt-get install ${packages.join(' ')})`;
  }
  ctx.out.note(`nicup demo: installing ${packages.join(', ')} for the lab (apt-get; set NICUP_DEMO_NO_INSTALL=1 to refuse)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, stdio: 'ignore' });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore' });
    r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, stdio: 'ignore' });
  }
  return r.status === 0 ? undefined : `could not install ${packages.join(' ')}`;
}

export async function runLabDemo(ctx: Context): Promise<number> {
  const { out } = ctx;
  const realStart = performance.now();
  let lab: Lab | undefined;
  let platform: LinuxPlatform | undefined;
  let network: Network | undefined;
  let iface: NetInterface | undefined;
  let socket: UdpSocket | undefined;
  const changes: StateChange[] = [];
  let connectedCount = 0;
  let echoed = 0;
  let sentOk = 0;
  let refused = 0;

  const since = () => performance.now() - realStart;
  const step = (title: string) => out.emit(`== ${title}`, { type: 'step', timeMs: Math.round(since()), title });
  const until = async (what: string, done: () => boolean, limitMs = STEP_LIMIT_MS) => {
    const start = performance.now();
    while (!done()) {
      if (performance.now() - start > limitMs) {
        const last = changes.at(-1);
        throw new CliFailure(`demo: ${what} did not happen within ${limitMs} ms (last state ${last ? `${last.name}, ${last.reason}` : 'none'})`);
      }
      if (ctx.io.signal?.aborted) throw new CliFailure('demo: interrupted');
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const send = (n: number, expect: SendErrorCode): void => {
    const text = `ping ${n}`;
    const code = socket!.send(SERVER, ECHO_PORT, text);
    if (code === SendError.OK) sentOk++;
    else refused++;
    const label = code === expect ? JSON.stringify(text) : `${JSON.stringify(text)} (unexpected)`;
    printSend(out, { atMs: since(), seq: n, count: 5, address: SERVER, port: ECHO_PORT, bytes: Buffer.byteLength(text), code, label });
  };

  try {
    out.note('nicup demo: a real lab network on this Linux host');
    lab = await createLab();
    const client = await lab.addNamespace('client');
    const server = await lab.addNamespace('server');
    const pair = await lab.addVethPair({ clientNs: client, serverNs: server, clientName: IFACE, serverAddress: `${SERVER}/24` });
    await lab.startDnsmasq({ ns: server, iface: pair.serverName, range: ['192.168.77.10', '192.168.77.50'], extraArgs: ['--dhcp-rapid-commit'] });
    await lab.startUdpEcho({ ns: server, port: ECHO_PORT });
    out.note(`  namespace ${client}: ${IFACE}, cabled (veth) to namespace ${server}: ${pair.serverName} ${SERVER}/24`);
    out.note(`  in ${server}: dnsmasq (DHCP 192.168.77.10–50) and a UDP echo (socat) on port ${ECHO_PORT}`);

    platform = new LinuxPlatform({ netns: client });
    network = await Network.create(platform, { logger: makeLogger(ctx) });
    const t0 = platform.clock.now();

    step(`open ${IFACE} (rtnetlink, nicup's DHCP client)`);
    iface = network.open(
      { interface: IFACE },
      {
        onState: (_s, change) => {
          changes.push(change);
          if (change.state === NetState.CONNECTED) connectedCount++;
          printState(out, change, realStart);
        },
      },
    );
    await until('CONNECTED', () => connectedCount >= 1);
    const table = iface.ipTable();
    if (table) printIpTable(out, IFACE, table);

    step(`UDP: three datagrams to the echo peer ${SERVER}:${ECHO_PORT} (socket bound to ${IFACE})`);
    socket = await iface.openUdp();
    socket.on('message', (m: UdpMessage) => {
      echoed++;
      printDatagram(out, IFACE, m, since(), false);
    });
    for (let n = 1; n <= 3; n++) {
      send(n, SendError.OK);
      await until(`echo ${n}`, () => echoed >= n);
    }

    step('pull the cable (the far end of the veth goes down)');
    await lab.setCarrier(pair, false);
    await until('ETHERNET_STOPPED_NO_LINK', () => iface!.state === NetState.ETHERNET_STOPPED_NO_LINK);
    out.note('  a send while the link is down is refused; the socket stays open');
    send(4, SendError.NOT_CONNECTED);
    await new Promise((r) => setTimeout(r, CABLE_OUT_MS));

    step('plug the cable back in');
    await lab.setCarrier(pair, true);
    await until('CONNECTED again', () => connectedCount >= 2);
    await until('the socket to re-bind', () => socket!.bound);
    send(5, SendError.OK);
    await until('the fourth echo', () => echoed >= 4);

    step(`close ${IFACE} and tear the lab down`);
    await socket.close();
    await iface.close();
    const summary = {
      states: changes.length,
      sent: sentOk,
      refusedWhileDown: refused,
      echoed,
      firstConnectMs: Math.round((changes.find((c) => c.state === NetState.CONNECTED)?.atMs ?? t0) - t0),
      realMs: Math.round(since()),
    };
    step('summary');
    out.emit(
      `  ${summary.states} state changes; CONNECTED ${summary.firstConnectMs} ms after open; ${summary.sent} datagrams sent, ` +
        `${summary.echoed} echoed, ${summary.refusedWhileDown} refused while the cable was out; ${summary.realMs} ms in all`,
      { type: 'summary', ...summary },
    );
    if (echoed < 4 || refused !== 1) throw new CliFailure(`demo: expected 4 echoes and 1 refused send, got ${echoed} and ${refused}`);
    return EXIT_OK;
  } finally {
    await socket?.close().catch(() => {});
    await iface?.close().catch(() => {});
    await network?.close().catch(() => {});
    await platform?.dispose().catch(() => {});
    await lab?.dispose().catch(() => {});
  }
}
