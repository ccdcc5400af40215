/**
 * Small programs the Linux tests run as child processes, to check what only a whole
 * process shows: that the platform lets a process exit, and that the lab cleans up on
 * SIGINT. Usage: node --import tsx test/lab/child-fixtures.ts MODE [NETNS]
 * Each prints one JSON line when ready.
 */
import { createLab } from './netns.js';
import { LinuxPlatform, type LinuxUdpTransport } from '../../src/platform/linux/index.js';

const [mode, netns] = process.argv.slice(2);

async function main(): Promise<void> {
  switch (mode) {
    case 'platform-idle': {
      // Watchers, a DHCP socket and an unref'd UDP socket: nothing here keeps the process alive.
      const p = new LinuxPlatform({ netns: netns! });
      p.watchLink('eth0', () => undefined);
      await p.openDhcpSocket('eth0');
      const udp = (await p.openUdp('eth0', {})) as LinuxUdpTransport;
      udp.unref();
      await p.listLinks();
      console.log(JSON.stringify({ ready: true }));
      return;
    }
    case 'udp-open': {
      // An open UDP socket keeps the process alive, as a dgram socket does.
      const p = new LinuxPlatform({ netns: netns! });
      await p.openUdp('eth0', {});
      console.log(JSON.stringify({ ready: true }));
      return;
    }
    case 'lab-sigint': {
      const lab = await createLab();
      const a = await lab.addNamespace('a');
      const b = await lab.addNamespace('b');
      const pair = await lab.addVethPair({ clientNs: a, serverNs: b, serverAddress: '192.168.77.1/24' });
      const echo = await lab.startUdpEcho({ ns: b, port: 7777 });
      console.log(JSON.stringify({ namespaces: [a, b], pids: [echo.pid], serverName: pair.serverName }));
      setInterval(() => undefined, 1000);
      return;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(2);
});
