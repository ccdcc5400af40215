/**
 * Link loss: the server end of a CONNECTED interface's veth goes down; how long until the
 * state callback reports ETHERNET_STOPPED_NO_LINK. The clock starts just before the bench
 * sends its own RTM_NEWLINK (IFF_UP cleared) on a raw rtnetlink socket in the server
 * namespace. The same bench socket in the client namespace timestamps the kernel's own
 * carrier-off event: that is the floor no user-space program can beat, and the difference
 * is nicup's share. After each flap the link comes back and the time to CONNECTED again
 * (INIT-REBOOT of the remembered lease) is recorded too.
 */
import { Network } from '../../src/core/network.js';
import { LinuxPlatform } from '../../src/platform/linux/index.js';
import { NetState } from '../../src/states.js';
import { quietNamespace, type BenchContext } from '../lib/context.js';
import { NsRtnl, waitCarrier } from '../lib/rtnl.js';
import { summarize, type Summary } from '../lib/stats.js';

export interface LinkLossResult {
  flaps: number;
  /** Request sent → nicup callback with ETHERNET_STOPPED_NO_LINK. */
  callback: Summary;
  /** Request sent → the kernel's carrier-off event read by the bench (the floor). */
  kernelEvent: Summary;
  /** Request sent → the kernel's ACK of the request. */
  requestAck: Summary;
  /** Kernel event → callback: nicup's own latency. */
  nicupShare: Summary;
  /** Link back up (request sent) → CONNECTED callback again. */
  reconnect: Summary;
  samples: { callbackMs: number[]; kernelMs: number[]; reconnectMs: number[] };
  failures: string[];
}

const WAIT_MS = 5000;

export async function benchLinkLoss(ctx: BenchContext): Promise<LinkLossResult> {
  const { lab, settings } = ctx;
  const client = await lab.addNamespace('ll-client');
  const server = await lab.addNamespace('ll-server');
  await quietNamespace(lab, client);
  await quietNamespace(lab, server);
  const pair = await lab.addVethPair({ clientNs: client, serverNs: server, serverAddress: '192.168.78.1/24' });
  const dns = await lab.startDnsmasq({ ns: server, iface: pair.serverName, range: ['192.168.78.10', '192.168.78.50'] });
  const serverRtnl = new NsRtnl(server);
  const clientRtnl = new NsRtnl(client);
  const platform = new LinuxPlatform({ netns: client });
  const net = await Network.create(platform, { logger: { debug: () => {}, error: () => {} } });
  let waiter: { state: number; resolve: (atMs: number) => void } | undefined;
  const iface = net.open({ interface: pair.clientName }, (state) => {
    const at = performance.now();
    if (waiter && waiter.state === state) {
      const w = waiter;
      waiter = undefined;
      w.resolve(at);
    }
  });
  const nextState = (state: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no state ${state} within ${WAIT_MS} ms`)), WAIT_MS);
      waiter = {
        state,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
    });
  const callbackMs: number[] = [];
  const kernelMs: number[] = [];
  const ackMs: number[] = [];
  const reconnectMs: number[] = [];
  const failures: string[] = [];
  try {
    await iface.connected({ signal: AbortSignal.timeout(WAIT_MS) });
    for (let i = 0; i < settings.linkFlaps; i++) {
      try {
        const lost = nextState(NetState.ETHERNET_STOPPED_NO_LINK);
        const kernel = waitCarrier(clientRtnl, pair.clientIndex, false, WAIT_MS);
        const t0 = performance.now();
        const ack = serverRtnl.setLinkUp(pair.serverIndex, false).then(() => performance.now());
        const [cbAt, kAt, aAt] = await Promise.all([lost, kernel, ack]);
        callbackMs.push(cbAt - t0);
        kernelMs.push(kAt - t0);
        ackMs.push(aAt - t0);
        const back = nextState(NetState.CONNECTED);
        const t1 = performance.now();
        await serverRtnl.setLinkUp(pair.serverIndex, true);
        reconnectMs.push((await back) - t1);
      } catch (e) {
        failures.push((e as Error).message);
        waiter = undefined;
        await serverRtnl.setLinkUp(pair.serverIndex, true).catch(() => {});
        await iface.connected({ signal: AbortSignal.timeout(WAIT_MS) }).catch(() => {});
      }
    }
  } finally {
    await iface.close();
    await net.close();
    await platform.dispose();
    serverRtnl.close();
    clientRtnl.close();
    await dns.stop();
  }
  return {
    flaps: settings.linkFlaps,
    callback: summarize(callbackMs),
    kernelEvent: summarize(kernelMs),
    requestAck: summarize(ackMs),
    nicupShare: summarize(callbackMs.map((c, i) => c - (kernelMs[i] ?? Number.NaN))),
    reconnect: summarize(reconnectMs),
    samples: { callbackMs, kernelMs, reconnectMs },
    failures,
  };
}
