import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BOOTREPLY,
  BOOTREQUEST,
  BROADCAST_FLAG,
  MessageType,
  OptionCode,
  buildDecline,
  buildDiscover,
  buildRelease,
  buildRequest,
  decodeMessage,
  encodeMessage,
  netmaskToPrefixLength,
  parseIpv4,
  prefixLengthToNetmask,
} from './message-codec.js';
import type { ClientIdentity, DhcpMessage, DhcpOptions } from './message-codec.js';
import { isNicupError } from '../../errors.js';

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

/** The 236-byte fixed header of a dnsmasq reply to chaddr 02:00:00:00:00:01 (no sname, no file). */
function dnsmasqHeader(xid: number[], yiaddr: number[], siaddr: number[]): number[] {
  return [
    0x02, 0x01, 0x06, 0x00, //              op BOOTREPLY, htype Ethernet, hlen 6, hops 0
    ...xid, //                              xid
    0x00, 0x00, 0x80, 0x00, //              secs 0, flags BROADCAST (echoed from our DISCOVER)
    0x00, 0x00, 0x00, 0x00, //              ciaddr 0.0.0.0
    ...yiaddr, //                           yiaddr
    ...siaddr, //                           siaddr (dnsmasq puts its own address: "next server")
    0x00, 0x00, 0x00, 0x00, //              giaddr 0.0.0.0 (no relay)
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, //  chaddr 02:00:00:00:00:01 ...
    ...zeros(10), //                        ... padded to 16 bytes
    ...zeros(64), //                        sname (empty)
    ...zeros(128), //                       file (empty)
  ];
}

/**
 * dnsmasq 2.90's DHCPOFFER, captured in a namespace lab (veth, dnsmasq --dhcp-range
 * 10.77.0.50,10.77.0.99,255.255.255.0,1h --domain=lab.test, dns-server 10.77.0.1) in reply
 * to a DISCOVER with xid 0x12345678. 302 bytes: dnsmasq does not pad to 300.
 */
const DNSMASQ_OFFER = Uint8Array.from([
  ...dnsmasqHeader([0x12, 0x34, 0x56, 0x78], [10, 77, 0, 63], [10, 77, 0, 1]),
  0x63, 0x82, 0x53, 0x63, //              magic cookie
  53, 1, 2, //                            message type: OFFER
  54, 4, 10, 77, 0, 1, //                 server identifier 10.77.0.1
  51, 4, 0x00, 0x00, 0x0e, 0x10, //       lease time 3600 s
  58, 4, 0x00, 0x00, 0x07, 0x08, //       T1 1800 s
  59, 4, 0x00, 0x00, 0x0c, 0x4e, //       T2 3150 s
  1, 4, 255, 255, 255, 0, //              subnet mask
  28, 4, 10, 77, 0, 255, //               broadcast
  3, 4, 10, 77, 0, 1, //                  router
  15, 8, ...Buffer.from('lab.test'), //   domain name
  6, 4, 10, 77, 0, 1, //                  DNS server
  255, //                                 end
]);

/** The same server with --dhcp-rapid-commit answering a DISCOVER (xid 0x0badcafe) that carried option 80. */
const DNSMASQ_RAPID_ACK = Uint8Array.from([
  ...dnsmasqHeader([0x0b, 0xad, 0xca, 0xfe], [10, 77, 0, 63], [10, 77, 0, 1]),
  0x63, 0x82, 0x53, 0x63, //              magic cookie
  53, 1, 5, //                            message type: ACK
  54, 4, 10, 77, 0, 1, //                 server identifier
  51, 4, 0x00, 0x00, 0x0e, 0x10, //       lease time 3600 s
  80, 0, //                               rapid commit (no data)
  58, 4, 0x00, 0x00, 0x07, 0x08, //       T1
  59, 4, 0x00, 0x00, 0x0c, 0x4e, //       T2
  1, 4, 255, 255, 255, 0, //              subnet mask
  28, 4, 10, 77, 0, 255, //               broadcast
  3, 4, 10, 77, 0, 1, //                  router
  15, 8, ...Buffer.from('lab.test'), //   domain name
  6, 4, 10, 77, 0, 1, //                  DNS server
  255, //                                 end
]);

/** The same server with --dhcp-authoritative refusing an INIT-REBOOT REQUEST (xid 0x0badbeef) for 10.99.0.5. */
const DNSMASQ_NAK = Uint8Array.from([
  ...dnsmasqHeader([0x0b, 0xad, 0xbe, 0xef], [0, 0, 0, 0], [0, 0, 0, 0]),
  0x63, 0x82, 0x53, 0x63, //              magic cookie
  53, 1, 6, //                            message type: NAK
  54, 4, 10, 77, 0, 1, //                 server identifier
  56, 13, ...Buffer.from('wrong address'), // message
  255, //                                 end
  ...zeros(35), //                        padded to 300 bytes
]);

function decodeOk(bytes: Uint8Array): DhcpMessage {
  const r = decodeMessage(bytes);
  if (!r.ok) assert.fail(`decode failed: ${r.error}`);
  return r.message;
}

function decodeError(bytes: Uint8Array | number[]): string {
  const r = decodeMessage(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  if (r.ok) assert.fail('decode succeeded on a bad message');
  return r.error;
}

/** A minimal valid reply with the given option bytes after the cookie. */
function withOptions(optionBytes: number[], header?: (h: number[]) => void): Uint8Array {
  const h = dnsmasqHeader([1, 2, 3, 4], [10, 0, 0, 5], [0, 0, 0, 0]);
  header?.(h);
  return Uint8Array.from([...h, 0x63, 0x82, 0x53, 0x63, ...optionBytes]);
}

const identity: ClientIdentity = {
  mac: Uint8Array.of(0x02, 0, 0, 0, 0, 0x01),
  clientId: Uint8Array.of(1, 0x02, 0, 0, 0, 0, 0x01),
  hostname: 'nicup-test',
  parameterRequestList: [1, 3, 6, 15, 26, 28, 51, 58, 59],
  maxMessageSize: 1500,
};

describe('decodeMessage on captured dnsmasq replies', () => {
  test('OFFER: every header field and option', () => {
    const m = decodeOk(DNSMASQ_OFFER);
    assert.equal(DNSMASQ_OFFER.length, 302);
    assert.equal(m.op, BOOTREPLY);
    assert.equal(m.htype, 1);
    assert.equal(m.hops, 0);
    assert.equal(m.xid, 0x12345678);
    assert.equal(m.secs, 0);
    assert.equal(m.flags, BROADCAST_FLAG);
    assert.equal(m.ciaddr, '0.0.0.0');
    assert.equal(m.yiaddr, '10.77.0.63');
    assert.equal(m.siaddr, '10.77.0.1');
    assert.equal(m.giaddr, '0.0.0.0');
    assert.deepEqual(m.chaddr, Uint8Array.of(2, 0, 0, 0, 0, 1));
    assert.equal(m.sname, '');
    assert.equal(m.file, '');
    assert.deepEqual(m.options, {
      messageType: MessageType.OFFER,
      serverId: '10.77.0.1',
      leaseTimeS: 3600,
      t1S: 1800,
      t2S: 3150,
      subnetMask: '255.255.255.0',
      broadcast: '10.77.0.255',
      routers: ['10.77.0.1'],
      domainName: 'lab.test',
      dns: ['10.77.0.1'],
      unknown: [],
    });
  });

  test('rapid-commit ACK carries option 80', () => {
    const m = decodeOk(DNSMASQ_RAPID_ACK);
    assert.equal(m.xid, 0x0badcafe);
    assert.equal(m.options.messageType, MessageType.ACK);
    assert.equal(m.options.rapidCommit, true);
    assert.equal(m.options.leaseTimeS, 3600);
  });

  test('NAK carries the server message; padding after END is ignored', () => {
    assert.equal(DNSMASQ_NAK.length, 300);
    const m = decodeOk(DNSMASQ_NAK);
    assert.equal(m.options.messageType, MessageType.NAK);
    assert.equal(m.options.message, 'wrong address');
    assert.equal(m.options.serverId, '10.77.0.1');
    assert.equal(m.yiaddr, '0.0.0.0');
  });

  test('the decoded OFFER re-encodes to a message that decodes the same', () => {
    const m = decodeOk(DNSMASQ_OFFER);
    assert.deepEqual(decodeOk(encodeMessage(m)), m);
  });
});

describe('decodeMessage rejects malformed messages', () => {
  test('too short', () => {
    assert.match(decodeError(DNSMASQ_OFFER.subarray(0, 239)), /too short/);
    assert.match(decodeError(new Uint8Array(0)), /too short/);
  });
  test('bad magic cookie', () => {
    const bad = Uint8Array.from(DNSMASQ_OFFER);
    bad[239] = 0x64;
    assert.match(decodeError(bad), /magic cookie/);
  });
  test('bad op', () => {
    assert.match(decodeError(withOptions([255], (h) => (h[0] = 3))), /op 3/);
  });
  test('hlen over 16, and Ethernet with hlen other than 6', () => {
    assert.match(decodeError(withOptions([255], (h) => (h[2] = 17))), /hlen 17/);
    assert.match(decodeError(withOptions([255], (h) => (h[2] = 7))), /hlen 7/);
  });
  test('other hardware types may use another hlen', () => {
    const m = decodeOk(withOptions([53, 1, 2, 255], (h) => ((h[1] = 6), (h[2] = 16))));
    assert.equal(m.htype, 6);
    assert.equal(m.chaddr.length, 16);
  });
  test('an option whose length runs past the end', () => {
    assert.match(decodeError(withOptions([53, 1, 2, 3, 8, 10, 0, 0, 1])), /option 3 length 8 runs past the end/);
  });
  test('an option without its length byte', () => {
    assert.match(decodeError(withOptions([53, 1, 2, 6])), /option 6 has no length byte/);
  });
  test('known options with the wrong length', () => {
    assert.match(decodeError(withOptions([53, 2, 2, 2, 255])), /option 53 \(message type\): length 2/);
    assert.match(decodeError(withOptions([1, 3, 255, 255, 255, 255])), /option 1 \(subnet mask\): length 3/);
    assert.match(decodeError(withOptions([3, 6, 1, 2, 3, 4, 5, 6, 255])), /option 3 \(router\): length 6/);
    assert.match(decodeError(withOptions([6, 0, 255])), /option 6 \(DNS server\): length 0/);
    assert.match(decodeError(withOptions([51, 2, 0, 1, 255])), /option 51 \(lease time\): length 2/);
    assert.match(decodeError(withOptions([26, 4, 0, 0, 5, 220, 255])), /option 26 \(MTU\): length 4/);
    assert.match(decodeError(withOptions([80, 1, 0, 255])), /option 80 \(rapid commit\): length 1/);
    assert.match(decodeError(withOptions([54, 5, 1, 2, 3, 4, 5, 255])), /option 54 \(server identifier\): length 5/);
  });
  test('an overload option with a bad value', () => {
    assert.match(decodeError(withOptions([52, 1, 4, 255])), /option 52 \(overload\): value 4/);
    assert.match(decodeError(withOptions([52, 2, 1, 1, 255])), /option 52 \(overload\): length 2/);
  });
});

describe('decodeMessage tolerates what real servers do', () => {
  test('no END option: options run to the end of the datagram', () => {
    const m = decodeOk(withOptions([53, 1, 5, 51, 4, 0, 0, 0, 60]));
    assert.equal(m.options.leaseTimeS, 60);
  });
  test('pad bytes between options; anything after END is ignored', () => {
    const m = decodeOk(withOptions([0, 0, 53, 1, 2, 0, 54, 4, 10, 0, 0, 1, 255, 3, 99]));
    assert.equal(m.options.messageType, 2);
    assert.equal(m.options.serverId, '10.0.0.1');
    assert.equal(m.options.routers, undefined);
  });
  test('NUL-terminated string options are trimmed', () => {
    const m = decodeOk(withOptions([53, 1, 5, 15, 5, 0x6c, 0x61, 0x6e, 0, 0, 255]));
    assert.equal(m.options.domainName, 'lan');
  });
  test('unknown options are kept raw, in order of appearance', () => {
    const m = decodeOk(withOptions([53, 1, 5, 121, 3, 9, 8, 7, 42, 0, 255]));
    assert.deepEqual(m.options.unknown, [
      { code: 121, data: Uint8Array.of(9, 8, 7) },
      { code: 42, data: new Uint8Array(0) },
    ]);
  });
  test('a repeated option is concatenated (RFC 3396)', () => {
    const m = decodeOk(withOptions([53, 1, 5, 6, 4, 8, 8, 8, 8, 6, 4, 1, 1, 1, 1, 255]));
    assert.deepEqual(m.options.dns, ['8.8.8.8', '1.1.1.1']);
  });
  test('option overload: options in file and sname, in that order (RFC 2131 §4.1)', () => {
    const bytes = withOptions([53, 1, 5, 52, 1, 3, 255], (h) => {
      // sname at 44: a DNS server; file at 108: a router and another DNS server.
      h.splice(44, 7, 6, 4, 9, 9, 9, 9, 255);
      h.splice(108, 13, 3, 4, 10, 0, 0, 1, 6, 4, 8, 8, 8, 8, 255);
    });
    const m = decodeOk(bytes);
    assert.deepEqual(m.options.routers, ['10.0.0.1']);
    assert.deepEqual(m.options.dns, ['8.8.8.8', '9.9.9.9']);
    assert.equal(m.sname, '');
    assert.equal(m.file, '');
  });
  test('overload of the file field only leaves sname as text', () => {
    const bytes = withOptions([53, 1, 5, 52, 1, 1, 255], (h) => {
      h.splice(44, 3, 0x61, 0x62, 0x63);
      h.splice(108, 7, 51, 4, 0, 0, 1, 0, 255);
    });
    const m = decodeOk(bytes);
    assert.equal(m.sname, 'abc');
    assert.equal(m.options.leaseTimeS, 256);
  });
  test('a broken option inside an overloaded field is an error, not a crash', () => {
    const bytes = withOptions([53, 1, 5, 52, 1, 2, 255], (h) => h.splice(44 + 62, 2, 6, 9));
    assert.match(decodeError(bytes), /sname: option 6 length 9/);
  });
  test('non-byte-array input', () => {
    assert.equal(decodeMessage('nope' as unknown as Uint8Array).ok, false);
  });
});

describe('encodeMessage', () => {
  test('DISCOVER bytes: BOOTREQUEST, broadcast flag, cookie, option 53 first, END, padded to 300', () => {
    const bytes = encodeMessage(buildDiscover(identity, { xid: 0xdeadbeef, secs: 3, requestedIp: '10.77.0.63', rapidCommit: true }));
    assert.equal(bytes.length, 300);
    assert.deepEqual([...bytes.subarray(0, 12)], [1, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef, 0, 3, 0x80, 0]);
    assert.deepEqual([...bytes.subarray(28, 34)], [2, 0, 0, 0, 0, 1]);
    assert.deepEqual([...bytes.subarray(236, 243)], [0x63, 0x82, 0x53, 0x63, 53, 1, 1]);
    const m = decodeOk(bytes);
    assert.equal(m.options.requestedIp, '10.77.0.63');
    assert.equal(m.options.rapidCommit, true);
    assert.equal(m.options.hostname, 'nicup-test');
    assert.equal(m.options.maxMessageSize, 1500);
    assert.deepEqual(m.options.clientId, identity.clientId);
    assert.deepEqual(m.options.parameterRequestList, identity.parameterRequestList);
    assert.equal(m.options.serverId, undefined);
    // The END option follows the last option; the rest is zero padding.
    const end = bytes.lastIndexOf(255);
    assert.ok(bytes.subarray(end + 1).every((b) => b === 0));
  });

  test('an option longer than 255 bytes is split and joins up again (RFC 3396)', () => {
    const long = Uint8Array.from({ length: 600 }, (_, i) => i & 255);
    const message = buildRelease(identity, { xid: 1, ciaddr: '10.0.0.5', serverId: '10.0.0.1' });
    message.options.unknown.push({ code: 77, data: long });
    const bytes = encodeMessage(message);
    const at = bytes.indexOf(77, 240);
    assert.deepEqual([bytes[at], bytes[at + 1]], [77, 255]);
    assert.deepEqual([bytes[at + 257], bytes[at + 258]], [77, 255]);
    assert.deepEqual([bytes[at + 514], bytes[at + 515]], [77, 90]);
    assert.deepEqual(decodeOk(bytes).options.unknown, [{ code: 77, data: long }]);
  });

  test('refuses fields it cannot encode, naming the field', () => {
    const base = buildDiscover(identity, { xid: 1, secs: 0 });
    const cases: [Partial<DhcpMessage>, string][] = [
      [{ ciaddr: '10.0.0' }, 'ciaddr'],
      [{ xid: -1 }, 'xid'],
      [{ secs: 70000 }, 'secs'],
      [{ chaddr: new Uint8Array(17) }, 'chaddr'],
      [{ sname: 'x'.repeat(64) }, 'sname'],
      [{ options: { unknown: [], routers: [] } }, 'options.routers'],
      [{ options: { unknown: [], hostname: 'a\0b' } }, 'options.hostname'],
      [{ options: { unknown: [{ code: 53, data: new Uint8Array(1) }] } }, 'options.unknown[0].code'],
      [{ options: { unknown: [], dns: ['1.2.3.256'] } }, 'options.dns[0]'],
    ];
    for (const [change, field] of cases) {
      assert.throws(
        () => encodeMessage({ ...base, ...change }),
        (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === field,
        field,
      );
    }
  });
});

describe('client message builders (RFC 2131 §4.3.2, §4.4.1 table 5)', () => {
  const forms = {
    discover: buildDiscover(identity, { xid: 7, secs: 2 }),
    selecting: buildRequest(identity, { kind: 'selecting', xid: 7, secs: 2, requestedIp: '10.0.0.5', serverId: '10.0.0.1' }),
    initReboot: buildRequest(identity, { kind: 'init-reboot', xid: 8, secs: 0, requestedIp: '10.0.0.5' }),
    renewing: buildRequest(identity, { kind: 'renewing', xid: 9, secs: 0, ciaddr: '10.0.0.5' }),
    rebinding: buildRequest(identity, { kind: 'rebinding', xid: 10, secs: 1, ciaddr: '10.0.0.5' }),
    decline: buildDecline(identity, { xid: 11, requestedIp: '10.0.0.5', serverId: '10.0.0.1', message: 'in use' }),
    release: buildRelease(identity, { xid: 12, ciaddr: '10.0.0.5', serverId: '10.0.0.1' }),
  };
  const decoded = Object.fromEntries(Object.entries(forms).map(([k, v]) => [k, decodeOk(encodeMessage(v))])) as Record<keyof typeof forms, DhcpMessage>;

  test('every form is a BOOTREQUEST from our chaddr with our client id', () => {
    for (const m of Object.values(decoded)) {
      assert.equal(m.op, BOOTREQUEST);
      assert.deepEqual(m.chaddr, identity.mac);
      assert.deepEqual(m.options.clientId, identity.clientId);
    }
  });

  test('ciaddr, flags, requested IP and server id per form', () => {
    const row = (m: DhcpMessage) => [m.options.messageType, m.ciaddr, m.flags, m.options.requestedIp, m.options.serverId];
    assert.deepEqual(row(decoded.discover), [MessageType.DISCOVER, '0.0.0.0', BROADCAST_FLAG, undefined, undefined]);
    assert.deepEqual(row(decoded.selecting), [MessageType.REQUEST, '0.0.0.0', BROADCAST_FLAG, '10.0.0.5', '10.0.0.1']);
    assert.deepEqual(row(decoded.initReboot), [MessageType.REQUEST, '0.0.0.0', BROADCAST_FLAG, '10.0.0.5', undefined]);
    assert.deepEqual(row(decoded.renewing), [MessageType.REQUEST, '10.0.0.5', 0, undefined, undefined]);
    assert.deepEqual(row(decoded.rebinding), [MessageType.REQUEST, '10.0.0.5', 0, undefined, undefined]);
    assert.deepEqual(row(decoded.decline), [MessageType.DECLINE, '0.0.0.0', 0, '10.0.0.5', '10.0.0.1']);
    assert.deepEqual(row(decoded.release), [MessageType.RELEASE, '10.0.0.5', 0, undefined, '10.0.0.1']);
  });

  test('DISCOVER and REQUEST carry the parameter list; DECLINE and RELEASE must not (table 5)', () => {
    for (const k of ['discover', 'selecting', 'initReboot', 'renewing', 'rebinding'] as const) {
      assert.deepEqual(decoded[k].options.parameterRequestList, identity.parameterRequestList, k);
      assert.equal(decoded[k].options.hostname, 'nicup-test', k);
    }
    for (const k of ['decline', 'release'] as const) {
      assert.equal(decoded[k].options.parameterRequestList, undefined, k);
      assert.equal(decoded[k].options.maxMessageSize, undefined, k);
      assert.equal(decoded[k].secs, 0, k);
    }
    assert.equal(decoded.decline.options.message, 'in use');
  });

  test('secs and xid are passed through', () => {
    assert.deepEqual([decoded.selecting.xid, decoded.selecting.secs], [7, 2]);
    assert.deepEqual([decoded.rebinding.xid, decoded.rebinding.secs], [10, 1]);
  });
});

describe('address helpers', () => {
  test('parseIpv4 is strict', () => {
    assert.equal(parseIpv4('10.0.0.1'), 0x0a000001);
    assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
    for (const bad of ['10.0.0', '10.0.0.256', '010.0.0.1', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.-1', '']) assert.equal(parseIpv4(bad), undefined, bad);
  });
  test('netmask and prefix length', () => {
    assert.equal(netmaskToPrefixLength('255.255.255.0'), 24);
    assert.equal(netmaskToPrefixLength('255.255.255.255'), 32);
    assert.equal(netmaskToPrefixLength('0.0.0.0'), 0);
    assert.equal(netmaskToPrefixLength('255.0.255.0'), undefined);
    assert.equal(prefixLengthToNetmask(20), '255.255.240.0');
    assert.equal(prefixLengthToNetmask(0), '0.0.0.0');
    for (let p = 0; p <= 32; p++) assert.equal(netmaskToPrefixLength(prefixLengthToNetmask(p)), p);
  });
});

// ---------------------------------------------------------------------------------------
// Property: any encodable message decodes to itself.

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const text = (max: number) => fc.string({ maxLength: max, unit: 'grapheme-ascii' }).filter((s) => !s.includes('\0'));
const knownCodes = new Set<number>(Object.values(OptionCode));

const optionsArb: fc.Arbitrary<DhcpOptions> = fc
  .record(
    {
      messageType: fc.integer({ min: 1, max: 8 }),
      subnetMask: ipv4,
      routers: fc.array(ipv4, { minLength: 1, maxLength: 4 }),
      dns: fc.array(ipv4, { minLength: 1, maxLength: 80 }),
      hostname: text(40),
      domainName: text(300),
      mtu: fc.integer({ min: 0, max: 0xffff }),
      broadcast: ipv4,
      requestedIp: ipv4,
      leaseTimeS: fc.integer({ min: 0, max: 0xffffffff }),
      serverId: ipv4,
      parameterRequestList: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 20 }),
      message: text(60),
      maxMessageSize: fc.integer({ min: 0, max: 0xffff }),
      t1S: fc.integer({ min: 0, max: 0xffffffff }),
      t2S: fc.integer({ min: 0, max: 0xffffffff }),
      clientId: fc.uint8Array({ maxLength: 20 }),
      rapidCommit: fc.constant(true),
    },
    { requiredKeys: [] },
  )
  .chain((known) =>
    fc
      .uniqueArray(
        fc.record({ code: fc.integer({ min: 1, max: 254 }).filter((c) => !knownCodes.has(c)), data: fc.uint8Array({ maxLength: 300 }) }),
        { selector: (o) => o.code, maxLength: 5 },
      )
      // fast-check builds prototype-less records; the decoder returns plain objects.
      .map((unknown) => ({ ...known, unknown: unknown.map((o) => ({ ...o })) })),
  );

const messageArb: fc.Arbitrary<DhcpMessage> = fc.record({
  op: fc.constantFrom(1, 2),
  htype: fc.constant(1),
  hops: fc.nat(255),
  xid: fc.integer({ min: 0, max: 0xffffffff }),
  secs: fc.nat(0xffff),
  flags: fc.nat(0xffff),
  ciaddr: ipv4,
  yiaddr: ipv4,
  siaddr: ipv4,
  giaddr: ipv4,
  chaddr: fc.uint8Array({ minLength: 6, maxLength: 6 }),
  sname: text(63),
  file: text(127),
  options: optionsArb,
}).map((m) => ({ ...m }));

/** Structured messages are costly to generate: a few hundred by default, NICUP_FUZZ_RUNS for a long run. */
const ROUND_TRIP_RUNS = Number(process.env.NICUP_FUZZ_RUNS ?? '') || 300;

test('property: decode(encode(m)) equals m', () => {
  fc.assert(
    fc.property(messageArb, (m) => {
      assert.deepEqual(decodeOk(encodeMessage(m)), m);
    }),
    { numRuns: ROUND_TRIP_RUNS },
  );
});
