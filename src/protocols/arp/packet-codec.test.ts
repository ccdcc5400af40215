import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ArgumentError } from '../../errors.js';
import {
  decodeArp,
  encodeAnnouncement,
  encodeArp,
  encodeProbe,
  encodeReply,
  isConflict,
  isProbe,
  type ArpPacket,
} from './packet-codec.js';

/** NICUP_FUZZ_RUNS raises the number of fuzz cases for a long run. */
const FUZZ_RUNS = Number(process.env.NICUP_FUZZ_RUNS ?? '') || 500;
const OWN = '02:00:00:00:00:0a';
const OTHER = '52:54:00:12:34:56';
const ADDRESS = '192.168.77.10';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('ARP packet codec', () => {
  test('a probe: request, sender IP 0.0.0.0, target MAC zero, target IP the address (RFC 5227 §2.1.1)', () => {
    assert.deepEqual(
      Buffer.from(encodeProbe(OWN, ADDRESS)),
      hex('0001 0800 06 04 0001  02000000000a 00000000  000000000000 c0a84d0a'),
    );
  });

  test('an announcement: sender IP and target IP both the address (RFC 5227 §2.3)', () => {
    assert.deepEqual(
      Buffer.from(encodeAnnouncement(OWN, ADDRESS)),
      hex('0001 0800 06 04 0001  02000000000a c0a84d0a  000000000000 c0a84d0a'),
    );
  });

  test('decodes the reply a Linux host gives to a probe (sender IP the address, target IP 0.0.0.0)', () => {
    // As a SOCK_DGRAM packet socket hands it over from a veth: body plus Ethernet padding to 46 bytes.
    const body = hex('0001 0800 06 04 0002  525400123456 c0a84d0a  02000000000a 00000000');
    const padded = Buffer.concat([body, Buffer.alloc(18)]);
    const r = decodeArp(padded);
    assert.deepEqual(r, {
      ok: true,
      packet: { operation: 'reply', senderMac: OTHER, senderIp: ADDRESS, targetMac: OWN, targetIp: '0.0.0.0' },
    });
  });

  test('decodes a request, from a Uint8Array view at an offset', () => {
    const frame = Buffer.concat([Buffer.alloc(14, 0xee), hex('0001 0800 06 04 0001  525400123456 c0a84d01  000000000000 c0a84d0a')]);
    const r = decodeArp(frame.subarray(14));
    assert.ok(r.ok);
    assert.deepEqual(r.packet, { operation: 'request', senderMac: OTHER, senderIp: '192.168.77.1', targetMac: '00:00:00:00:00:00', targetIp: ADDRESS });
    assert.equal(isProbe(r.packet), false);
  });

  test('encode and decode are inverse; encodeReply answers a probe', () => {
    const probe = decodeArp(encodeProbe(OWN, ADDRESS));
    assert.ok(probe.ok);
    assert.ok(isProbe(probe.packet));
    const reply = decodeArp(encodeReply(probe.packet, OTHER, ADDRESS));
    assert.deepEqual(reply, { ok: true, packet: { operation: 'reply', senderMac: OTHER, senderIp: ADDRESS, targetMac: OWN, targetIp: '0.0.0.0' } });
    const mac = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).map((b) => b.map((x) => x.toString(16).padStart(2, '0')).join(':'));
    const ip = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }).map((b) => b.join('.'));
    fc.assert(
      fc.property(fc.constantFrom('request' as const, 'reply' as const), mac, ip, mac, ip, (operation, senderMac, senderIp, targetMac, targetIp) => {
        const p: ArpPacket = { operation, senderMac, senderIp, targetMac, targetIp };
        assert.deepEqual(decodeArp(encodeArp(p)), { ok: true, packet: p });
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  test('bad bytes are a result naming the problem, never an exception', () => {
    const good = hex('0001 0800 06 04 0002  525400123456 c0a84d0a  02000000000a 00000000');
    const with_ = (at: number, bytes: number[]) => {
      const b = Buffer.from(good);
      b.set(bytes, at);
      return b;
    };
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, 27), /too short: 27 bytes/],
      [new Uint8Array(0), /too short: 0 bytes/],
      [with_(0, [0, 6]), /hardware type 6/],
      [with_(2, [0x86, 0xdd]), /protocol type 0x86dd/],
      [with_(4, [8, 4]), /address lengths 8\/4/],
      [with_(6, [0, 3]), /operation 3/],
      ['not bytes' as unknown as Uint8Array, /not a byte array/],
    ];
    for (const [bytes, error] of cases) {
      const r = decodeArp(bytes);
      assert.equal(r.ok, false);
      assert.match((r as { error: string }).error, error);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const r = decodeArp(bytes);
        assert.equal(typeof r.ok, 'boolean');
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  test('encoding our own packet with a bad field is an ArgumentError naming the field', () => {
    assert.throws(() => encodeProbe('02:00:00:00:00', ADDRESS), (e: unknown) => e instanceof ArgumentError && e.field === 'senderMac');
    assert.throws(() => encodeProbe(OWN, '192.168.77.256'), (e: unknown) => e instanceof ArgumentError && e.field === 'targetIp');
    assert.throws(
      () => encodeArp({ operation: 'rarp' as 'reply', senderMac: OWN, senderIp: ADDRESS, targetMac: OWN, targetIp: ADDRESS }),
      (e: unknown) => e instanceof ArgumentError && e.field === 'operation',
    );
  });
});

describe('isConflict (RFC 5227 §2.1.1)', () => {
  const packet = (p: Partial<ArpPacket>): ArpPacket => ({
    operation: 'request',
    senderMac: OTHER,
    senderIp: '192.168.77.1',
    targetMac: '00:00:00:00:00:00',
    targetIp: '192.168.77.99',
    ...p,
  });

  test('another host using the address: any request or reply whose sender IP is the address', () => {
    assert.equal(isConflict(packet({ operation: 'reply', senderIp: ADDRESS, targetIp: '0.0.0.0' }), ADDRESS, OWN), true);
    assert.equal(isConflict(packet({ operation: 'request', senderIp: ADDRESS }), ADDRESS, OWN), true);
    assert.equal(isConflict(packet({ operation: 'request', senderIp: ADDRESS, targetIp: ADDRESS }), ADDRESS, OWN), true);
  });

  test('another host probing for the same address at the same time', () => {
    assert.equal(isConflict(packet({ senderIp: '0.0.0.0', targetIp: ADDRESS }), ADDRESS, OWN), true);
  });

  test('not a conflict: our own packets (any case of MAC), other addresses, an ordinary request for the address', () => {
    assert.equal(isConflict(packet({ senderMac: OWN, senderIp: '0.0.0.0', targetIp: ADDRESS }), ADDRESS, OWN), false);
    assert.equal(isConflict(packet({ senderMac: OWN, senderIp: ADDRESS }), ADDRESS, OWN.toUpperCase()), false);
    assert.equal(isConflict(packet({ operation: 'reply', senderIp: '192.168.77.11' }), ADDRESS, OWN), false);
    assert.equal(isConflict(packet({ senderIp: '0.0.0.0', targetIp: '192.168.77.11' }), ADDRESS, OWN), false);
    // Someone asking who has the address says nothing about whether it is taken.
    assert.equal(isConflict(packet({ senderIp: '192.168.77.1', targetIp: ADDRESS }), ADDRESS, OWN), false);
  });
});
