/**
 * Electric Imp's UDP echo sample (examples/udp-echo.mjs) end to end on a real kernel: the
 * sample runs on createImp(network) over the LinuxPlatform in the client namespace; a
 * node dgram peer in the server namespace (not nicup) sends to port 1234 and must get its
 * datagram back byte for byte. Needs root, iproute2 and dnsmasq-base.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetState } from '../src/states.js';
import { createImp, type Imp, type ImpInterface } from '../src/imp-core.js';
import { ethernetSetup, rootSnapshot, udpExchange, udpPortsIn, waitUntil, withWorld, type RootSnapshot } from './lab/extra.js';

type StartEcho = (imp: Imp, ifname?: string, log?: (line: string) => void) => ImpInterface;

/** The sample is plain JavaScript without types: import it by URL and name its one export's type. */
async function loadSample(): Promise<StartEcho> {
  const url = new URL('../examples/udp-echo.mjs', import.meta.url).href;
  const sample = (await import(url)) as { startEcho?: unknown };
  assert.equal(typeof sample.startEcho, 'function', 'examples/udp-echo.mjs exports startEcho');
  return sample.startEcho as StartEcho;
}

let rootBefore: RootSnapshot;
before(async () => {
  rootBefore = await rootSnapshot();
});

describe('the impOS UDP echo sample on Linux', () => {
  test('a peer in the server namespace gets its datagram back byte for byte (unicast and subnet broadcast)', { timeout: 60_000 }, (t) =>
    withWorld(async (w) => {
      const startEcho = await loadSample();
      const { client, server, pair } = await ethernetSetup(w.lab);
      await w.lab.startDnsmasq({ ns: server, iface: pair.serverName, range: ['192.168.77.10', '192.168.77.50'] });
      const { network } = await w.network(client);
      const imp = createImp(network);
      const lines: string[] = [];
      const startedAt = performance.now();
      const iface = startEcho(imp, 'eth0', (line) => lines.push(line));
      try {
        await waitUntil('the sample to be CONNECTED', () => iface.getstate() === NetState.CONNECTED, 10_000, 2);
        await waitUntil('the sample to open UDP port 1234', async () => (await udpPortsIn(w.lab, client)).includes(1234), 5000);
        t.diagnostic(`sample start → CONNECTED with port 1234 open: ${(performance.now() - startedAt).toFixed(1)} ms`);
        const table = iface.getiptable();
        const address = 'ipv4' in table ? table.ipv4.address : undefined;
        assert.ok(address, 'getiptable has the address');
        assert.ok(lines.includes(`Connected: ${address}`), lines.join('\n'));

        const payload = Buffer.concat([Buffer.from('impOS echo \u00e9\u2603 '), Buffer.from(Array.from({ length: 256 }, (_, i) => i))]);
        const sentAt = performance.now();
        const reply = await udpExchange(w.lab, server, { to: address, port: 1234, data: payload });
        t.diagnostic(`round trip from the peer process (node start-up included): ${(performance.now() - sentAt).toFixed(1)} ms`);
        assert.ok(reply.data.equals(payload), `byte for byte: sent ${payload.toString('hex')}, got ${reply.data.toString('hex')}`);
        assert.equal(reply.fromAddress, address);
        assert.equal(reply.fromPort, 1234);
        assert.ok(lines.includes(`Received ${payload.length} bytes from 192.168.77.1:${reply.localPort} to ${address}:1234`), lines.join('\n'));

        // The sample also answers a datagram sent to the whole subnet.
        const hello = Buffer.from('anyone on port 1234?');
        const answer = await udpExchange(w.lab, server, { to: '192.168.77.255', port: 1234, data: hello, broadcast: true });
        assert.ok(answer.data.equals(hello));
        assert.equal(answer.fromAddress, address);
        assert.ok(lines.includes(`Received ${hello.length} bytes from 192.168.77.1:${answer.localPort} to 192.168.77.255:1234`), lines.join('\n'));
        assert.ok(!lines.some((l) => l.startsWith('send error')), lines.join('\n'));
      } finally {
        iface.close();
      }
      await waitUntil('port 1234 to be freed', async () => !(await udpPortsIn(w.lab, client)).includes(1234), 5000);
      await waitUntil('the interface to stop', () => iface.getstate() === NetState.ETHERNET_STOPPED, 5000);
    }),
  );

  test('nothing touched the root namespace (links, addresses, routes, /etc/resolv.conf)', async () => {
    assert.deepEqual(await rootSnapshot(), rootBefore);
  });
});
