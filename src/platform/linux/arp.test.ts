/**
 * The Linux ARP prober without a kernel: sockaddr_ll layout, and the probe runner over a
 * fake socket in virtual time (timer ownership, cleanup on every outcome). The real packet
 * socket is exercised, as root, by test/linux-arp.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { VirtualClock } from '../../core/clock.js';
import { ArgumentError, ClosedError, PlatformError } from '../../errors.js';
import { decodeArp, encodeArp, encodeProbe } from '../../protocols/arp/index.js';
import { AF_PACKET, encodeSockaddrLl, probeAddress, runProbe, SOCKADDR_LL_LENGTH, type ArpIo } from './arp.js';

const OWN = '02:00:00:00:00:0a';
const OTHER = '52:54:00:12:34:56';
const ADDRESS = '192.168.77.10';

class FakeIo implements ArpIo {
  readonly sent: { atMs: number; data: Uint8Array }[] = [];
  private listener: ((d: Uint8Array) => void) | undefined;
  closed = 0;
  failSend: Error | undefined;
  constructor(private readonly clock: VirtualClock) {}
  send(data: Uint8Array): void {
    if (this.failSend) throw this.failSend;
    this.sent.push({ atMs: this.clock.now(), data });
  }
  onPacket(listener: (d: Uint8Array) => void): void {
    this.listener = listener;
  }
  close(): void {
    this.closed++;
  }
  deliver(data: Uint8Array): void {
    this.listener?.(data);
  }
}

const flush = () => new Promise((r) => setImmediate(r));

describe('sockaddr_ll', () => {
  test('family and ifindex in host order, protocol in network order, halen and the address', () => {
    const b = encodeSockaddrLl(7, 0x0806, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
    assert.equal(b.length, SOCKADDR_LL_LENGTH);
    const le = endianness() === 'LE';
    assert.equal(le ? b.readUInt16LE(0) : b.readUInt16BE(0), AF_PACKET);
    assert.deepEqual([...b.subarray(2, 4)], [0x08, 0x06]);
    assert.equal(le ? b.readInt32LE(4) : b.readInt32BE(4), 7);
    assert.equal(b[11], 6, 'sll_halen');
    assert.deepEqual([...b.subarray(12, 20)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]);
    // For bind: no address, halen 0.
    const bind = encodeSockaddrLl(7, 0x0806);
    assert.equal(bind[11], 0);
    assert.deepEqual([...bind.subarray(12)], [0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('runProbe over a socket', () => {
  test('nobody answers: 3 probes within the first half, "free" at timeoutMs, socket closed, no timer left', async () => {
    const clock = new VirtualClock();
    const io = new FakeIo(clock);
    let result: unknown;
    void runProbe({ io, clock, mac: OWN, address: ADDRESS, timeoutMs: 400, random: () => 0 }).then((r) => (result = r));
    assert.equal(io.sent.length, 1, 'first probe at once');
    clock.advance(399);
    await flush();
    assert.equal(result, undefined);
    assert.deepEqual(io.sent.map((s) => s.atMs), [0, 50, 100]);
    assert.deepEqual(Buffer.from(io.sent[0]!.data), Buffer.from(encodeProbe(OWN, ADDRESS)));
    clock.advance(1);
    await flush();
    assert.deepEqual(result, { inUse: false });
    assert.equal(io.closed, 1);
    assert.equal(clock.pending, 0);
  });

  test('the holder answers: in use by its MAC at once, socket closed, timer cleared', async () => {
    const clock = new VirtualClock();
    const io = new FakeIo(clock);
    const done = runProbe({ io, clock, mac: OWN, address: ADDRESS, timeoutMs: 400 });
    clock.advance(1);
    const probe = decodeArp(io.sent[0]!.data);
    assert.ok(probe.ok);
    io.deliver(encodeArp({ operation: 'reply', senderMac: OTHER, senderIp: ADDRESS, targetMac: OWN, targetIp: probe.packet.senderIp }));
    assert.deepEqual(await done, { inUse: true, by: OTHER });
    assert.equal(io.closed, 1);
    assert.equal(clock.pending, 0);
    // Late packets after the verdict go nowhere.
    io.deliver(encodeProbe(OTHER, ADDRESS));
    assert.equal(io.closed, 1);
  });

  test('a send failure rejects with it and closes the socket', async () => {
    const clock = new VirtualClock();
    const io = new FakeIo(clock);
    io.failSend = new PlatformError('send ARP probe on eth0: ENETDOWN');
    await assert.rejects(runProbe({ io, clock, mac: OWN, address: ADDRESS, timeoutMs: 400 }), /ENETDOWN/);
    assert.equal(io.closed, 1);
    assert.equal(clock.pending, 0);
  });

  test('abort (platform disposed) rejects with ClosedError and closes the socket', async () => {
    const clock = new VirtualClock();
    const io = new FakeIo(clock);
    const ac = new AbortController();
    const done = runProbe({ io, clock, mac: OWN, address: ADDRESS, timeoutMs: 400, signal: ac.signal });
    ac.abort();
    await assert.rejects(done, (e: unknown) => e instanceof ClosedError);
    assert.equal(io.closed, 1);
    assert.equal(clock.pending, 0);
    const pre = new AbortController();
    pre.abort();
    const io2 = new FakeIo(clock);
    await assert.rejects(runProbe({ io: io2, clock, mac: OWN, address: ADDRESS, timeoutMs: 400, signal: pre.signal }), ClosedError);
    assert.equal(io2.sent.length, 0);
    assert.equal(io2.closed, 1);
  });

  test('a bad address or timeout is an ArgumentError before anything is sent; the socket is closed', async () => {
    const clock = new VirtualClock();
    const io = new FakeIo(clock);
    await assert.rejects(runProbe({ io, clock, mac: OWN, address: '300.1.1.1', timeoutMs: 400 }), (e: unknown) => e instanceof ArgumentError && e.field === 'address');
    await assert.rejects(runProbe({ io, clock, mac: OWN, address: ADDRESS, timeoutMs: -1 }), (e: unknown) => e instanceof ArgumentError && e.field === 'timeoutMs');
    assert.equal(io.sent.length, 0);
    assert.equal(io.closed, 2);
  });

  test('a link without an Ethernet address (ppp) is refused without opening a socket', async () => {
    await assert.rejects(
      probeAddress({ device: 'ppp0', ifindex: 9, mac: '', address: ADDRESS, timeoutMs: 400, clock: new VirtualClock() }),
      /probe 192\.168\.77\.10 on ppp0: the interface has no Ethernet address/,
    );
  });
});
