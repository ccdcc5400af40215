import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIpv4, parseIpv4 } from '../../core/ipv4.js';
import { broadcastOf, ipv4Bytes, ipv4FromBytes, networkOf, requireIpv4, requirePrefixLength } from './ipv4.js';
import { isNicupError } from '../../errors.js';

test('dotted quads parse strictly and round-trip', () => {
  assert.equal(parseIpv4('192.168.77.1'), 0xc0a84d01);
  assert.equal(formatIpv4(0xc0a84d01), '192.168.77.1');
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-4', ' 1.2.3.4', '1.2.3.4 ', '0x1.2.3.4', '']) {
    assert.equal(parseIpv4(bad), undefined, bad);
  }
  assert.equal(ipv4FromBytes(ipv4Bytes(0xffffffff)), '255.255.255.255');
  assert.equal(ipv4FromBytes(Buffer.alloc(16)), undefined, 'not IPv4');
});

test('broadcast and network follow the prefix; /31 and /32 have no broadcast (RFC 3021)', () => {
  const a = parseIpv4('10.1.2.3')!;
  assert.equal(formatIpv4(broadcastOf(a, 24)!), '10.1.2.255');
  assert.equal(formatIpv4(broadcastOf(a, 8)!), '10.255.255.255');
  assert.equal(formatIpv4(broadcastOf(a, 0)!), '255.255.255.255');
  assert.equal(broadcastOf(a, 31), undefined);
  assert.equal(broadcastOf(a, 32), undefined);
  assert.equal(formatIpv4(networkOf(a, 20)), '10.1.0.0');
  assert.equal(formatIpv4(networkOf(a, 0)), '0.0.0.0');
});

test('checks name the field', () => {
  assert.throws(() => requireIpv4('x', 'route.gateway'), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'route.gateway');
  assert.throws(() => requireIpv4(7, 'address'), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT'));
  assert.throws(() => requirePrefixLength(24.5, 'p'), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'p');
  assert.equal(requirePrefixLength(0, 'p'), 0);
});
