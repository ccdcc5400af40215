/**
 * Event lines as wpa_supplicant 2.x writes them. Formats are copied from hostap's sources
 * (src/common/wpa_ctrl.h for the names; the wpa_msg() calls in wpa_supplicant/events.c,
 * wpa_supplicant.c wpas_auth_failed()/wpas_clear_temp_disabled(), wps_supplicant.c
 * wpas_wps_event_fail()/wpas_wps_timeout(), bss.c, sme.c, rsn_supp/wpa.c) and from
 * captured logs: the lab notes' `CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="Network"
 * auth_failures=1 duration=10 reason=WRONG_KEY`, an Android logcat (`Trying to associate
 * with c0:ff:d4:d3:aa:48 (SSID='NG700' freq=2412 MHz)`, `WPA: Key negotiation completed
 * with f4:f2:6d:22:99:3e [PTK=CCMP GTK=CCMP]`, `CTRL-EVENT-CONNECTED - Connection to
 * f4:f2:6d:22:99:3e completed [id=1 id_str=]`) and wpa_cli sessions.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEventLine, describeEvent, redactEventLine, WpaLevel, type WpaEvent } from './event-decoder.js';

function decode(line: string): WpaEvent {
  return decodeEventLine(line);
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe('envelope', () => {
  test('level prefix, and IFNAME= from the global control socket', () => {
    assert.deepEqual(decode('<3>CTRL-EVENT-SCAN-STARTED '), { level: WpaLevel.INFO, type: 'scan-started' });
    assert.deepEqual(decode('IFNAME=wlan0 <3>CTRL-EVENT-SCAN-RESULTS '), {
      level: 3,
      ifname: 'wlan0',
      type: 'scan-results',
    });
    assert.deepEqual(decode('<2>CTRL-EVENT-SCAN-RESULTS\n'), { level: WpaLevel.DEBUG, type: 'scan-results' });
    assert.deepEqual(decode('<4>CTRL-EVENT-TERMINATING \r\n'), { level: 4, type: 'terminating' });
  });

  test('lines that are not events are malformed, never thrown', () => {
    const bad: unknown[] = [
      '',
      'CTRL-EVENT-CONNECTED - Connection to 02:00:00:00:01:00 completed [id=0 id_str=]',
      '<>CTRL-EVENT-SCAN-STARTED',
      '<9>CTRL-EVENT-SCAN-STARTED',
      '<3>',
      '<3>   ',
      '<3 CTRL-EVENT-SCAN-STARTED',
      '<3>CTRL-EVENT-SCAN-STARTED\nCTRL-EVENT-TERMINATING',
      '<3>CTRL\0-EVENT',
      '<3>{"json": 1}',
      'OK',
      'x'.repeat(5000),
      undefined,
      42,
      { line: '<3>CTRL-EVENT-TERMINATING ' },
    ];
    for (const line of bad) {
      const e = decodeEventLine(line);
      assert.equal(e.type, 'malformed', `for ${JSON.stringify(line)?.slice(0, 60)}`);
    }
  });

  test('unknown events keep only their name', () => {
    const e = decode('<3>CTRL-EVENT-EAP-STARTED EAP authentication started');
    assert.deepEqual(e, { level: 3, type: 'unknown', name: 'CTRL-EVENT-EAP-STARTED' });
    const secret = decode('<3>DPP-CONFOBJ-PASS 50617373776f7264');
    assert.deepEqual(secret, { level: 3, type: 'unknown', name: 'DPP-CONFOBJ-PASS' });
    assert.deepEqual(decode('<3>WPS-AP-AVAILABLE-PBC '), { level: 3, type: 'unknown', name: 'WPS-AP-AVAILABLE-PBC' });
  });
});

describe('connection events', () => {
  test('CTRL-EVENT-CONNECTED', () => {
    // events.c: WPA_EVENT_CONNECTED "- Connection to " MACSTR " completed [id=%d id_str=%s]"
    assert.deepEqual(decode('<3>CTRL-EVENT-CONNECTED - Connection to 02:00:00:00:01:00 completed [id=0 id_str=]'), {
      level: 3,
      type: 'connected',
      bssid: '02:00:00:00:01:00',
      networkId: 0,
      idStr: '',
    });
    // Android / 0.7 form with "(auth)" and an id_str.
    assert.deepEqual(
      decode('<3>CTRL-EVENT-CONNECTED - Connection to F4:F2:6D:22:99:3E completed (auth) [id=1 id_str=home]'),
      { level: 3, type: 'connected', bssid: 'f4:f2:6d:22:99:3e', networkId: 1, idStr: 'home' },
    );
    // Without the brackets it is still a connection.
    assert.deepEqual(decode('<3>CTRL-EVENT-CONNECTED - Connection to 02:00:00:00:01:00 completed'), {
      level: 3,
      type: 'connected',
      bssid: '02:00:00:00:01:00',
    });
  });

  test('CTRL-EVENT-DISCONNECTED', () => {
    // events.c wpa_supplicant_event_disassoc(): "bssid=" MACSTR " reason=%d%s"
    assert.deepEqual(decode('<3>CTRL-EVENT-DISCONNECTED bssid=02:00:00:00:01:00 reason=3 locally_generated=1'), {
      level: 3,
      type: 'disconnected',
      bssid: '02:00:00:00:01:00',
      reasonCode: 3,
      locallyGenerated: true,
    });
    assert.deepEqual(decode('<3>CTRL-EVENT-DISCONNECTED bssid=10:d0:7a:be:47:37 reason=0'), {
      level: 3,
      type: 'disconnected',
      bssid: '10:d0:7a:be:47:37',
      reasonCode: 0,
      locallyGenerated: false,
    });
    // Releases before 1.0.
    assert.deepEqual(decode('<3>CTRL-EVENT-DISCONNECTED - Disconnect event - remove keys'), {
      level: 3,
      type: 'disconnected',
      locallyGenerated: false,
    });
  });

  test('association progress messages', () => {
    // wpa_supplicant.c: "Trying to associate with " MACSTR " (SSID='%s' freq=%d MHz)"
    assert.deepEqual(decode("<3>Trying to associate with c0:ff:d4:d3:aa:48 (SSID='NG700' freq=2412 MHz)"), {
      level: 3,
      type: 'trying-to-associate',
      bssid: 'c0:ff:d4:d3:aa:48',
      freqMhz: 2412,
      ssid: bytes('NG700'),
      ssidText: 'NG700',
    });
    // The SSID is printf_encode'd but `'` is not escaped.
    const quoted = decode("<3>Trying to associate with 02:00:00:00:01:00 (SSID='Bob's \\\"net\\\"' freq=5180 MHz)");
    assert.equal(quoted.type, 'trying-to-associate');
    assert.ok(quoted.type === 'trying-to-associate');
    assert.equal(quoted.ssidText, 'Bob\'s "net"');
    assert.equal(quoted.freqMhz, 5180);
    // Android: "Trying to associate with SSID '%s'"
    assert.deepEqual(decode("<3>Trying to associate with SSID 'NG7005g'"), {
      level: 3,
      type: 'trying-to-associate',
      ssid: bytes('NG7005g'),
      ssidText: 'NG7005g',
    });
    // events.c: "Associated with " MACSTR
    assert.deepEqual(decode('<3>Associated with 02:00:00:00:01:00'), {
      level: 3,
      type: 'associated',
      bssid: '02:00:00:00:01:00',
    });
    // rsn_supp/wpa.c: "WPA: Key negotiation completed with " MACSTR " [PTK=%s GTK=%s]"
    assert.deepEqual(decode('<3>WPA: Key negotiation completed with f4:f2:6d:22:99:3e [PTK=CCMP GTK=CCMP]'), {
      level: 3,
      type: 'key-negotiation-completed',
      bssid: 'f4:f2:6d:22:99:3e',
      pairwiseCipher: 'CCMP',
      groupCipher: 'CCMP',
    });
    assert.deepEqual(decode('<3>WPA: 4-Way Handshake failed - pre-shared key may be incorrect'), {
      level: 3,
      type: 'handshake-failed',
    });
    assert.deepEqual(decode('<3>Authentication with 02:00:00:00:01:00 timed out.'), {
      level: 3,
      type: 'auth-timeout',
      bssid: '02:00:00:00:01:00',
    });
  });

  test('CTRL-EVENT-ASSOC-REJECT and CTRL-EVENT-AUTH-REJECT', () => {
    // events.c: "bssid=" MACSTR " status_code=%u%s%s%s" (" timeout", "=", reason)
    assert.deepEqual(decode('<3>CTRL-EVENT-ASSOC-REJECT bssid=ac:a3:1e:90:a7:00 status_code=17'), {
      level: 3,
      type: 'assoc-reject',
      bssid: 'ac:a3:1e:90:a7:00',
      statusCode: 17,
      timedOut: false,
    });
    assert.deepEqual(decode('<3>CTRL-EVENT-ASSOC-REJECT bssid=02:00:00:00:01:00 status_code=1 timeout=resp'), {
      level: 3,
      type: 'assoc-reject',
      bssid: '02:00:00:00:01:00',
      statusCode: 1,
      timedOut: true,
    });
    assert.equal((decode('<3>CTRL-EVENT-ASSOC-REJECT status_code=1 timeout') as { timedOut: boolean }).timedOut, true);
    // sme.c: MACSTR " auth_type=%u auth_transaction=%u status_code=%u"
    assert.deepEqual(
      decode('<3>CTRL-EVENT-AUTH-REJECT 02:00:00:00:01:00 auth_type=0 auth_transaction=2 status_code=1'),
      { level: 3, type: 'auth-reject', bssid: '02:00:00:00:01:00', authType: 0, authTransaction: 2, statusCode: 1 },
    );
  });
});

describe('network block events', () => {
  test('CTRL-EVENT-SSID-TEMP-DISABLED, reasons as sent', () => {
    // wpas_auth_failed(): "id=%d ssid=\"%s\" auth_failures=%u duration=%d reason=%s"
    assert.deepEqual(
      decode('<3>CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="Network" auth_failures=1 duration=10 reason=WRONG_KEY'),
      {
        level: 3,
        type: 'ssid-temp-disabled',
        networkId: 0,
        reason: 'WRONG_KEY',
        authFailures: 1,
        durationS: 10,
        ssid: bytes('Network'),
        ssidText: 'Network',
      },
    );
    for (const reason of ['AUTH_FAILED', 'CONN_FAILED', 'EAP_FAILURE']) {
      const e = decode(`<3>CTRL-EVENT-SSID-TEMP-DISABLED id=3 ssid="x" auth_failures=2 duration=20 reason=${reason}`);
      assert.ok(e.type === 'ssid-temp-disabled');
      assert.equal(e.reason, reason);
      assert.equal(e.networkId, 3);
      assert.equal(e.durationS, 20);
    }
  });

  test('printf-escaped SSIDs are decoded to bytes', () => {
    // printf_encode: \" \\ \e \n \r \t, other non-printables as \xNN.
    const e = decode(
      '<3>CTRL-EVENT-SSID-TEMP-DISABLED id=1 ssid="caf\\xc3\\xa9 \\"q\\" \\\\ \\x00\\n" auth_failures=2 duration=20 reason=AUTH_FAILED',
    );
    assert.ok(e.type === 'ssid-temp-disabled');
    assert.deepEqual(e.ssid, Uint8Array.from([...bytes('café "q" \\ '), 0x00, 0x0a]));
    assert.equal(e.ssidText, 'café "q" \\ \u0000\n');
    assert.equal(e.reason, 'AUTH_FAILED');
    // An SSID that looks like more arguments stays inside the quotes.
    const tricky = decode('<3>CTRL-EVENT-SSID-TEMP-DISABLED id=2 ssid="a reason=X \\" id=9" auth_failures=1 duration=10 reason=WRONG_KEY');
    assert.ok(tricky.type === 'ssid-temp-disabled');
    assert.equal(tricky.networkId, 2);
    assert.equal(tricky.reason, 'WRONG_KEY');
    assert.equal(tricky.ssidText, 'a reason=X " id=9');
  });

  test('temp-disabled without id or reason, or with an open quote, is malformed', () => {
    for (const line of [
      '<3>CTRL-EVENT-SSID-TEMP-DISABLED ssid="x" reason=WRONG_KEY',
      '<3>CTRL-EVENT-SSID-TEMP-DISABLED id=x ssid="x" reason=WRONG_KEY',
      '<3>CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="x" auth_failures=1',
      '<3>CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="unterminated reason=WRONG_KEY',
    ]) {
      const e = decode(line);
      assert.equal(e.type, 'malformed', line);
      assert.ok(e.type === 'malformed');
      assert.equal(e.name, 'CTRL-EVENT-SSID-TEMP-DISABLED');
    }
  });

  test('CTRL-EVENT-SSID-REENABLED and CTRL-EVENT-NETWORK-NOT-FOUND', () => {
    assert.deepEqual(decode('<3>CTRL-EVENT-SSID-REENABLED id=0 ssid="Network"'), {
      level: 3,
      type: 'ssid-reenabled',
      networkId: 0,
      ssid: bytes('Network'),
      ssidText: 'Network',
    });
    assert.equal(decode('<3>CTRL-EVENT-SSID-REENABLED ssid="Network"').type, 'malformed');
    assert.deepEqual(decode('<3>CTRL-EVENT-NETWORK-NOT-FOUND '), { level: 3, type: 'network-not-found' });
  });

  test('CTRL-EVENT-STATE-CHANGE (Android builds)', () => {
    // "id=%d state=%d BSSID=" MACSTR " SSID=%s"
    assert.deepEqual(decode('<3>CTRL-EVENT-STATE-CHANGE id=0 state=9 BSSID=02:00:00:00:01:00 SSID=My Net'), {
      level: 3,
      type: 'state-change',
      stateCode: 9,
      state: 'COMPLETED',
      networkId: 0,
      bssid: '02:00:00:00:01:00',
      ssid: bytes('My Net'),
      ssidText: 'My Net',
    });
    const e = decode('<3>CTRL-EVENT-STATE-CHANGE id=-1 state=5 BSSID=00:00:00:00:00:00 SSID=');
    assert.ok(e.type === 'state-change');
    assert.equal(e.state, 'ASSOCIATING');
    assert.equal(e.networkId, -1);
    const future = decode('<3>CTRL-EVENT-STATE-CHANGE id=0 state=42 BSSID=00:00:00:00:00:00 SSID=');
    assert.ok(future.type === 'state-change');
    assert.equal(future.state, undefined);
    assert.equal(decode('<3>CTRL-EVENT-STATE-CHANGE id=0').type, 'malformed');
  });

  test('scan and BSS events', () => {
    assert.deepEqual(decode('<3>CTRL-EVENT-SCAN-FAILED ret=-16 retry=1'), { level: 3, type: 'scan-failed', ret: -16 });
    assert.deepEqual(decode('<3>CTRL-EVENT-BSS-ADDED 34 02:00:00:00:01:00'), {
      level: 3,
      type: 'bss-added',
      bssEntryId: 34,
      bssid: '02:00:00:00:01:00',
    });
    assert.deepEqual(decode('<3>CTRL-EVENT-BSS-REMOVED 34 02:00:00:00:01:00'), {
      level: 3,
      type: 'bss-removed',
      bssEntryId: 34,
      bssid: '02:00:00:00:01:00',
    });
    assert.equal(decode('<3>CTRL-EVENT-BSS-ADDED 34').type, 'malformed');
  });
});

describe('WPS events', () => {
  test('PBC, success, timeout, overlap', () => {
    assert.equal(decode('<3>WPS-PBC-ACTIVE ').type, 'wps-pbc-active');
    assert.equal(decode('<3>WPS-PBC-DISABLE ').type, 'wps-pbc-disable');
    assert.equal(decode('<3>WPS-SUCCESS ').type, 'wps-success');
    // wps_supplicant.c wpas_wps_timeout(): WPS_EVENT_TIMEOUT "Requested operation timed out"
    assert.equal(decode('<3>WPS-TIMEOUT Requested operation timed out').type, 'wps-timeout');
    assert.equal(decode('<3>WPS-OVERLAP-DETECTED PBC session overlap').type, 'wps-overlap-detected');
  });

  test('WPS-FAIL with and without a reason', () => {
    // "msg=%d config_error=%d reason=%d (%s)" / "msg=%d config_error=%d"
    assert.deepEqual(decode('<3>WPS-FAIL msg=8 config_error=15 reason=2 (WPS-M2D received)'), {
      level: 3,
      type: 'wps-fail',
      msg: 8,
      configError: 15,
      reasonCode: 2,
    });
    assert.deepEqual(decode('<3>WPS-FAIL msg=11 config_error=18'), { level: 3, type: 'wps-fail', msg: 11, configError: 18 });
  });

  test('WPS-CRED-RECEIVED drops the credential, which carries the network key', () => {
    const line = '<3>WPS-CRED-RECEIVED 100e003f10260001011045000d4e6574776f726b1027004050617373776f7264';
    const e = decode(line);
    assert.deepEqual(e, { level: 3, type: 'wps-cred-received' });
    assert.ok(!JSON.stringify(e).includes('50617373'));
  });
});

describe('redactEventLine and describeEvent', () => {
  test('secret-carrying events lose their arguments', () => {
    assert.equal(redactEventLine('<3>WPS-CRED-RECEIVED 100e003f10260001'), '<3>WPS-CRED-RECEIVED [redacted]');
    assert.equal(redactEventLine('IFNAME=wlan0 <3>DPP-CONFOBJ-PASS 5061'), 'IFNAME=wlan0 <3>DPP-CONFOBJ-PASS [redacted]');
    assert.equal(redactEventLine('<3>WPS-CRED-RECEIVED '), '<3>WPS-CRED-RECEIVED [redacted]');
  });

  test('key-like values are masked anywhere; control characters replaced', () => {
    const line = '<3>P2P-GROUP-CHANGED p2p-wlan0-0 GO ssid="DIRECT-ab" passphrase="hunter2 x" psk=0123abcd go_dev_addr=02:00:00:00:01:00';
    const red = redactEventLine(line);
    assert.ok(!red.includes('hunter2'));
    assert.ok(!red.includes('0123abcd'));
    assert.ok(red.includes('go_dev_addr=02:00:00:00:01:00'));
    assert.equal(redactEventLine('<3>X a\nb\0c'), '<3>X a?b?c');
    assert.ok(redactEventLine('<3>X ' + 'a'.repeat(2000)).length <= 520);
  });

  test('describeEvent is short text', () => {
    assert.equal(
      describeEvent(decode('<3>CTRL-EVENT-DISCONNECTED bssid=02:00:00:00:01:00 reason=3 locally_generated=1')),
      'disconnected locallyGenerated=true bssid=02:00:00:00:01:00 reasonCode=3',
    );
    assert.equal(describeEvent(decode('<3>FOO-BAR 1')), 'unknown event FOO-BAR');
    assert.equal(describeEvent(decode('junk')), 'malformed line (no <level> prefix)');
  });
});
