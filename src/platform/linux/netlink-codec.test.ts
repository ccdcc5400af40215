import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attrString,
  attrU32,
  decodeAttrs,
  decodeErrno,
  decodeMessages,
  encodeAttr,
  encodeMessage,
  stringAttr,
  u32Attr,
} from './netlink-codec.js';

describe('netlink framing', () => {
  test('a message round-trips and is padded to 4 bytes', () => {
    const frame = encodeMessage({ type: 18, flags: 0x305, seq: 7, port: 0, payload: Buffer.from([1, 2, 3]) });
    assert.equal(frame.length, 20);
    assert.equal(frame.readUInt32LE(0), 19, 'nlmsg_len excludes the padding');
    const [m] = decodeMessages(frame);
    assert.deepEqual({ ...m, payload: [...m!.payload] }, { type: 18, flags: 0x305, seq: 7, port: 0, payload: [1, 2, 3] });
  });

  test('several messages in one datagram; a truncated tail is dropped, not thrown', () => {
    const a = encodeMessage({ type: 16, flags: 2, seq: 1, port: 9, payload: Buffer.alloc(5, 0xaa) });
    const b = encodeMessage({ type: 3, flags: 2, seq: 1, port: 9, payload: Buffer.alloc(4) });
    const both = Buffer.concat([a, b]);
    assert.deepEqual(decodeMessages(both).map((m) => m.type), [16, 3]);
    assert.deepEqual(decodeMessages(both.subarray(0, both.length - 2)).map((m) => m.type), [16]);
    const bogus = Buffer.from(a);
    bogus.writeUInt32LE(4, 0); // shorter than a header
    assert.deepEqual(decodeMessages(bogus), []);
    assert.deepEqual(decodeMessages(Buffer.alloc(3)), []);
  });

  test('the error payload carries a negative errno; 0 is an ACK', () => {
    const p = Buffer.alloc(20);
    p.writeInt32LE(-17, 0);
    assert.equal(decodeErrno(p), 17);
    assert.equal(decodeErrno(Buffer.alloc(20)), 0);
    assert.equal(decodeErrno(Buffer.alloc(2)), 0);
  });
});

describe('netlink attributes', () => {
  test('encode and decode, with padding and the nested flag stripped', () => {
    const nested = encodeAttr(0x8000 | 18, Buffer.concat([stringAttr(1, 'veth')]));
    const buf = Buffer.concat([u32Attr(3, 42), stringAttr(2, 'eth0'), nested, encodeAttr(9, Buffer.from([1]))]);
    const attrs = decodeAttrs(buf);
    assert.equal(attrU32(attrs.get(3)), 42);
    assert.equal(attrString(attrs.get(2)), 'eth0');
    assert.equal(attrString(decodeAttrs(attrs.get(18)!).get(1)), 'veth');
    assert.deepEqual([...attrs.get(9)!], [1]);
    assert.equal(buf.length % 4, 0);
  });

  test('malformed attributes end the walk without throwing', () => {
    const good = u32Attr(1, 5);
    const bad = Buffer.from([0xff, 0x00, 0x02, 0x00]); // length 255 past the end
    const attrs = decodeAttrs(Buffer.concat([good, bad]));
    assert.deepEqual([...attrs.keys()], [1]);
    assert.equal(attrU32(Buffer.from([1, 2])), undefined);
    assert.equal(attrString(undefined), undefined);
    assert.equal(attrString(Buffer.from('no-nul')), 'no-nul');
  });
});
