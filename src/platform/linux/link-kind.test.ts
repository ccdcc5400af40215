import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ARPHRD_ETHER, ARPHRD_LOOPBACK, ARPHRD_NONE, ARPHRD_PPP, ARPHRD_RAWIP, classifyLink, formatMac } from './link-kind.js';

describe('classifyLink', () => {
  test('nl80211 decides wifi, whatever else the link says', () => {
    assert.equal(classifyLink({ arphrd: ARPHRD_ETHER, wifi: true }), 'wifi');
    assert.equal(classifyLink({ arphrd: ARPHRD_ETHER, infoKind: 'veth', wifi: true }), 'wifi');
  });

  test('Ethernet frames to a peer: physical NICs and veth/macvlan/vlan/bond are ethernet', () => {
    assert.equal(classifyLink({ arphrd: ARPHRD_ETHER, wifi: false }), 'ethernet');
    for (const infoKind of ['veth', 'macvlan', 'ipvlan', 'vlan', 'bond']) {
      assert.equal(classifyLink({ arphrd: ARPHRD_ETHER, infoKind, wifi: false }), 'ethernet', infoKind);
    }
  });

  test('bridges, dummies, tunnels, loopback and ppp are other', () => {
    for (const infoKind of ['bridge', 'dummy', 'vxlan', 'gretap', 'tun']) {
      assert.equal(classifyLink({ arphrd: ARPHRD_ETHER, infoKind, wifi: false }), 'other', infoKind);
    }
    assert.equal(classifyLink({ arphrd: ARPHRD_LOOPBACK, wifi: false }), 'other');
    assert.equal(classifyLink({ arphrd: ARPHRD_PPP, wifi: false }), 'other');
    assert.equal(classifyLink({ arphrd: ARPHRD_NONE, infoKind: 'tun', wifi: false }), 'other');
  });

  test('wwan links and raw-IP modems are cell', () => {
    assert.equal(classifyLink({ arphrd: ARPHRD_NONE, infoKind: 'wwan', wifi: false }), 'cell');
    assert.equal(classifyLink({ arphrd: ARPHRD_RAWIP, wifi: false }), 'cell');
  });

  test('MACs are lower-case colon hex; other lengths have none', () => {
    assert.equal(formatMac(Buffer.from([0x02, 0xab, 0, 1, 0xcd, 0xff])), '02:ab:00:01:cd:ff');
    assert.equal(formatMac(Buffer.alloc(4)), undefined);
    assert.equal(formatMac(undefined), undefined);
  });
});
