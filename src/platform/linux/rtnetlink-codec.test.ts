// The `netlink` package's generated rt structs are the oracle: what we encode, it parses to
// the same fields, and what it encodes, we decode.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrStream } from 'netlink/dist/structs.js';
import * as rt from 'netlink/dist/rt/structs.js';
import {
  decodeAddressMessage,
  decodeLinkMessage,
  decodeRouteMessage,
  encodeAddressMessage,
  encodeLinkMessage,
  encodeRouteMessage,
  IFF_LOWER_UP,
  IFF_UP,
} from './rtnetlink-codec.js';
import { encodeAttr, stringAttr } from './netlink-codec.js';

const RTM_NEWLINK = 16;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;

function format(f: (s: AttrStream) => void): Buffer {
  const s = new AttrStream();
  f(s);
  return Buffer.concat(s.bufs);
}

describe('links', () => {
  test('a query by name and a set-up request parse as the package reads them', () => {
    const q = rt.parseMessage(RTM_NEWLINK, encodeLinkMessage({ ifname: 'veth-a0' }));
    assert.equal(q.kind, 'link');
    if (q.kind !== 'link') return;
    assert.equal(q.attrs.ifname, 'veth-a0');
    assert.equal(q.data.index, 0);

    const up = rt.parseMessage(RTM_NEWLINK, encodeLinkMessage({ index: 7, flags: IFF_UP, change: IFF_UP }));
    assert.equal(up.kind, 'link');
    if (up.kind !== 'link') return;
    assert.equal(up.data.index, 7);
    assert.equal(up.data.flags?.up, true);
    assert.equal(up.data.change?.up, true);
    const down = rt.parseMessage(RTM_NEWLINK, encodeLinkMessage({ index: 7, flags: 0, change: IFF_UP }));
    assert.equal(down.kind, 'link');
    if (down.kind !== 'link') return;
    assert.notEqual(down.data.flags?.up, true);
    assert.equal(down.data.change?.up, true);
  });

  test('a kernel link (name, type, flags, MAC, MTU, kind, counters) decodes', () => {
    const linkinfo = stringAttr(1, 'veth');
    const payload = format((s) =>
      rt.formatLinkMessage(
        {
          kind: 'link',
          data: { index: 42, type: 1, flags: { up: true, lowerUp: true, broadcast: true } },
          attrs: {
            ifname: 'eth1',
            address: Buffer.from([2, 0, 0, 0, 0, 0x2a]),
            mtu: 1500,
            linkinfo,
            stats64: { rxPackets: 10n, txPackets: 20n, rxBytes: 3000n, txBytes: 4000n },
          },
        },
        s,
      ),
    );
    const l = decodeLinkMessage(payload);
    assert.ok(l);
    assert.equal(l.index, 42);
    assert.equal(l.type, 1);
    assert.equal(l.flags & IFF_UP, IFF_UP);
    assert.equal(l.flags & IFF_LOWER_UP, IFF_LOWER_UP);
    assert.equal(l.ifname, 'eth1');
    assert.deepEqual([...l.address!], [2, 0, 0, 0, 0, 0x2a]);
    assert.equal(l.mtu, 1500);
    assert.equal(l.infoKind, 'veth');
    assert.deepEqual(l.stats, { rxPackets: 10, txPackets: 20, rxBytes: 3000, txBytes: 4000 });
  });

  test('carrier off and admin down read as clear flags; a short payload is undefined', () => {
    const payload = format((s) => rt.formatLinkMessage({ kind: 'link', data: { index: 3, flags: {} }, attrs: { ifname: 'x' } }, s));
    const l = decodeLinkMessage(payload);
    assert.equal(l?.flags, 0);
    assert.equal(decodeLinkMessage(Buffer.alloc(15)), undefined);
    // A truncated attribute tail is ignored, not thrown.
    const cut = decodeLinkMessage(Buffer.concat([payload.subarray(0, 16), encodeAttr(3, Buffer.from('ab\0')).subarray(0, 5)]));
    assert.equal(cut?.ifname, undefined);
  });
});

describe('addresses', () => {
  test('an add request with broadcast and lifetimes parses as the package reads it', () => {
    const p = encodeAddressMessage({
      family: 2,
      prefixLength: 24,
      scope: 0,
      index: 9,
      local: Buffer.from([10, 1, 2, 3]),
      address: Buffer.from([10, 1, 2, 3]),
      broadcast: Buffer.from([10, 1, 2, 255]),
      cacheInfo: { preferred: 300, valid: 600 },
    });
    const m = rt.parseMessage(RTM_NEWADDR, p);
    assert.equal(m.kind, 'address');
    if (m.kind !== 'address') return;
    assert.equal(m.data.family, 2);
    assert.equal(m.data.prefixlen, 24);
    assert.equal(m.data.index, 9);
    assert.deepEqual([...m.attrs.local!], [10, 1, 2, 3]);
    assert.deepEqual([...m.attrs.address!], [10, 1, 2, 3]);
    assert.deepEqual([...m.attrs.broadcast!], [10, 1, 2, 255]);
    assert.equal(m.attrs.cacheInfo?.ifaPrefered, 300);
    assert.equal(m.attrs.cacheInfo?.ifaValid, 600);
  });

  test('a kernel address decodes; a dump request is the bare header', () => {
    const payload = format((s) =>
      rt.formatAddressMessage(
        {
          kind: 'address',
          data: { family: 2, prefixlen: 16, scope: 253, index: 4 },
          attrs: { local: Buffer.from([192, 168, 0, 7]), broadcast: Buffer.from([192, 168, 255, 255]), cacheInfo: { ifaPrefered: 0xffffffff, ifaValid: 0xffffffff, cstamp: 1, tstamp: 2 } },
        },
        s,
      ),
    );
    assert.deepEqual(decodeAddressMessage(payload), {
      family: 2,
      prefixLength: 16,
      scope: 253,
      index: 4,
      local: Buffer.from([192, 168, 0, 7]),
      broadcast: Buffer.from([192, 168, 255, 255]),
      cacheInfo: { preferred: 0xffffffff, valid: 0xffffffff },
    });
    assert.deepEqual([...encodeAddressMessage({ family: 2 })], [2, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(decodeAddressMessage(Buffer.alloc(7)), undefined);
  });
});

describe('routes', () => {
  test('an add request parses as the package reads it', () => {
    const p = encodeRouteMessage({
      family: 2,
      dstLength: 0,
      table: 254,
      protocol: 4,
      scope: 0,
      type: 1,
      gateway: Buffer.from([10, 0, 0, 1]),
      priority: 1024,
      prefsrc: Buffer.from([10, 0, 0, 5]),
      oif: 12,
      tableId: 254,
    });
    const m = rt.parseMessage(RTM_NEWROUTE, p);
    assert.equal(m.kind, 'route');
    if (m.kind !== 'route') return;
    assert.equal(m.data.family, 2);
    assert.equal(m.data.dstLen, 0);
    assert.equal(m.data.table, 254);
    assert.equal(m.data.protocol, 'STATIC');
    assert.equal(m.data.scope, 'UNIVERSE');
    assert.equal(m.data.type, 'UNICAST');
    assert.deepEqual([...m.attrs.gateway!], [10, 0, 0, 1]);
    assert.equal(m.attrs.priority, 1024);
    assert.deepEqual([...m.attrs.prefsrc!], [10, 0, 0, 5]);
    assert.equal(m.attrs.oif, 12);
    assert.equal(m.attrs.table, 254);
    assert.equal(m.attrs.dst, undefined);
  });

  test('a kernel route decodes; a short payload is undefined', () => {
    const payload = format((s) =>
      rt.formatRouteMessage(
        {
          kind: 'route',
          data: { family: 2, dstLen: 24, table: 254, protocol: 2, scope: 253, type: 1 },
          attrs: { dst: Buffer.from([10, 9, 8, 0]), oif: 3, priority: 100, table: 254 },
        },
        s,
      ),
    );
    assert.deepEqual(decodeRouteMessage(payload), {
      family: 2,
      dstLength: 24,
      table: 254,
      protocol: 2,
      scope: 253,
      type: 1,
      dst: Buffer.from([10, 9, 8, 0]),
      oif: 3,
      priority: 100,
      tableId: 254,
    });
    assert.equal(decodeRouteMessage(Buffer.alloc(11)), undefined);
  });
});
