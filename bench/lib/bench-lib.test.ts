// The benchmark's pure helpers: order statistics, the rtnetlink event decoder (the yardstick
// every bring-up is measured with), axis ticks. Run: node scripts/run-tests.mjs bench/lib/bench-lib.test.ts
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, summarize } from './stats.js';
import { decodeKernelEvents } from './rtnl.js';
import { linearTicks, logTicks, fmtMs } from './svg.js';
import { encodeAttr, encodeMessage } from '../../src/platform/linux/netlink-codec.js';

describe('stats', () => {
  test('percentile interpolates between order statistics (type 7)', () => {
    const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(percentile(s, 0.5), 5.5);
    assert.equal(percentile(s, 0), 1);
    assert.equal(percentile(s, 1), 10);
    assert.ok(Math.abs(percentile(s, 0.95) - 9.55) < 1e-9);
  });

  test('summarize sorts, drops NaN and reports n', () => {
    const r = summarize([5, NaN, 1, 3]);
    assert.deepEqual([r.n, r.min, r.median, r.max, r.mean], [3, 1, 3, 5, 3]);
    assert.equal(summarize([]).n, 0);
    assert.ok(Number.isNaN(summarize([]).median));
  });
});

describe('decodeKernelEvents', () => {
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b;
  };

  test('link: carrier from IFF_LOWER_UP, admin from IFF_UP, deletion', () => {
    const link = (type: number, index: number, flags: number) => {
      const p = Buffer.alloc(16);
      p.writeInt32LE(index, 4);
      p.writeUInt32LE(flags, 8);
      return encodeMessage({ type, flags: 0, seq: 0, port: 0, payload: p });
    };
    const events = decodeKernelEvents(Buffer.concat([link(16, 7, 0x10001), link(17, 8, 0)]), 42);
    assert.deepEqual(events, [
      { kind: 'link', index: 7, up: true, carrier: true, deleted: false, atMs: 42 },
      { kind: 'link', index: 8, up: false, carrier: false, deleted: true, atMs: 42 },
    ]);
  });

  test('IPv4 address added and removed; IPv6 ignored', () => {
    const addr = (type: number, family: number, index: number) => {
      const p = Buffer.alloc(8);
      p.writeUInt8(family, 0);
      p.writeUInt32LE(index, 4);
      return encodeMessage({ type, flags: 0, seq: 0, port: 0, payload: p });
    };
    const events = decodeKernelEvents(Buffer.concat([addr(20, 2, 5), addr(20, 10, 5), addr(21, 2, 5)]), 1);
    assert.deepEqual(events, [
      { kind: 'address', index: 5, added: true, atMs: 1 },
      { kind: 'address', index: 5, added: false, atMs: 1 },
    ]);
  });

  test('only main-table IPv4 default routes with an output interface count', () => {
    const route = (dstLen: number, table: number, oif: number | undefined, tableAttr?: number) => {
      const head = Buffer.alloc(12);
      head.writeUInt8(2, 0);
      head.writeUInt8(dstLen, 1);
      head.writeUInt8(table, 4);
      const attrs = [oif === undefined ? Buffer.alloc(0) : encodeAttr(4, u32(oif)), tableAttr === undefined ? Buffer.alloc(0) : encodeAttr(15, u32(tableAttr))];
      return encodeMessage({ type: 24, flags: 0, seq: 0, port: 0, payload: Buffer.concat([head, ...attrs]) });
    };
    const events = decodeKernelEvents(
      Buffer.concat([route(0, 254, 9), route(24, 254, 9), route(0, 255, 9), route(0, 254, undefined), route(0, 252, 9, 254), route(0, 254, 9, 100)]),
      3,
    );
    assert.deepEqual(events, [
      { kind: 'default-route', index: 9, added: true, atMs: 3 },
      { kind: 'default-route', index: 9, added: true, atMs: 3 },
    ]);
  });

  test('a truncated datagram yields what came before the damage', () => {
    const p = Buffer.alloc(8);
    p.writeUInt8(2, 0);
    const good = encodeMessage({ type: 20, flags: 0, seq: 0, port: 0, payload: p });
    assert.equal(decodeKernelEvents(Buffer.concat([good, good.subarray(0, 10)]), 0).length, 1);
  });
});

describe('chart helpers', () => {
  test('linear ticks start at 0 and cover the maximum with round steps', () => {
    assert.deepEqual(linearTicks(9), [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(linearTicks(0), [0, 1]);
  });

  test('log ticks are 1-2-5 inside the range', () => {
    assert.deepEqual(logTicks(1, 60), [1, 2, 5, 10, 20, 50]);
  });

  test('durations read naturally', () => {
    assert.equal(fmtMs(0.4213), '0.421 ms');
    assert.equal(fmtMs(13.14), '13.1 ms');
    assert.equal(fmtMs(1634), '1.63 s');
    assert.equal(fmtMs(Number.NaN), '–');
  });
});
