// Cellular happy path on the real stack: AT over a pty to the fake modem, ATD, then the real
// pppd on the same tty and kernel PPP to the network side's pppd (netns mdm). Checks that
// packets flow over ppp0, that no secret reaches a command line, environment, file or log,
// that the modern UDP API works over ppp0, and that close releases pppd and the port.
import {
  Cell,
  LOCAL_IP,
  NetState,
  PEER_IP,
  assertInOrder,
  assertReleased,
  check,
  ipv4Of,
  ourPppd,
  ping,
  pppPrivateDirs,
  realTty,
  received,
  routes,
  secretsInFiles,
  secretsInProcesses,
  sleep,
  startModem,
  stdinOf,
  udpListener,
} from './cell-lab.js';

const USERNAME = 'lab-user';
const PASSWORD = 'Lab-Secret-pw-7391';
const SECRETS = [PASSWORD];

export async function run(): Promise<void> {
  startModem('happy');
  const cell = await Cell.open({ username: USERNAME, password: PASSWORD });
  let ifname = 'ppp0';

  await check('cell-connect-states', cell, async () => {
    await cell.waitFor(NetState.CONNECTED, { timeoutMs: 30_000 });
    assertInOrder(cell.values(), [NetState.CELLULAR_PINGING, NetState.CELLULAR_REGISTERING, NetState.CELLULAR_PPP_CONNECTING, NetState.CONNECTED], 'happy path');
    const table = cell.iface.ipTable();
    if (table?.ipv4.address !== LOCAL_IP) throw new Error(`ipTable address ${table?.ipv4.address}, want ${LOCAL_IP}`);
    if (table.ipv4.gateway !== PEER_IP) throw new Error(`ipTable gateway ${table.ipv4.gateway}, want ${PEER_IP}`);
    if (table.ipv4.dnsserver.join(',') !== PEER_IP) throw new Error(`ipTable DNS [${table.ipv4.dnsserver.join(', ')}], want [${PEER_IP}] (usepeerdns)`);
    const detail = cell.changes.find((c) => c.state === NetState.CONNECTED)?.detail ?? '';
    ifname = /on (\S+)$/.exec(detail)?.[1] ?? ifname;
    if (!ipv4Of(ifname).includes(LOCAL_IP)) throw new Error(`${ifname} has [${ipv4Of(ifname).join(', ')}], want ${LOCAL_IP}`);
    if (received('ATD*99***1#') !== 1) throw new Error(`the modem saw ${received('ATD')} dials`);
  });

  await check('cell-connect-packets', cell, async () => {
    if (!ping(ifname, PEER_IP)) throw new Error(`ping -I ${ifname} ${PEER_IP} got no answer`);
    const r = routes();
    if (!new RegExp(`^default dev ${ifname} .*metric \\d+`, 'm').test(r)) throw new Error(`no default route with a metric on ${ifname}: ${r.replace(/\n/g, '; ')}`);
  });

  await check('cell-connect-pppd', cell, async () => {
    const ppp = ourPppd();
    if (!ppp) throw new Error('no pppd with the modem port as its device');
    const args = ppp.cmdline;
    for (const want of ['nodetach', 'noauth', 'local', 'noipdefault', 'ipcp-accept-local', 'ipcp-accept-remote', 'usepeerdns', 'nodefaultroute', 'file']) {
      if (!args.includes(want)) throw new Error(`pppd argv lacks ${want}: ${args.join(' ')}`);
    }
    if (args.includes('defaultroute') || args.includes('password') || args.includes(USERNAME)) throw new Error(`pppd argv: ${args.join(' ')}`);
    // The port was handed over: pppd's stdin is the modem's tty (pppd then treats it as its own device).
    const stdin = stdinOf(ppp.pid);
    if (stdin !== realTty()) throw new Error(`pppd stdin is ${stdin}, want the modem tty ${realTty()}`);
    // pppd has read its options: the credentials file and its directory are gone.
    const dirs = pppPrivateDirs();
    if (dirs.length > 0) throw new Error(`private pppd directory still there while connected: ${dirs.join(', ')}`);
  });

  await check('cell-connect-no-secrets', cell, async () => {
    const inProcs = secretsInProcesses(SECRETS);
    if (inProcs.length > 0) throw new Error(`the password is in ${inProcs.join(', ')}`);
    const inFiles = secretsInFiles(SECRETS);
    if (inFiles.length > 0) throw new Error(`the password is in ${inFiles.join(', ')}`);
    const inLogs = cell.logs.filter((l) => SECRETS.some((s) => l.includes(s)));
    if (inLogs.length > 0) throw new Error(`the password is in ${inLogs.length} nicup log lines`);
  });

  await check('cell-connect-udp', cell, async () => {
    const port = 9999;
    const listener = await udpListener(port);
    try {
      const socket = await cell.iface.openUdp();
      try {
        const payload = `hello over ${ifname}`;
        // Sent again every half second until it arrives: the proof is that one gets through.
        let received: string | undefined;
        void listener.first.then((t) => (received = t));
        for (let i = 0; i < 10 && received === undefined; i++) {
          await socket.sendAsync(PEER_IP, port, `${payload}\n`);
          await sleep(500);
        }
        if (received === undefined) throw new Error('no datagram reached the network side within 5 s');
        if (received !== payload) throw new Error(`network side got ${JSON.stringify(received)}`);
      } finally {
        await socket.close();
      }
    } finally {
      listener.child.kill();
    }
  });

  await check('cell-connect-close', cell, async () => {
    const from = cell.changes.length;
    // When CELLULAR_STOPPED is reported, pppd must be gone already (not only once the
    // platform is disposed).
    let pppdAtStopped: string | undefined;
    cell.iface.on('state', (c) => {
      if (c.state !== NetState.CELLULAR_STOPPED) return;
      const ppp = ourPppd();
      if (ppp) pppdAtStopped = `${ppp.pid}`;
    });
    await cell.iface.close();
    const stopped = cell.changes.slice(from).find((c) => c.state === NetState.CELLULAR_STOPPED);
    if (!stopped) throw new Error(`no CELLULAR_STOPPED after close; saw ${cell.steps(from).join(', ')}`);
    if (pppdAtStopped !== undefined) throw new Error(`pppd ${pppdAtStopped} still ran when CELLULAR_STOPPED was reported`);
    await cell.close();
    await assertReleased();
  });
}
