import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, step } from './client-machine.js';
import type { ClientAction, ClientConfig, ClientInput, ClientState, Lease } from './client-machine.js';
import { BOOTREPLY, BROADCAST_FLAG, INFINITE_LEASE_S, MessageType, decodeMessage, encodeMessage } from './message-codec.js';
import type { DhcpMessage, DhcpOptions } from './message-codec.js';
import { isNicupError } from '../../errors.js';

const MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x01);
const SERVER = '10.77.0.1';
const OFFERED = '10.77.0.63';

interface Sent {
  message: DhcpMessage;
  to: string;
}

/** Drives one client with injected time; records everything it does. */
class Harness {
  state: ClientState;
  nowMs = 0;
  actions: ClientAction[] = [];
  private nextXid = 0x1000;

  constructor(config: Partial<ClientConfig> = {}) {
    this.state = createClient({ mac: MAC, random: () => 0.5, xid: () => this.nextXid++, ...config });
  }

  feed(input: ClientInput, atMs = this.nowMs): ClientAction[] {
    assert.ok(atMs >= this.nowMs, 'time runs forward');
    this.nowMs = atMs;
    const before = JSON.stringify(this.state, bytesAsHex);
    const r = step(this.state, input, atMs);
    assert.equal(JSON.stringify(this.state, bytesAsHex), before, 'step must not mutate its input state');
    this.state = r.state;
    this.actions = r.actions;
    return r.actions;
  }

  start(atMs?: number): ClientAction[] {
    return this.feed({ type: 'start' }, atMs);
  }

  /** Advances to the armed timer and fires it. */
  fireTimer(): ClientAction[] {
    const at = this.state.timerAtMs;
    assert.ok(at !== undefined, `no timer armed in ${this.state.name}`);
    return this.feed({ type: 'timer' }, Math.max(at, this.nowMs));
  }

  packet(data: Uint8Array, atMs?: number): ClientAction[] {
    return this.feed({ type: 'packet', data, fromAddress: SERVER }, atMs);
  }

  /** The messages sent by the last step. */
  sent(): Sent[] {
    return this.actions.flatMap((a) => {
      if (a.type !== 'send') return [];
      const r = decodeMessage(a.data);
      if (!r.ok) assert.fail(`client sent an undecodable message: ${r.error}`);
      assert.equal(a.port, 67);
      assert.equal(a.message, Object.entries(MessageType).find(([, v]) => v === r.message.options.messageType)?.[0]);
      return [{ message: r.message, to: a.to }];
    });
  }

  /** The one message the last step sent. */
  sentOne(): Sent {
    const sent = this.sent();
    assert.equal(sent.length, 1, `expected one message, got ${sent.length}`);
    return sent[0] as Sent;
  }

  logs(): string[] {
    return this.actions.flatMap((a) => (a.type === 'log' ? [a.message] : []));
  }

  of<T extends ClientAction['type']>(type: T): Extract<ClientAction, { type: T }>[] {
    return this.actions.filter((a): a is Extract<ClientAction, { type: T }> => a.type === type);
  }
}

function bytesAsHex(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (typeof value === 'function') return 'fn';
  return value;
}

/** A server's reply to `request`, built with our encoder (the codec tests check it against dnsmasq's bytes). */
function reply(request: DhcpMessage, type: number, options: Partial<DhcpOptions> = {}, header: Partial<DhcpMessage> = {}): Uint8Array {
  const leaseOptions: Partial<DhcpOptions> =
    type === MessageType.NAK
      ? {}
      : { leaseTimeS: 3600, subnetMask: '255.255.255.0', routers: [SERVER], dns: [SERVER], domainName: 'lab.test', broadcast: '10.77.0.255' };
  return encodeMessage({
    op: BOOTREPLY,
    htype: 1,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: request.flags,
    ciaddr: request.ciaddr,
    yiaddr: type === MessageType.NAK ? '0.0.0.0' : (request.options.requestedIp ?? (request.ciaddr !== '0.0.0.0' ? request.ciaddr : OFFERED)),
    siaddr: SERVER,
    giaddr: '0.0.0.0',
    chaddr: request.chaddr,
    sname: '',
    file: '',
    ...header,
    options: { messageType: type, serverId: SERVER, ...leaseOptions, unknown: [], ...options },
  });
}

/** Start and run DISCOVER → OFFER → REQUEST → ACK; returns the lease. */
function bind(h: Harness, ackOptions: Partial<DhcpOptions> = {}): Lease {
  h.start();
  const discover = h.sentOne().message;
  h.packet(reply(discover, MessageType.OFFER), h.nowMs + 100);
  const request = h.sentOne().message;
  h.packet(reply(request, MessageType.ACK, ackOptions), h.nowMs + 50);
  const bound = h.of('bound');
  assert.equal(bound.length, 1);
  assert.equal(h.state.name, 'BOUND');
  return (bound[0] as { lease: Lease }).lease;
}

describe('acquiring a lease', () => {
  test('start sends a broadcast DISCOVER and arms the retransmission timer', () => {
    const h = new Harness({ hostname: 'box' });
    h.start(1_000);
    assert.deepEqual(h.logs(), ['IDLE -> INIT', 'INIT -> SELECTING']);
    const { message, to } = h.sentOne();
    assert.equal(to, 'broadcast');
    assert.equal(message.options.messageType, MessageType.DISCOVER);
    assert.equal(message.flags, BROADCAST_FLAG);
    assert.equal(message.xid, 0x1000);
    assert.deepEqual(message.chaddr, MAC);
    assert.deepEqual(message.options.clientId, Uint8Array.of(1, ...MAC));
    assert.equal(message.options.hostname, 'box');
    assert.equal(message.options.rapidCommit, undefined);
    assert.deepEqual(h.of('setTimer'), [{ type: 'setTimer', atMs: 5_000 }]);
    assert.equal(h.state.stats.sent, 1);
  });

  test('OFFER → REQUEST (selecting form, same xid and secs) → ACK → BOUND with the lease', () => {
    const h = new Harness();
    h.start(0);
    h.fireTimer(); // a retransmission at 4 s, so that secs is not 0
    h.fireTimer(); // and at 12 s: secs 12
    const discover = h.sentOne().message;
    assert.equal(discover.secs, 12);
    assert.equal(discover.xid, 0x1000, 'retransmissions keep the xid');

    h.packet(reply(discover, MessageType.OFFER), 12_500);
    assert.deepEqual(h.logs(), ['SELECTING -> REQUESTING']);
    const { message: request, to } = h.sentOne();
    assert.equal(to, 'broadcast');
    assert.equal(request.options.messageType, MessageType.REQUEST);
    assert.equal(request.xid, discover.xid);
    assert.equal(request.secs, 12, 'RFC 2131 §3.1: same secs as the DISCOVER');
    assert.equal(request.options.serverId, SERVER);
    assert.equal(request.options.requestedIp, OFFERED);
    assert.equal(request.ciaddr, '0.0.0.0');
    assert.equal(request.flags, BROADCAST_FLAG);
    assert.deepEqual(request.options.parameterRequestList, discover.options.parameterRequestList);

    h.packet(reply(request, MessageType.ACK, { t1S: 1000, t2S: 2000, mtu: 1400 }), 12_600);
    assert.deepEqual(h.logs(), ['REQUESTING -> BOUND']);
    const [bound] = h.of('bound');
    assert.deepEqual(bound?.lease, {
      address: OFFERED,
      prefixLength: 24,
      netmask: '255.255.255.0',
      routers: [SERVER],
      dns: [SERVER],
      broadcast: '10.77.0.255',
      serverId: SERVER,
      leaseTimeS: 3600,
      t1S: 1000,
      t2S: 2000,
      mtu: 1400,
      domain: 'lab.test',
      acquiredAtMs: 12_500,
    });
    assert.deepEqual(h.of('setTimer'), [{ type: 'setTimer', atMs: 12_500 + 1_000_000 }]);
    assert.deepEqual(h.state.deadlines, { t1AtMs: 1_012_500, t2AtMs: 2_012_500, expiryAtMs: 3_612_500 });
  });

  test('defaults when the ACK lacks T1, T2, netmask and broadcast', () => {
    const h = new Harness();
    h.start(0);
    h.packet(reply(h.sentOne().message, MessageType.OFFER, {}, { yiaddr: '172.20.1.9' }));
    const request = h.sentOne().message;
    const ack = reply(request, MessageType.ACK, { subnetMask: undefined, broadcast: undefined, routers: undefined, dns: undefined, domainName: undefined });
    h.packet(ack);
    const lease = h.of('bound')[0]?.lease;
    assert.equal(lease?.address, '172.20.1.9');
    assert.equal(lease?.prefixLength, 16, 'classful fallback');
    assert.equal(lease?.broadcast, '172.20.255.255');
    assert.deepEqual([lease?.t1S, lease?.t2S], [1800, 3150]);
    assert.deepEqual([lease?.routers, lease?.dns, lease?.domain, lease?.mtu], [[], [], undefined, undefined]);
  });

  test('an infinite lease arms no timer', () => {
    const h = new Harness();
    const lease = bind(h, { leaseTimeS: INFINITE_LEASE_S });
    assert.equal(lease.leaseTimeS, INFINITE_LEASE_S);
    assert.deepEqual(h.of('clearTimer'), [{ type: 'clearTimer' }]);
    assert.equal(h.state.timerAtMs, undefined);
  });

  test('DISCOVER retransmissions back off 4, 8, 16, 32, 64, 64 s with random 0.5', () => {
    const h = new Harness({ giveUpAfterMs: 0 });
    h.start(0);
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      h.fireTimer();
      times.push(h.nowMs);
      assert.equal(h.sentOne().message.options.messageType, MessageType.DISCOVER);
    }
    assert.deepEqual(times, [4_000, 12_000, 28_000, 60_000, 124_000, 188_000]);
  });

  test('retransmission jitter comes from the injected random source', () => {
    const draws = [0, 0.999999, 0.25];
    let i = 0;
    const h = new Harness({ random: () => draws[i++ % draws.length] ?? 0, initialRetransmitMs: 1_000, maxRetransmitMs: 4_000, giveUpAfterMs: 0 });
    h.start(0);
    const times: number[] = [];
    for (let n = 0; n < 4; n++) {
      h.fireTimer();
      times.push(h.nowMs);
    }
    // 1 s -250 ms; 2 s +500 ms; 4 s -500 ms; 4 s (cap) -1 s.
    assert.deepEqual(times, [750, 750 + 2_500, 3_250 + 3_500, 6_750 + 3_000]);
  });

  test('gave-up once after giveUpAfterMs without a lease; retransmission goes on', () => {
    const h = new Harness({ giveUpAfterMs: 10_000 });
    h.start(0);
    const gaveUp: ClientAction[] = [];
    while (h.nowMs < 60_000) {
      h.fireTimer();
      gaveUp.push(...h.of('gave-up'));
    }
    assert.deepEqual(gaveUp, [{ type: 'gave-up', elapsedMs: 10_000 }]);
    assert.equal(h.state.name, 'SELECTING');
    assert.equal(h.state.deadlines.giveUpAtMs, undefined);
    assert.ok(h.state.timerAtMs !== undefined);
  });

  test('REQUESTING without an answer returns to INIT after requestAttempts REQUESTs', () => {
    const h = new Harness({ requestAttempts: 3 });
    h.start(0);
    h.packet(reply(h.sentOne().message, MessageType.OFFER));
    const requests = [h.sentOne().message];
    h.fireTimer();
    requests.push(h.sentOne().message);
    h.fireTimer();
    requests.push(h.sentOne().message);
    assert.ok(requests.every((r) => r.options.messageType === MessageType.REQUEST && r.xid === 0x1000));
    h.fireTimer();
    assert.deepEqual(h.logs(), ['REQUESTING -> INIT', 'INIT -> SELECTING']);
    const discover = h.sentOne().message;
    assert.equal(discover.options.messageType, MessageType.DISCOVER);
    assert.equal(discover.xid, 0x1001, 'a new exchange gets a new xid');
  });

  test('the first valid OFFER wins; a second one is ignored', () => {
    const h = new Harness();
    h.start(0);
    const discover = h.sentOne().message;
    h.packet(reply(discover, MessageType.OFFER));
    h.packet(reply(discover, MessageType.OFFER, { serverId: '10.77.0.2' }, { yiaddr: '10.77.0.99' }));
    assert.deepEqual(h.actions, []);
    assert.equal(h.state.offer?.serverId, SERVER);
    assert.equal(h.state.stats.droppedBy['unexpected-message'], 1);
  });

  test('in REQUESTING an ACK from another server is dropped', () => {
    const h = new Harness();
    h.start(0);
    h.packet(reply(h.sentOne().message, MessageType.OFFER));
    const request = h.sentOne().message;
    h.packet(reply(request, MessageType.ACK, { serverId: '10.77.0.2' }));
    assert.equal(h.state.name, 'REQUESTING');
    assert.equal(h.state.stats.droppedBy['server-id'], 1);
  });
});

describe('bad replies are counted and dropped', () => {
  function selecting(): { h: Harness; discover: DhcpMessage } {
    const h = new Harness();
    h.start(0);
    return { h, discover: h.sentOne().message };
  }

  test('OFFER with the wrong xid', () => {
    const { h, discover } = selecting();
    h.packet(reply({ ...discover, xid: discover.xid + 1 }, MessageType.OFFER));
    assert.deepEqual(h.actions, []);
    assert.equal(h.state.name, 'SELECTING');
    assert.deepEqual(h.state.stats.droppedBy, { xid: 1 });
    assert.deepEqual([h.state.stats.received, h.state.stats.dropped], [1, 1]);
  });

  test('each reason is tallied', () => {
    const { h, discover } = selecting();
    h.packet(reply({ ...discover, chaddr: Uint8Array.of(2, 0, 0, 0, 0, 2) }, MessageType.OFFER));
    h.packet(reply(discover, MessageType.OFFER, {}, { op: 1 }));
    h.packet(Uint8Array.of(1, 2, 3));
    h.packet(reply(discover, MessageType.OFFER, { messageType: undefined }));
    h.packet(reply(discover, MessageType.OFFER, { serverId: undefined }));
    h.packet(reply(discover, MessageType.OFFER, {}, { yiaddr: '0.0.0.0' }));
    h.packet(reply(discover, MessageType.OFFER, {}, { yiaddr: '224.0.0.1' }));
    h.packet(reply(discover, MessageType.NAK));
    h.packet(reply(discover, MessageType.ACK));
    assert.deepEqual(h.state.stats.droppedBy, {
      'hardware-address': 1,
      'not-a-reply': 1,
      decode: 1,
      'no-message-type': 1,
      'no-server-id': 1,
      'bad-address': 2,
      'unexpected-message': 1,
      'no-rapid-commit': 1,
    });
    assert.equal(h.state.stats.dropped, 9);
    assert.equal(h.state.name, 'SELECTING');
  });

  test('ACK without lease time, with a zero lease, or with a non-contiguous netmask', () => {
    const h = new Harness();
    h.start(0);
    h.packet(reply(h.sentOne().message, MessageType.OFFER));
    const request = h.sentOne().message;
    h.packet(reply(request, MessageType.ACK, { leaseTimeS: undefined }));
    h.packet(reply(request, MessageType.ACK, { leaseTimeS: 0 }));
    h.packet(reply(request, MessageType.ACK, { subnetMask: '255.0.255.0' }));
    assert.deepEqual(h.state.stats.droppedBy, { 'no-lease-time': 2, 'bad-netmask': 1 });
    assert.equal(h.state.name, 'REQUESTING');
  });

  test('packets in IDLE and BOUND are not expected', () => {
    const h = new Harness();
    h.packet(Uint8Array.of(0));
    bind(h);
    h.packet(Uint8Array.of(0));
    assert.equal(h.state.stats.droppedBy['not-expecting'], 2);
  });
});

describe('the life of a lease', () => {
  test('BOUND → RENEWING → ACK → BOUND → RENEWING → REBINDING → expiry → INIT', () => {
    const h = new Harness();
    const lease = bind(h); // REQUEST sent at 100, ACK at 150; 3600 s lease, T1 1800 s, T2 3150 s
    assert.equal(lease.acquiredAtMs, 100);
    assert.equal(h.state.timerAtMs, 1_800_100);

    // T1: unicast REQUEST to the server, ciaddr set, no server id or requested IP (§4.3.2).
    h.fireTimer();
    assert.equal(h.nowMs, 1_800_100);
    assert.deepEqual(h.logs(), ['BOUND -> RENEWING']);
    let sent = h.sentOne();
    assert.equal(sent.to, SERVER);
    assert.equal(sent.message.ciaddr, OFFERED);
    assert.equal(sent.message.flags, 0);
    assert.equal(sent.message.options.serverId, undefined);
    assert.equal(sent.message.options.requestedIp, undefined);
    const renewXid = sent.message.xid;
    assert.notEqual(renewXid, 0x1000);
    // §4.4.5: retransmit after half the time to T2 (3150100 - 1800100) / 2.
    assert.equal(h.state.timerAtMs, 1_800_100 + 675_000);
    h.fireTimer();
    sent = h.sentOne();
    assert.equal(sent.to, SERVER);
    assert.equal(sent.message.xid, renewXid);
    assert.equal(h.state.timerAtMs, 2_475_100 + 337_500);

    // The server answers: renewed, lease counted from the first renewing REQUEST.
    h.packet(reply(sent.message, MessageType.ACK), 2_500_000);
    assert.deepEqual(h.logs(), ['RENEWING -> BOUND']);
    const [renewed] = h.of('renewed');
    assert.equal(renewed?.lease.acquiredAtMs, 1_800_100);
    assert.equal(h.of('bound').length, 0);
    assert.equal(h.state.timerAtMs, 3_600_100);

    // Next T1: this time the server stays silent until T2.
    h.fireTimer();
    assert.deepEqual(h.logs(), ['BOUND -> RENEWING']);
    const renewTimes = [h.nowMs];
    while (h.state.name === 'RENEWING') {
      h.fireTimer();
      if (h.state.name === 'RENEWING') {
        assert.equal(h.sentOne().to, SERVER);
        renewTimes.push(h.nowMs);
      }
    }
    // Half the remaining time, never less than 60 s, then T2 itself (4950100).
    assert.deepEqual(renewTimes, [3_600_100, 4_275_100, 4_612_600, 4_781_350, 4_865_725, 4_925_725]);
    assert.equal(h.nowMs, 4_950_100);
    assert.deepEqual(h.logs(), ['RENEWING -> REBINDING']);
    sent = h.sentOne();
    assert.equal(sent.to, 'broadcast');
    assert.equal(sent.message.ciaddr, OFFERED);
    assert.equal(sent.message.options.serverId, undefined);

    // Rebinding: broadcasts until the lease (renewed from 1800100) expires at 5400100.
    const rebindTimes = [h.nowMs];
    while (h.state.name === 'REBINDING') {
      h.fireTimer();
      if (h.state.name === 'REBINDING') {
        assert.equal(h.sentOne().to, 'broadcast');
        rebindTimes.push(h.nowMs);
      }
    }
    assert.deepEqual(rebindTimes, [4_950_100, 5_175_100, 5_287_600, 5_347_600]);
    assert.equal(h.nowMs, 5_400_100);
    assert.deepEqual(h.logs(), ['REBINDING -> INIT', 'INIT -> SELECTING']);
    const [expired] = h.of('expired');
    assert.equal(expired?.lease.address, OFFERED);
    const discover = h.sentOne().message;
    assert.equal(discover.options.messageType, MessageType.DISCOVER);
    assert.equal(discover.options.requestedIp, OFFERED, 'asks for the old address again');
    assert.equal(discover.secs, 0);
    assert.equal(h.state.lease, undefined);
  });

  test('REBINDING: an ACK from another server extends the lease with that server id', () => {
    const h = new Harness({ minRenewRetryMs: 1_000 });
    bind(h, { leaseTimeS: 100 });
    h.fireTimer(); // T1 at 50 s
    h.fireTimer(); // resend
    while (h.state.name === 'RENEWING') h.fireTimer();
    assert.equal(h.state.name, 'REBINDING');
    const request = h.sentOne().message;
    h.packet(reply(request, MessageType.ACK, { serverId: '10.77.0.2', leaseTimeS: 100 }));
    assert.deepEqual(h.logs(), ['REBINDING -> BOUND']);
    assert.equal(h.of('renewed')[0]?.lease.serverId, '10.77.0.2');
  });

  test('a renewal ACK with a new address is reported as bound, not renewed', () => {
    const h = new Harness();
    bind(h);
    h.fireTimer();
    h.packet(reply(h.sentOne().message, MessageType.ACK, {}, { yiaddr: '10.77.0.70' }));
    assert.equal(h.of('renewed').length, 0);
    assert.equal(h.of('bound')[0]?.lease.address, '10.77.0.70');
  });

  test('a late timer after expiry expires the lease at once', () => {
    const h = new Harness();
    bind(h);
    h.feed({ type: 'timer' }, 10_000_000);
    assert.equal(h.of('expired').length, 1);
    assert.equal(h.state.name, 'SELECTING');
    assert.equal(h.sentOne().message.options.messageType, MessageType.DISCOVER);
  });

  test('a late timer between T2 and expiry goes straight to REBINDING', () => {
    const h = new Harness();
    bind(h);
    h.feed({ type: 'timer' }, 3_200_000);
    assert.deepEqual(h.logs(), ['BOUND -> REBINDING']);
    assert.equal(h.sentOne().to, 'broadcast');
  });

  test('a timer input with nothing due re-arms the same deadline', () => {
    const h = new Harness();
    bind(h);
    h.feed({ type: 'timer' }, 1_000);
    assert.deepEqual(h.actions, [{ type: 'setTimer', atMs: 1_800_100 }]);
  });
});

describe('NAK', () => {
  test('in REQUESTING: nak, back to INIT, a fresh DISCOVER at once', () => {
    const h = new Harness();
    h.start(0);
    h.packet(reply(h.sentOne().message, MessageType.OFFER));
    h.packet(reply(h.sentOne().message, MessageType.NAK, { message: 'wrong address' }), 200);
    assert.deepEqual(h.of('nak'), [{ type: 'nak', message: 'wrong address', serverId: SERVER, lostLease: undefined }]);
    assert.deepEqual(h.logs(), ['REQUESTING -> INIT', 'INIT -> SELECTING']);
    const discover = h.sentOne().message;
    assert.equal(discover.xid, 0x1001);
    assert.equal(discover.options.requestedIp, undefined);
  });

  test('consecutive NAKs back off before rediscovering', () => {
    const h = new Harness();
    h.start(0);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      h.packet(reply(h.sentOne().message, MessageType.OFFER));
      h.packet(reply(h.sentOne().message, MessageType.NAK));
      if (h.state.name === 'INIT') {
        delays.push((h.state.timerAtMs ?? Number.NaN) - h.nowMs);
        h.fireTimer();
        assert.deepEqual(h.logs(), ['INIT -> SELECTING']);
      } else delays.push(0);
    }
    assert.deepEqual(delays, [0, 4_000, 8_000]);
    assert.equal(h.state.consecutiveNaks, 3);
  });

  test('in RENEWING: the lease is lost', () => {
    const h = new Harness();
    const lease = bind(h);
    h.fireTimer();
    h.packet(reply(h.sentOne().message, MessageType.NAK));
    assert.deepEqual(h.of('nak')[0]?.lostLease, lease);
    assert.deepEqual(h.logs(), ['RENEWING -> INIT', 'INIT -> SELECTING']);
    assert.equal(h.state.lease, undefined);
    assert.equal(h.sentOne().message.options.requestedIp, undefined);
  });

  test('in REBINDING: the lease is lost', () => {
    const h = new Harness();
    bind(h);
    h.feed({ type: 'timer' }, 3_200_000);
    assert.equal(h.state.name, 'REBINDING');
    h.packet(reply(h.sentOne().message, MessageType.NAK));
    assert.equal(h.of('nak').length, 1);
    assert.equal(h.state.name, 'SELECTING');
  });
});

describe('INIT-REBOOT with a remembered address', () => {
  test('REQUEST with option 50, no server id, broadcast; ACK → BOUND', () => {
    const h = new Harness({ requestedAddress: '10.77.0.50' });
    h.start(0);
    assert.deepEqual(h.logs(), ['IDLE -> INIT-REBOOT', 'INIT-REBOOT -> REBOOTING']);
    const { message, to } = h.sentOne();
    assert.equal(to, 'broadcast');
    assert.equal(message.options.messageType, MessageType.REQUEST);
    assert.equal(message.options.requestedIp, '10.77.0.50');
    assert.equal(message.options.serverId, undefined);
    assert.equal(message.ciaddr, '0.0.0.0');
    assert.equal(message.flags, BROADCAST_FLAG);
    h.packet(reply(message, MessageType.ACK), 30);
    assert.deepEqual(h.logs(), ['REBOOTING -> BOUND']);
    const lease = h.of('bound')[0]?.lease;
    assert.equal(lease?.address, '10.77.0.50');
    assert.equal(lease?.acquiredAtMs, 0);
  });

  test('NAK → INIT, DISCOVER without the refused address', () => {
    const h = new Harness({ requestedAddress: '10.99.0.5' });
    h.start(0);
    h.packet(reply(h.sentOne().message, MessageType.NAK, { message: 'wrong address' }));
    assert.equal(h.of('nak')[0]?.message, 'wrong address');
    assert.deepEqual(h.logs(), ['REBOOTING -> INIT', 'INIT -> SELECTING']);
    assert.equal(h.sentOne().message.options.requestedIp, undefined);
  });

  test('no answer: after requestAttempts, DISCOVER asking for the address', () => {
    const h = new Harness({ requestedAddress: '10.77.0.50', requestAttempts: 2 });
    h.start(0);
    h.fireTimer();
    assert.equal(h.sentOne().message.options.messageType, MessageType.REQUEST);
    h.fireTimer();
    assert.deepEqual(h.logs(), ['REBOOTING -> INIT', 'INIT -> SELECTING']);
    const discover = h.sentOne().message;
    assert.equal(discover.options.messageType, MessageType.DISCOVER);
    assert.equal(discover.options.requestedIp, '10.77.0.50');
  });

  test('link-down forgets the lease but the next start verifies its address', () => {
    const h = new Harness();
    const lease = bind(h);
    h.feed({ type: 'link-down' }, 5_000);
    assert.deepEqual(h.actions, [{ type: 'log', message: 'BOUND -> IDLE' }, { type: 'clearTimer' }]);
    h.start(9_000);
    const request = h.sentOne().message;
    assert.equal(h.state.name, 'REBOOTING');
    assert.equal(request.options.requestedIp, lease.address);
  });
});

describe('rapid commit (RFC 4039)', () => {
  test('DISCOVER carries option 80 and an ACK with option 80 binds from SELECTING', () => {
    const h = new Harness({ rapidCommit: true });
    h.start(0);
    const discover = h.sentOne().message;
    assert.equal(discover.options.rapidCommit, true);
    h.packet(reply(discover, MessageType.ACK, { rapidCommit: true }), 4);
    assert.deepEqual(h.logs(), ['SELECTING -> BOUND']);
    assert.equal(h.of('bound')[0]?.lease.acquiredAtMs, 0);
    assert.equal(h.sent().length, 0);
  });

  test('the captured dnsmasq rapid-commit ACK binds', () => {
    // The bytes of DNSMASQ_RAPID_ACK in message-codec.test.ts (annotated there): xid 0x0badcafe.
    const hex = [
      '02010600', // op, htype, hlen, hops
      '0badcafe', // xid
      '00008000', // secs, flags BROADCAST
      '00000000', // ciaddr
      '0a4d003f', // yiaddr 10.77.0.63
      '0a4d0001', // siaddr 10.77.0.1
      '00000000', // giaddr
      '020000000001' + '00'.repeat(10), // chaddr
      '00'.repeat(64 + 128), // sname, file
      '63825363', // cookie
      '350105', // ACK
      '36040a4d0001', // server id
      '330400000e10', // lease 3600 s
      '5000', // rapid commit
      '3a0400000708', // T1
      '3b0400000c4e', // T2
      '0104ffffff00', // netmask
      '1c040a4d00ff', // broadcast
      '03040a4d0001', // router
      '0f086c61622e74657374', // domain "lab.test"
      '06040a4d0001', // DNS
      'ff', // end
    ].join('');
    const h = new Harness({ rapidCommit: true, xid: () => 0x0badcafe });
    h.start(0);
    h.packet(Uint8Array.from(Buffer.from(hex, 'hex')), 3);
    assert.equal(h.state.name, 'BOUND', JSON.stringify(h.state.stats));
    const lease = h.of('bound')[0]?.lease;
    assert.deepEqual([lease?.address, lease?.serverId, lease?.leaseTimeS, lease?.domain], ['10.77.0.63', '10.77.0.1', 3600, 'lab.test']);
  });

  test('an ACK without option 80 in SELECTING is dropped', () => {
    const h = new Harness({ rapidCommit: true });
    h.start(0);
    h.packet(reply(h.sentOne().message, MessageType.ACK));
    assert.equal(h.state.name, 'SELECTING');
    assert.equal(h.state.stats.droppedBy['no-rapid-commit'], 1);
  });

  test('without rapidCommit configured, a rapid ACK is dropped', () => {
    const h = new Harness();
    h.start(0);
    h.packet(reply(h.sentOne().message, MessageType.ACK, { rapidCommit: true }));
    assert.equal(h.state.name, 'SELECTING');
  });
});

describe('DECLINE, stop, and odd inputs', () => {
  test('address-conflict: DECLINE, declined, INIT for 10 s, then DISCOVER without the address', () => {
    const h = new Harness();
    const lease = bind(h);
    h.feed({ type: 'address-conflict' }, 1_000);
    const { message, to } = h.sentOne();
    assert.equal(to, 'broadcast');
    assert.equal(message.options.messageType, MessageType.DECLINE);
    assert.equal(message.options.requestedIp, lease.address);
    assert.equal(message.options.serverId, SERVER);
    assert.equal(message.ciaddr, '0.0.0.0');
    assert.deepEqual(h.of('declined'), [{ type: 'declined', address: lease.address }]);
    assert.deepEqual(h.logs(), ['BOUND -> INIT']);
    assert.equal(h.state.timerAtMs, 11_000);
    h.fireTimer();
    assert.deepEqual(h.logs(), ['INIT -> SELECTING']);
    assert.equal(h.sentOne().message.options.requestedIp, undefined);
  });

  test('address-conflict without a lease is ignored', () => {
    const h = new Harness();
    h.start(0);
    h.feed({ type: 'address-conflict' });
    assert.equal(h.sent().length, 0);
    assert.equal(h.state.name, 'SELECTING');
  });

  test('stop with releaseOnStop: RELEASE unicast, IDLE, timer cleared; start then discovers', () => {
    const h = new Harness({ releaseOnStop: true });
    const lease = bind(h);
    h.feed({ type: 'stop' }, 2_000);
    const { message, to } = h.sentOne();
    assert.equal(to, SERVER);
    assert.equal(message.options.messageType, MessageType.RELEASE);
    assert.equal(message.ciaddr, lease.address);
    assert.equal(message.options.serverId, SERVER);
    assert.deepEqual(h.logs(), ['BOUND -> IDLE']);
    assert.deepEqual(h.of('clearTimer'), [{ type: 'clearTimer' }]);
    h.start(3_000);
    assert.equal(h.state.name, 'SELECTING');
  });

  test('stop without releaseOnStop sends nothing; start is ignored unless IDLE', () => {
    const h = new Harness();
    h.start(0);
    h.start(1);
    assert.deepEqual(h.logs(), ['start ignored in SELECTING']);
    h.feed({ type: 'stop' }, 2);
    assert.equal(h.sent().length, 0);
    assert.equal(h.state.name, 'IDLE');
    h.feed({ type: 'timer' }, 3);
    assert.deepEqual(h.actions, []);
  });

  test('createClient checks its config and names the field', () => {
    const base: ClientConfig = { mac: MAC, random: () => 0.5 };
    const cases: [Partial<ClientConfig>, string][] = [
      [{ mac: new Uint8Array(5) }, 'mac'],
      [{ clientId: new Uint8Array(1) }, 'clientId'],
      [{ hostname: '' }, 'hostname'],
      [{ requestedAddress: '127.0.0.1' }, 'requestedAddress'],
      [{ initialRetransmitMs: 0 }, 'initialRetransmitMs'],
      [{ initialRetransmitMs: 2_000, maxRetransmitMs: 1_000 }, 'maxRetransmitMs'],
      [{ requestAttempts: 0 }, 'requestAttempts'],
      [{ maxMessageSize: 500 }, 'maxMessageSize'],
      [{ parameterRequestList: [0] }, 'parameterRequestList'],
      [{ minRenewRetryMs: Number.NaN }, 'minRenewRetryMs'],
    ];
    for (const [change, field] of cases) {
      assert.throws(() => createClient({ ...base, ...change }), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === field, field);
    }
  });
});
