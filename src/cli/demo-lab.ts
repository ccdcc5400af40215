/**
 * The demo on a real lab network: two throw-away network namespaces joined by a veth
 * cable, a real dnsmasq DHCP server and a UDP echo peer on the far side. nicup runs its
 * Linux platform in the near namespace: rtnetlink, its own DHCP client, a UDP socket
 * bound to the interface. Nothing in the host's own namespace or /etc is touched, and
 * everything is torn down at the end (also on Ctrl-C).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Network, NetState, SendError, type NetInterface, type UdpSocket } from '../index.js';
import { LinuxPlatform } from '../platform/linux/index.js';
import { createLab, findBinary, type Lab } from '../lab/netns-lab.js';
import { CliFailure, EXIT_OK } from './cli-errors.js';
import { makeLogger, type Context } from './context.js';
import { DemoRun } from './demo-run.js';
import { printIpTable } from './format.js';

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

  const since = () => performance.now() - realStart;
  const run = new DemoRun(out, { iface: IFACE, address: SERVER, port: ECHO_PORT, since, stateOriginMs: realStart });
  const until = async (what: string, done: () => boolean, limitMs = STEP_LIMIT_MS) => {
    const start = performance.now();
    while (!done()) {
      if (performance.now() - start > limitMs) throw new CliFailure(`demo: ${what} did not happen within ${limitMs} ms (last state ${run.lastState()})`);
      if (ctx.io.signal?.aborted) throw new CliFailure('demo: interrupted');
      await new Promise((r) => setTimeout(r, 2));
    }
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

    run.step(`open ${IFACE} (rtnetlink, nicup's DHCP client)`);
    iface = network.open({ interface: IFACE }, { onState: run.onState });
    await until('CONNECTED', () => run.connectedCount >= 1);
    const table = iface.ipTable();
    if (table) printIpTable(out, IFACE, table);

    run.step(`UDP: three datagrams to the echo peer ${SERVER}:${ECHO_PORT} (socket bound to ${IFACE})`);
    socket = await run.openUdp(iface);
    for (let n = 1; n <= 3; n++) {
      run.send(n, SendError.OK);
      await until(`echo ${n}`, () => run.echoed >= n);
    }

    run.step('pull the cable (the far end of the veth goes down)');
    await lab.setCarrier(pair, false);
    await until('ETHERNET_STOPPED_NO_LINK', () => iface!.state === NetState.ETHERNET_STOPPED_NO_LINK);
    out.note('  a send while the link is down is refused; the socket stays open');
    run.send(4, SendError.NOT_CONNECTED);
    await new Promise((r) => setTimeout(r, CABLE_OUT_MS));

    run.step('plug the cable back in');
    await lab.setCarrier(pair, true);
    await until('CONNECTED again', () => run.connectedCount >= 2);
    await until('the socket to re-bind', () => socket!.bound);
    run.send(5, SendError.OK);
    await until('the fourth echo', () => run.echoed >= 4);

    run.step(`close ${IFACE} and tear the lab down`);
    await socket.close();
    await iface.close();
    const summary = {
      ...run.counts(),
      firstConnectMs: Math.round((run.changes.find((c) => c.state === NetState.CONNECTED)?.atMs ?? t0) - t0),
      realMs: Math.round(since()),
    };
    run.step('summary');
    out.emit(
      `  ${summary.states} state changes; CONNECTED ${summary.firstConnectMs} ms after open; ${summary.sent} datagrams sent, ` +
        `${summary.echoed} echoed, ${summary.refusedWhileDown} refused while the cable was out; ${summary.realMs} ms in all`,
      { type: 'summary', ...summary },
    );
    run.checkOutcome();
    return EXIT_OK;
  } finally {
    await socket?.close().catch(() => {});
    await iface?.close().catch(() => {});
    await network?.close().catch(() => {});
    await platform?.dispose().catch(() => {});
    await lab?.dispose().catch(() => {});
  }
}
