/**
 * Replies shaped like wpa_supplicant 2.10's (ctrl_iface.c wpa_supplicant_ctrl_iface_status
 * and wpa_supplicant_ctrl_iface_scan_results; the SCAN_RESULTS header and tab-separated
 * rows as wpa_cli prints them).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeNetworkIdReply,
  decodeScanResults,
  decodeSimpleReply,
  decodeStatus,
  isJoiningState,
  isWpaState,
  WPA_STATES,
  wpaStateFromCode,
} from './status-decoder.js';

const COMPLETED = [
  'bssid=02:00:00:00:01:00',
  'freq=2412',
  'ssid=Network',
  'id=0',
  'mode=station',
  'wifi_generation=4',
  'pairwise_cipher=CCMP',
  'group_cipher=CCMP',
  'key_mgmt=WPA2-PSK',
  'wpa_state=COMPLETED',
  'ip_address=192.168.77.23',
  'p2p_device_address=02:00:00:00:00:00',
  'address=02:00:00:00:00:00',
  'uuid=2b5e3b1c-0f6b-5d6f-9a43-5b1f9e0c6a2e',
  'ieee80211ac=1',
  '',
].join('\n');

describe('STATUS', () => {
  test('a connected station', () => {
    const r = decodeStatus(COMPLETED);
    assert.ok(r.ok);
    const s = r.value;
    assert.equal(s.wpaState, 'COMPLETED');
    assert.equal(s.bssid, '02:00:00:00:01:00');
    assert.equal(s.freqMhz, 2412);
    assert.equal(s.ssidText, 'Network');
    assert.deepEqual(s.ssid, new TextEncoder().encode('Network'));
    assert.equal(s.networkId, 0);
    assert.equal(s.mode, 'station');
    assert.equal(s.keyMgmt, 'WPA2-PSK');
    assert.equal(s.pairwiseCipher, 'CCMP');
    assert.equal(s.groupCipher, 'CCMP');
    assert.equal(s.ipAddress, '192.168.77.23');
    assert.equal(s.address, '02:00:00:00:00:00');
    assert.equal(s.fields.get('ieee80211ac'), '1');
    assert.equal(s.malformedLines, 0);
  });

  test('a disconnected station has no bssid or ssid', () => {
    const r = decodeStatus('wpa_state=DISCONNECTED\np2p_device_address=02:00:00:00:00:00\naddress=02:00:00:00:00:00\n');
    assert.ok(r.ok);
    assert.equal(r.value.wpaState, 'DISCONNECTED');
    assert.equal(r.value.bssid, undefined);
    assert.equal(r.value.ssid, undefined);
    assert.equal(r.value.networkId, undefined);
  });

  test('every wpa_state name', () => {
    for (const state of WPA_STATES) {
      const r = decodeStatus(`wpa_state=${state}\n`);
      assert.ok(r.ok);
      assert.equal(r.value.wpaState, state);
    }
  });

  test('an unknown state is kept as text; STATUS without wpa_state or FAIL is not ok', () => {
    const r = decodeStatus('wpa_state=FUTURE_STATE\n');
    assert.ok(r.ok);
    assert.equal(r.value.wpaState, undefined);
    assert.equal(r.value.wpaStateText, 'FUTURE_STATE');
    for (const bad of ['', 'FAIL\n', 'FAIL-BUSY\n', 'UNKNOWN COMMAND\n', 'bssid=02:00:00:00:01:00\n', undefined, 7]) {
      assert.equal(decodeStatus(bad).ok, false);
    }
  });

  test('printf-escaped SSID, CRLF endings and junk lines', () => {
    const r = decodeStatus('wpa_state=COMPLETED\r\nssid=caf\\xc3\\xa9 \\"x\\"\r\nnot a field\r\n=x\r\nfreq=24x12\r\n');
    assert.ok(r.ok);
    assert.equal(r.value.ssidText, 'café "x"');
    assert.equal(r.value.freqMhz, undefined);
    assert.equal(r.value.malformedLines, 2);
  });

  test('values may contain "="', () => {
    const r = decodeStatus('wpa_state=COMPLETED\nid_str=a=b\n');
    assert.ok(r.ok);
    assert.equal(r.value.idStr, 'a=b');
  });
});

describe('SCAN_RESULTS', () => {
  test('rows with flags and escaped SSIDs', () => {
    const reply = [
      'bssid / frequency / signal level / flags / ssid',
      '34:31:c4:e1:d3:97\t2462\t-60\t[WPA2-PSK-CCMP][ESS]\tCanto do Chimarrao',
      'cc:ce:1e:ca:d3:72\t2462\t-62\t[WPA2-PSK-CCMP][WPS][ESS]\tFRITZ!Box 7430 LF',
      '0c:80:63:e1:78:0c\t2422\t-83\t[WPA-PSK-CCMP+TKIP][WPA2-PSK-CCMP+TKIP][ESS]\tWeird\\tNet\\x00',
      '02:00:00:00:01:00\t5180\t-40\t[ESS]\t',
      '',
    ].join('\n');
    const r = decodeScanResults(reply);
    assert.ok(r.ok);
    const rows = r.value.results;
    assert.equal(rows.length, 4);
    assert.deepEqual(
      { ...rows[0], ssid: undefined },
      { bssid: '34:31:c4:e1:d3:97', freqMhz: 2462, signal: -60, flags: ['WPA2-PSK-CCMP', 'ESS'], ssid: undefined, ssidText: 'Canto do Chimarrao' },
    );
    assert.deepEqual(rows[1]?.flags, ['WPA2-PSK-CCMP', 'WPS', 'ESS']);
    assert.deepEqual(rows[2]?.ssid, Uint8Array.from([...new TextEncoder().encode('Weird\tNet'), 0]));
    assert.equal(rows[3]?.ssid.length, 0);
    assert.equal(rows[3]?.freqMhz, 5180);
    assert.equal(r.value.malformedLines, 0);
  });

  test('an empty table, bad rows counted, a reply without header refused', () => {
    const empty = decodeScanResults('bssid / frequency / signal level / flags / ssid\n');
    assert.ok(empty.ok);
    assert.equal(empty.value.results.length, 0);
    const junk = decodeScanResults(
      'bssid / frequency / signal level / flags / ssid\nnot a row\n02:00:00:00:01:00\tx\t-1\t[ESS]\tA\n02:00:00:00:01:00\t2412\t-1\tESS\tA\n',
    );
    assert.ok(junk.ok);
    assert.equal(junk.value.results.length, 0);
    assert.equal(junk.value.malformedLines, 3);
    assert.equal(decodeScanResults('FAIL\n').ok, false);
    assert.equal(decodeScanResults(null).ok, false);
  });
});

describe('short replies and states', () => {
  test('OK, PONG, FAIL, FAIL-BUSY, UNKNOWN COMMAND', () => {
    assert.deepEqual(decodeSimpleReply('OK\n'), { kind: 'ok' });
    assert.deepEqual(decodeSimpleReply('PONG\n'), { kind: 'pong' });
    assert.deepEqual(decodeSimpleReply('FAIL\n'), { kind: 'fail' });
    assert.deepEqual(decodeSimpleReply('FAIL-BUSY\n'), { kind: 'fail', detail: 'BUSY' });
    assert.deepEqual(decodeSimpleReply('UNKNOWN COMMAND\n'), { kind: 'unknown-command' });
    assert.deepEqual(decodeSimpleReply('0\n'), { kind: 'other' });
    assert.deepEqual(decodeSimpleReply(undefined), { kind: 'other' });
  });

  test('ADD_NETWORK ids', () => {
    assert.equal(decodeNetworkIdReply('0\n'), 0);
    assert.equal(decodeNetworkIdReply('12\n'), 12);
    for (const bad of ['FAIL\n', '-1\n', '1 2\n', '', '99999999999\n', undefined]) assert.equal(decodeNetworkIdReply(bad), undefined);
  });

  test('state numbers follow enum wpa_states', () => {
    assert.equal(wpaStateFromCode(0), 'DISCONNECTED');
    assert.equal(wpaStateFromCode(1), 'INTERFACE_DISABLED');
    assert.equal(wpaStateFromCode(3), 'SCANNING');
    assert.equal(wpaStateFromCode(7), '4WAY_HANDSHAKE');
    assert.equal(wpaStateFromCode(9), 'COMPLETED');
    assert.equal(wpaStateFromCode(10), undefined);
    assert.equal(wpaStateFromCode(-1), undefined);
    assert.equal(isWpaState('COMPLETED'), true);
    assert.equal(isWpaState('completed'), false);
    assert.deepEqual(
      WPA_STATES.filter(isJoiningState),
      ['AUTHENTICATING', 'ASSOCIATING', 'ASSOCIATED', '4WAY_HANDSHAKE', 'GROUP_HANDSHAKE'],
    );
  });
});
