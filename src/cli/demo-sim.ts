/**
 * The demo on the simulator, in virtual time: fast and the same every run. Opens eth0,
 * exchanges datagrams with an echo host, pulls the cable and puts it back (the socket
 * survives the bounce), closes, and sums up. Time moves only through world.run() and
 * world.runUntil(), so a "two seconds without a cable" takes microseconds.
 */
import { createNetwork, NetState, SendError, type NetInterface, type UdpSocket } from '../index.js';
import { createSimPlatform, defaultWorld, type SimWorld } from '../platform/sim/index.js';
import { CliFailure, EXIT_OK } from './cli-errors.js';
import { makeLogger, type Context } from './context.js';
import { DemoRun } from './demo-run.js';
import { printIpTable } from './format.js';

const IFACE = 'eth0';
const ECHO_PORT = 7;
/** Simulated time allowed for each step before the demo gives up. */
const STEP_LIMIT_MS = 60_000;
const CABLE_OUT_MS = 2_000;

export async function runSimDemo(ctx: Context, scenario: string): Promise<number> {
  const { out } = ctx;
  const realStart = performance.now();
  const world: SimWorld = ctx.io.simWorld ?? defaultWorld(scenario, { time: 'virtual' });
  const platform = createSimPlatform({ world });
  const network = await createNetwork({ platform, logger: makeLogger(ctx) });
  const clock = platform.clock;
  const startMs = clock.now();
  const since = () => clock.now() - startMs;

  const segment = world.segment(IFACE);
  const echoAddress = hostAddress(segment.network, 50);
  segment.host(echoAddress).echo(ECHO_PORT);

  const run = new DemoRun(out, { iface: IFACE, address: echoAddress, port: ECHO_PORT, since, stateOriginMs: startMs });
  out.note(`nicup demo: the simulator in virtual time${scenario === 'default' ? '' : ` (scenario "${scenario}")`}`);
  out.note(`  ${IFACE} is cabled to ${segment.network}/${segment.prefixLength} with a DHCP server; ${echoAddress} echoes UDP port ${ECHO_PORT}`);

  let iface: NetInterface | undefined;
  let socket: UdpSocket | undefined;

  const until = async (what: string, done: () => boolean) => {
    if (await world.runUntil(done, STEP_LIMIT_MS)) return;
    throw new CliFailure(`demo: ${what} did not happen within ${STEP_LIMIT_MS} ms of simulated time (last state ${run.lastState()})`);
  };

  try {
    run.step(`open ${IFACE}`);
    iface = network.open({ interface: IFACE }, { onState: run.onState });
    await until('CONNECTED', () => run.connectedCount >= 1);
    const table = iface.ipTable();
    if (table) printIpTable(out, IFACE, table);

    run.step(`UDP: three datagrams to the echo host ${echoAddress}:${ECHO_PORT}`);
    socket = await run.openUdp(iface);
    for (let n = 1; n <= 3; n++) {
      run.send(n, SendError.OK);
      await world.run(50);
    }
    await until('three echoes', () => run.echoed >= 3);

    run.step('pull the cable');
    world.setCable(IFACE, false);
    await until('ETHERNET_STOPPED_NO_LINK', () => iface!.state === NetState.ETHERNET_STOPPED_NO_LINK);
    out.note('  a send while the link is down is refused; the socket stays open');
    run.send(4, SendError.NOT_CONNECTED);
    await world.run(CABLE_OUT_MS);

    run.step('plug the cable back in');
    world.setCable(IFACE, true);
    await until('CONNECTED again', () => run.connectedCount >= 2);
    // The socket re-binds itself once the interface is back.
    await until('the socket to re-bind', () => socket!.bound);
    run.send(5, SendError.OK);
    await until('the fourth echo', () => run.echoed >= 4);

    run.step(`close ${IFACE}`);
    await socket.close();
    let closed = false;
    const closing = iface.close().then(() => (closed = true));
    await until('ETHERNET_STOPPED', () => closed);
    await closing;

    const summary = {
      ...run.counts(),
      simulatedMs: Math.round(since()),
      realMs: Math.round(performance.now() - realStart),
    };
    run.step('summary');
    out.emit(
      `  ${summary.states} state changes; ${summary.sent} datagrams sent, ${summary.echoed} echoed, ${summary.refusedWhileDown} refused while the cable was out; ` +
        `${(summary.simulatedMs / 1000).toFixed(1)} s simulated in ${summary.realMs} ms`,
      { type: 'summary', ...summary },
    );
    run.checkOutcome();
    return EXIT_OK;
  } finally {
    await socket?.close().catch(() => {});
    const closing = iface?.close().catch(() => {});
    // Closing needs simulated time to pass (the driver's last steps run on the world's clock).
    if (closing) await Promise.race([closing, world.runUntil(() => iface!.closed, STEP_LIMIT_MS)]);
    await network.close().catch(() => {});
    await platform.dispose().catch(() => {});
  }
}

/** The n-th host address of a network ("192.168.1.0", 50 → "192.168.1.50"). */
function hostAddress(network: string, n: number): string {
  const v = network.split('.').reduce((acc, part) => acc * 256 + Number(part), 0) + n;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}
