/**
 * The Linux ARP prober and announcer without a kernel: sockaddr_ll layout, and the probe
 * and announce runners over a fake socket in virtual time (timer ownership, cleanup on
 * every outcome). The real packet
 * socket is exercised, as root, by test/linux-arp.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { VirtualClock } from '../../core/clock.js';
import { ArgumentError, ClosedError, PlatformError } from '../../errors.js';
import { decodeArp, encodeAnnouncement, encodeArp, encodeProbe } from '../../protocols/arp/index.js';
import { AF_PACKET, announceAddress, encodeSockaddrLl, probeAddress, runAnnouncements, runProbe, SOCKADDR_LL_LENGTH, type ArpIo } from './arp.js';

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

describe('runAnnouncements over a socket', () => {
  test('two announcements, the first at once and the second 2 s later; then the socket is closed and no timer is left', async () => {
    const clock = new VirtualClock();
    clock.advance(100);
    const io = new FakeIo(clock);
    let result: unknown;
    void runAnnouncements({ io, clock, mac: OWN, address: ADDRESS }).then((r) => (result = r));
    assert.deepEqual(io.sent.map((s) => s.atMs), [100], 'the first at once');
    clock.advance(1999);
    await flush();
    assert.equal(io.sent.length, 1);
    assert.equal(result, undefined);
    clock.advance(1);
    await flush();
    assert.deepEqual(io.sent.map((s) => s.atMs), [100, 2100]);
    for (const s of io.sent) assert.deepEqual(Buffer.from(s.data), Buffer.from(encodeAnnouncement(OWN, ADDRESS)));
    assert.deepEqual(result, { sent: 2, cancelled: false });
    assert.equal(io.closed, 1);
    assert.equal(clock.pending, 0);
  });

  test('any signal aborting between the two: resolves cancelled after one, nothing more is sent, socket closed', async () => {
    const clock = new VirtualClock();
    const io = new FakeIo(clock);
    const platformGone = new AbortController();
    const addressGone = new AbortController();
    const done = runAnnouncements({ io, clock, mac: OWN, address: ADDRESS, signals: [platformGone.signal, addressGone.signal] });
    clock.advance(500);
    addressGone.abort();
    assert.deepEqual(await done, { sent: 1, cancelled: true });
    assert.equal(io.closed, 1);
    assert.equal(clock.pending, 0);
    clock.advance(5000);
    assert.equal(io.sent.length, 1);
    // Aborting the other one later is harmless.
    platformGone.abort();
    assert.equal(io.closed, 1);
  });

  test('a signal aborted before the start: nothing is sent', async () => {
    const clock = new VirtualClock();
    const io = new FakeIo(clock);
    const ac = new AbortController();
    ac.abort();
    assert.deepEqual(await runAnnouncements({ io, clock, mac: OWN, address: ADDRESS, signals: [ac.signal] }), { sent: 0, cancelled: true });
    assert.equal(io.sent.length, 0);
    assert.equal(io.closed, 1);
    assert.equal(clock.pending, 0);
    // On Linux it does not even open a socket.
    assert.deepEqual(await announceAddress({ device: 'eth0', ifindex: 999_999, mac: OWN, address: ADDRESS, clock, signals: [ac.signal] }), { sent: 0, cancelled: true });
  });

  test('a send failure (the link gone) rejects with it, closes the socket, leaves no timer', async () => {
    const clock = new VirtualClock();
    const io = new FakeIo(clock);
    const done = runAnnouncements({ io, clock, mac: OWN, address: ADDRESS });
    io.failSend = new PlatformError('announce 192.168.77.10 on eth0: send ARP packet on eth0: ENETDOWN');
    clock.advance(2000);
    await assert.rejects(done, /ENETDOWN/);
    assert.equal(io.sent.length, 1);
    assert.equal(io.closed, 1);
    assert.equal(clock.pending, 0);
  });

  test('count and interval overrides; a bad one is an ArgumentError, the socket closed', async () => {
    const clock = new VirtualClock();
    const io = new FakeIo(clock);
    const done = runAnnouncements({ io, clock, mac: OWN, address: ADDRESS, count: 3, intervalMs: 10 });
    clock.advance(20);
    assert.deepEqual(await done, { sent: 3, cancelled: false });
    assert.deepEqual(io.sent.map((s) => s.atMs), [0, 10, 20]);
    const io2 = new FakeIo(clock);
    await assert.rejects(runAnnouncements({ io: io2, clock, mac: OWN, address: ADDRESS, count: 0 }), (e: unknown) => e instanceof ArgumentError && e.field === 'count');
    assert.equal(io2.closed, 1);
  });

  test('a link without an Ethernet address is refused without opening a socket', async () => {
    await assert.rejects(
      announceAddress({ device: 'ppp0', ifindex: 9, mac: '', address: ADDRESS, clock: new VirtualClock() }),
      /announce 192\.168\.77\.10 on ppp0: the interface has no Ethernet address/,
    );
  });
});
