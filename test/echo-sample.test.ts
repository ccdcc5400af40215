/**
 * examples/udp-echo.mjs, Electric Imp's UDP echo sample, run on a simulated imp: a host
 * on the segment sends to the interface's address, port 1234, and gets its bytes back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImp, NetState } from '../src/index.js';
import type { Datagram, Imp, ImpInterface } from '../src/index.js';
import { closeAndCheck, simNetwork, until } from './helpers/sim.js';

type StartEcho = (imp: Imp, ifname?: string, log?: (line: string) => void) => ImpInterface;

async function loadStartEcho(): Promise<StartEcho> {
  // A computed specifier: the sample is plain JavaScript without type declarations.
  const url = new URL('../examples/udp-echo.mjs', import.meta.url).href;
  const mod = (await import(url)) as { startEcho?: unknown };
  assert.equal(typeof mod.startEcho, 'function', 'examples/udp-echo.mjs exports startEcho');
  return mod.startEcho as StartEcho;
}

test('the echo sample returns every datagram byte for byte to its sender', async () => {
  const startEcho = await loadStartEcho();
  const { world, net } = await simNetwork();
  const imp = createImp(net);
  const log: string[] = [];
  const iface = startEcho(imp, 'eth0', (line) => log.push(line));
  await until(world, () => iface.getstate() === NetState.CONNECTED, 'the sample connects');
  await world.run(10);
  assert.ok(log.includes('Connected: 192.168.1.100'), `logged its address (${log.join(' | ')})`);

  const host = world.segment('eth0').host('192.168.1.50');
  const echoed: Datagram[] = [];
  host.bind(5555, (d) => echoed.push(d));
  const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const payloads = [Buffer.from('hello imp'), every, Buffer.alloc(1400, 0xa5), Buffer.alloc(0)];
  for (const p of payloads) host.send(5555, '192.168.1.100', 1234, p);
  await until(world, () => echoed.length === payloads.length, 'every datagram comes back');

  for (const [i, d] of echoed.entries()) {
    assert.deepEqual(d.data, payloads[i], `datagram ${i} echoed byte for byte`);
    assert.equal(d.fromAddress, '192.168.1.100');
    assert.equal(d.fromPort, 1234, 'from the port the sample opened');
    assert.equal(d.toAddress, '192.168.1.50');
    assert.equal(d.toPort, 5555, 'to the port it came from');
  }
  assert.ok(log.some((l) => l === 'Received 256 bytes from 192.168.1.50:5555 to 192.168.1.100:1234'), 'the sample logged what it received');

  // A second host, and a broadcast, are answered the same way.
  const other = world.segment('eth0').host('192.168.1.51');
  const toOther: Datagram[] = [];
  other.bind(6000, (d) => toOther.push(d));
  other.send(6000, '192.168.1.255', 1234, 'to everyone');
  await until(world, () => toOther.length === 1, 'the broadcast is echoed');
  assert.equal(toOther[0]!.data.toString(), 'to everyone');
  assert.equal(toOther[0]!.toAddress, '192.168.1.51');

  iface.close();
  await closeAndCheck(world, iface.modern);
});

test('the echo sample survives a cable pull: after reconnecting it echoes again, on the same port', async () => {
  const startEcho = await loadStartEcho();
  const { world, net } = await simNetwork();
  const imp = createImp(net);
  const iface = startEcho(imp, 'eth0', () => {});
  await until(world, () => iface.getstate() === NetState.CONNECTED, 'connected');
  world.setCable('eth0', false);
  await until(world, () => iface.getstate() === NetState.ETHERNET_STOPPED_NO_LINK, 'cable out');
  world.setCable('eth0', true);
  await until(world, () => iface.getstate() === NetState.CONNECTED, 'reconnected');
  const host = world.segment('eth0').host('192.168.1.50');
  const echoed: Buffer[] = [];
  host.bind(5555, (d) => echoed.push(d.data));
  host.send(5555, '192.168.1.100', 1234, 'again');
  await until(world, () => echoed.length === 1, 'echoed after the bounce');
  assert.equal(echoed[0]!.toString(), 'again');
  iface.close();
  await closeAndCheck(world, iface.modern);
});
