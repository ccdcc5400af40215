/**
 * Walks through the station machine with event lines in the order wpa_supplicant 2.10
 * sends them (see event-decoder.test.ts for where each format comes from). Time is
 * injected: each input advances a fake clock by 100 ms.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetState, Reason } from '../../states.js';
import { decodeStatus } from './status-decoder.js';
import {
  createStation,
  step,
  type StationAction,
  type StationConfig,
  type StationInput,
  type StationState,
} from './station-machine.js';

const AP = '02:00:00:00:01:00';
const L = {
  scanStarted: '<3>CTRL-EVENT-SCAN-STARTED ',
  scanResults: '<3>CTRL-EVENT-SCAN-RESULTS ',
  trying: `<3>Trying to associate with ${AP} (SSID='Network' freq=2412 MHz)`,
  associated: `<3>Associated with ${AP}`,
  keyDone: `<3>WPA: Key negotiation completed with ${AP} [PTK=CCMP GTK=CCMP]`,
  connected: (id = 0) => `<3>CTRL-EVENT-CONNECTED - Connection to ${AP} completed [id=${id} id_str=]`,
  disconnected: (reason = 3, local = false) =>
    `<3>CTRL-EVENT-DISCONNECTED bssid=${AP} reason=${reason}${local ? ' locally_generated=1' : ''}`,
  handshakeFailed: '<3>WPA: 4-Way Handshake failed - pre-shared key may be incorrect',
  tempDisabled: (reason: string, failures = 1, id = 0) =>
    `<3>CTRL-EVENT-SSID-TEMP-DISABLED id=${id} ssid="Network" auth_failures=${failures} duration=${10 * failures} reason=${reason}`,
  reenabled: (id = 0) => `<3>CTRL-EVENT-SSID-REENABLED id=${id} ssid="Network"`,
  notFound: '<3>CTRL-EVENT-NETWORK-NOT-FOUND ',
  assocReject: `<3>CTRL-EVENT-ASSOC-REJECT bssid=${AP} status_code=17`,
  terminating: '<3>CTRL-EVENT-TERMINATING ',
};

interface Run {
  state: StationState;
  actions: StationAction[];
  nowMs: number;
}

function run(config: StationConfig = {}): Run {
  return { state: createStation(config), actions: [], nowMs: 1000 };
}

/** Feeds inputs (strings are event lines); returns the actions of this batch only. */
function feed(r: Run, ...inputs: (StationInput | string)[]): StationAction[] {
  const batch: StationAction[] = [];
  for (const input of inputs) {
    r.nowMs += 100;
    const res = step(r.state, typeof input === 'string' ? { type: 'line', line: input } : input, r.nowMs);
    r.state = res.state;
    batch.push(...res.actions);
  }
  r.actions.push(...batch);
  return batch;
}

/** The actions that matter to the driver (no logs), in a compact form. */
function effects(actions: StationAction[]): string[] {
  return actions.flatMap((a) => {
    switch (a.type) {
      case 'state':
        return [`state ${a.value} ${a.reason}`];
      case 'command':
        return [`cmd ${a.command.redacted}`];
      case 'link-up':
        return [`link-up ${a.bssid ?? '-'} ${a.networkId ?? '-'}`];
      case 'link-down':
        return ['link-down'];
      case 'log':
        return [];
    }
  });
}

function status(text: string): StationInput {
  const r = decodeStatus(text);
  assert.ok(r.ok);
  return { type: 'status', status: r.value };
}

describe('happy path', () => {
  test('start, scan, join, link up', () => {
    const r = run();
    assert.deepEqual(effects(feed(r, { type: 'start', networkId: 0 })), [
      'cmd SELECT_NETWORK 0',
      `state ${NetState.WIFI_SCANNING} ${Reason.WIFI_SCANNING}`,
    ]);
    assert.deepEqual(effects(feed(r, L.scanStarted, L.scanResults)), []);
    assert.deepEqual(effects(feed(r, L.trying)), [`state ${NetState.WIFI_JOINING} ${Reason.WIFI_ASSOCIATING}`]);
    assert.deepEqual(effects(feed(r, L.associated, L.keyDone, L.trying)), []);
    assert.deepEqual(effects(feed(r, L.connected(0))), [
      `state ${NetState.WIFI_LINK_UP} ${Reason.WIFI_ASSOCIATED}`,
      `link-up ${AP} 0`,
    ]);
    assert.equal(r.state.phase, 'link-up');
    assert.equal(r.state.netState, NetState.WIFI_LINK_UP);
    assert.equal(r.state.bssid, AP);
    assert.equal(r.state.sinceMs, r.nowMs);
    // A repeated CONNECTED (re-keying, roaming) is not a new state.
    assert.deepEqual(effects(feed(r, L.connected(0))), []);
  });

  test('state changes are logged as "X -> Y" with the elapsed time', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 }, L.trying);
    const logs = r.actions.filter((a) => a.type === 'log').map((a) => (a.type === 'log' ? a.message : ''));
    assert.ok(logs.includes('wifi start -> WIFI_SCANNING (wifi-scanning)'));
    assert.ok(logs.includes('wifi WIFI_SCANNING -> WIFI_JOINING (wifi-associating) after 100 ms'));
  });

  test('the input state is never modified', () => {
    const s0 = createStation();
    const frozen = structuredClone(s0);
    step(s0, { type: 'start', networkId: 0 }, 5);
    assert.deepEqual(s0, frozen);
  });
});

describe('wrong key', () => {
  test('two WRONG_KEY disables: unhappy, DISABLE_NETWORK; retry re-enables', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 }, L.scanStarted, L.scanResults);
    // First attempt: the order of wpa_supplicant_event_disassoc() then _finish().
    assert.deepEqual(effects(feed(r, L.trying, L.associated, L.handshakeFailed, L.disconnected(15), L.tempDisabled('WRONG_KEY', 1))), [
      `state ${NetState.WIFI_JOINING} ${Reason.WIFI_ASSOCIATING}`,
      `state ${NetState.WIFI_SCANNING} ${Reason.WIFI_DISCONNECTED}`,
    ]);
    assert.equal(r.state.wrongKeyCount, 1);
    // The supplicant waits `duration`, re-enables, tries again and fails again.
    assert.deepEqual(
      effects(feed(r, L.reenabled(), L.scanStarted, L.scanResults, L.trying, L.associated, L.disconnected(15), L.tempDisabled('WRONG_KEY', 2))),
      [
        `state ${NetState.WIFI_JOINING} ${Reason.WIFI_ASSOCIATING}`,
        `state ${NetState.WIFI_SCANNING} ${Reason.WIFI_DISCONNECTED}`,
        'cmd DISABLE_NETWORK 0',
        `state ${NetState.WIFI_STOPPED_UNHAPPY} ${Reason.WRONG_KEY}`,
      ],
    );
    assert.equal(r.state.disabledByUs, true);
    // No silent retries: what follows the disable changes nothing.
    assert.deepEqual(effects(feed(r, L.disconnected(3, true), L.scanStarted, L.notFound, L.notFound, L.notFound)), []);
    assert.deepEqual(effects(feed(r, { type: 'retry' })), [
      'cmd ENABLE_NETWORK 0',
      `state ${NetState.WIFI_SCANNING} ${Reason.RETRY}`,
    ]);
    assert.equal(r.state.wrongKeyCount, 0);
    assert.equal(r.state.disabledByUs, false);
    assert.deepEqual(effects(feed(r, L.trying, L.connected(0))), [
      `state ${NetState.WIFI_JOINING} ${Reason.WIFI_ASSOCIATING}`,
      `state ${NetState.WIFI_LINK_UP} ${Reason.WIFI_ASSOCIATED}`,
      `link-up ${AP} 0`,
    ]);
  });

  test('TEMP-DISABLED before DISCONNECTED, and a limit of 1', () => {
    const r = run({ wrongKeyLimit: 1 });
    feed(r, { type: 'start', networkId: 4 }, L.trying, L.associated);
    assert.deepEqual(effects(feed(r, L.tempDisabled('WRONG_KEY', 1, 4), L.disconnected(15))), [
      'cmd DISABLE_NETWORK 4',
      `state ${NetState.WIFI_STOPPED_UNHAPPY} ${Reason.WRONG_KEY}`,
    ]);
  });

  test('events about another network are ignored', () => {
    const r = run({ wrongKeyLimit: 1 });
    feed(r, { type: 'start', networkId: 0 }, L.trying);
    assert.deepEqual(effects(feed(r, L.tempDisabled('WRONG_KEY', 1, 7), L.connected(7))), []);
    assert.equal(r.state.stats.ignored, 2);
    assert.equal(r.state.phase, 'joining');
  });

  test('a successful connection resets the count', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 }, L.trying, L.disconnected(15), L.tempDisabled('WRONG_KEY', 1));
    feed(r, L.trying, L.connected(0), L.disconnected(4), L.trying, L.disconnected(15));
    assert.deepEqual(effects(feed(r, L.tempDisabled('WRONG_KEY', 1))), []);
    assert.equal(r.state.phase, 'scanning');
  });
});

describe('AP gone and back', () => {
  test('link loss goes back to scanning with ap-lost; the supplicant reconnects', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 }, L.trying, L.connected(0));
    assert.deepEqual(effects(feed(r, L.disconnected(4))), ['link-down', `state ${NetState.WIFI_SCANNING} ${Reason.AP_LOST}`]);
    assert.deepEqual(effects(feed(r, L.scanStarted, L.scanResults, L.trying, L.keyDone, L.connected(0))), [
      `state ${NetState.WIFI_JOINING} ${Reason.WIFI_ASSOCIATING}`,
      `state ${NetState.WIFI_LINK_UP} ${Reason.WIFI_ASSOCIATED}`,
      `link-up ${AP} 0`,
    ]);
  });

  test('network not found after notFoundLimit scans: unhappy, then recovers when the AP returns', () => {
    const r = run({ notFoundLimit: 3 });
    feed(r, { type: 'start', networkId: 0 }, L.trying, L.connected(0), L.disconnected(4));
    assert.deepEqual(effects(feed(r, L.scanResults, L.notFound, L.scanResults, L.notFound)), []);
    assert.deepEqual(effects(feed(r, L.scanResults, L.notFound)), [
      `state ${NetState.WIFI_STOPPED_UNHAPPY} ${Reason.NETWORK_NOT_FOUND}`,
    ]);
    assert.deepEqual(effects(feed(r, L.notFound, L.notFound)), []);
    assert.deepEqual(effects(feed(r, L.trying, L.connected(0))), [
      `state ${NetState.WIFI_JOINING} ${Reason.WIFI_ASSOCIATING}`,
      `state ${NetState.WIFI_LINK_UP} ${Reason.WIFI_ASSOCIATED}`,
      `link-up ${AP} 0`,
    ]);
    assert.equal(r.state.notFoundCount, 0);
  });

  test('retry after network-not-found selects the network again', () => {
    const r = run({ notFoundLimit: 1 });
    feed(r, { type: 'start', networkId: 2 }, L.notFound);
    assert.equal(r.state.reason, Reason.NETWORK_NOT_FOUND);
    assert.deepEqual(effects(feed(r, { type: 'retry' })), ['cmd SELECT_NETWORK 2', `state ${NetState.WIFI_SCANNING} ${Reason.RETRY}`]);
  });
});

describe('rejections and authentication failures', () => {
  test('assoc reject, CONN_FAILED, re-enable', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 }, L.trying);
    assert.deepEqual(effects(feed(r, L.assocReject)), [`state ${NetState.WIFI_SCANNING} ${Reason.ASSOC_REJECTED}`]);
    assert.deepEqual(effects(feed(r, L.trying, L.assocReject, L.tempDisabled('CONN_FAILED', 1))), [
      `state ${NetState.WIFI_JOINING} ${Reason.WIFI_ASSOCIATING}`,
      `state ${NetState.WIFI_SCANNING} ${Reason.ASSOC_REJECTED}`,
      `state ${NetState.WIFI_STOPPED_UNHAPPY} ${Reason.ASSOC_REJECTED}`,
    ]);
    assert.deepEqual(effects(feed(r, L.reenabled())), [`state ${NetState.WIFI_SCANNING} ${Reason.RETRY}`]);
  });

  test('AUTH_FAILED is unhappy at once; retry selects the network', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 }, L.trying);
    assert.deepEqual(effects(feed(r, `<3>CTRL-EVENT-AUTH-REJECT ${AP} auth_type=0 auth_transaction=2 status_code=1`)), [
      `state ${NetState.WIFI_SCANNING} ${Reason.AUTH_FAILED}`,
    ]);
    assert.deepEqual(effects(feed(r, L.tempDisabled('AUTH_FAILED', 1))), [
      `state ${NetState.WIFI_STOPPED_UNHAPPY} ${Reason.AUTH_FAILED}`,
    ]);
    // The reason changes while unhappy: reported again.
    assert.deepEqual(effects(feed(r, L.tempDisabled('CONN_FAILED', 2))), [
      `state ${NetState.WIFI_STOPPED_UNHAPPY} ${Reason.ASSOC_REJECTED}`,
    ]);
    assert.deepEqual(effects(feed(r, { type: 'retry' })), ['cmd SELECT_NETWORK 0', `state ${NetState.WIFI_SCANNING} ${Reason.RETRY}`]);
  });
});

describe('WPS', () => {
  const wpsJoin = [
    '<3>WPS-PBC-ACTIVE ',
    L.scanStarted,
    L.scanResults,
    '<3>WPS-AP-AVAILABLE-PBC ',
    L.trying,
    L.associated,
    '<3>CTRL-EVENT-EAP-STARTED EAP authentication started',
    '<3>CTRL-EVENT-EAP-METHOD EAP vendor 14122 method 1 (WSC) selected',
    '<3>WPS-CRED-RECEIVED 100e003f10260001011045000d4e6574776f726b',
  ];

  test('success: WPSING, then joining with the received credential, link up on the new network', () => {
    const r = run();
    assert.deepEqual(effects(feed(r, { type: 'start-wps' })), ['cmd WPS_PBC', `state ${NetState.WIFI_WPSING} ${Reason.WPS_STARTED}`]);
    assert.deepEqual(effects(feed(r, ...wpsJoin)), []);
    assert.deepEqual(effects(feed(r, '<3>WPS-SUCCESS ')), [`state ${NetState.WIFI_JOINING} ${Reason.WIFI_ASSOCIATING}`]);
    assert.deepEqual(
      effects(feed(r, '<3>CTRL-EVENT-EAP-FAILURE EAP authentication failed', L.disconnected(3, true), L.trying, L.keyDone, L.connected(1))),
      [`state ${NetState.WIFI_LINK_UP} ${Reason.WIFI_ASSOCIATED}`, `link-up ${AP} 1`],
    );
    assert.equal(r.state.networkId, 1);
    assert.equal(r.state.wps, false);
    // From now on it is an ordinary network: losing it is ap-lost.
    assert.deepEqual(effects(feed(r, L.disconnected(4))), ['link-down', `state ${NetState.WIFI_SCANNING} ${Reason.AP_LOST}`]);
  });

  test('failure and overlap cancel WPS; retry starts it again with the same BSSID', () => {
    const r = run();
    feed(r, { type: 'start-wps', bssid: AP }, ...wpsJoin.slice(0, 6));
    assert.equal(effects(r.actions)[0], `cmd WPS_PBC ${AP}`);
    assert.deepEqual(effects(feed(r, '<3>WPS-FAIL msg=8 config_error=15 reason=2 (WPS-M2D received)')), [
      'cmd WPS_CANCEL',
      `state ${NetState.WIFI_STOPPED_UNHAPPY} ${Reason.WPS_FAILED}`,
    ]);
    assert.deepEqual(effects(feed(r, L.trying)), []);
    assert.deepEqual(effects(feed(r, { type: 'retry' })), [`cmd WPS_PBC ${AP}`, `state ${NetState.WIFI_WPSING} ${Reason.WPS_STARTED}`]);
    assert.deepEqual(effects(feed(r, '<3>WPS-OVERLAP-DETECTED PBC session overlap')), [
      'cmd WPS_CANCEL',
      `state ${NetState.WIFI_STOPPED_UNHAPPY} ${Reason.WPS_FAILED}`,
    ]);
  });

  test('timeout: the supplicant already stopped, nothing to cancel', () => {
    const r = run();
    feed(r, { type: 'start-wps' }, '<3>WPS-PBC-ACTIVE ', L.scanResults, L.scanResults);
    assert.deepEqual(effects(feed(r, '<3>WPS-TIMEOUT Requested operation timed out')), [
      `state ${NetState.WIFI_STOPPED_UNHAPPY} ${Reason.WPS_TIMEOUT}`,
    ]);
  });

  test('WPS events outside WPS change nothing', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 });
    assert.deepEqual(effects(feed(r, '<3>WPS-SUCCESS ', '<3>WPS-FAIL msg=8 config_error=15', '<3>WPS-TIMEOUT ')), []);
  });

  test('stop during WPS cancels it', () => {
    const r = run();
    feed(r, { type: 'start-wps' });
    assert.deepEqual(effects(feed(r, { type: 'stop' })), ['cmd WPS_CANCEL', 'cmd DISCONNECT', `state ${NetState.WIFI_STOPPED} ${Reason.CLOSED_BY_USER}`]);
  });
});

describe('the supplicant goes away', () => {
  test('CTRL-EVENT-TERMINATING while up: link down, unhappy, later lines ignored', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 }, L.trying, L.connected(0));
    assert.deepEqual(effects(feed(r, L.terminating)), ['link-down', `state ${NetState.WIFI_STOPPED_UNHAPPY} ${Reason.SUPPLICANT_DIED}`]);
    const ignoredBefore = r.state.stats.ignored;
    assert.deepEqual(effects(feed(r, L.disconnected(3, true), L.connected(0), { type: 'supplicant-gone' })), []);
    assert.equal(r.state.stats.ignored, ignoredBefore + 2);
    // retry cannot help without a new supplicant; the driver restarts it and sends start.
    assert.deepEqual(effects(feed(r, { type: 'retry' })), []);
    assert.deepEqual(effects(feed(r, { type: 'start', networkId: 0 })), ['cmd SELECT_NETWORK 0', `state ${NetState.WIFI_SCANNING} ${Reason.WIFI_SCANNING}`]);
  });

  test('socket closed while joining; stop then sends nothing', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 }, L.trying);
    assert.deepEqual(effects(feed(r, { type: 'supplicant-gone' })), [`state ${NetState.WIFI_STOPPED_UNHAPPY} ${Reason.SUPPLICANT_DIED}`]);
    assert.deepEqual(effects(feed(r, { type: 'stop' })), [`state ${NetState.WIFI_STOPPED} ${Reason.CLOSED_BY_USER}`]);
  });
});

describe('STATUS polls', () => {
  test('sync to a state reached while events were missed; idempotent', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 });
    const completed = status(`bssid=${AP}\nfreq=2412\nssid=Network\nid=0\nwpa_state=COMPLETED\n`);
    assert.deepEqual(effects(feed(r, completed)), [`state ${NetState.WIFI_LINK_UP} ${Reason.WIFI_ASSOCIATED}`, `link-up ${AP} 0`]);
    assert.deepEqual(effects(feed(r, completed)), []);
    assert.deepEqual(effects(feed(r, status('wpa_state=SCANNING\n'))), ['link-down', `state ${NetState.WIFI_SCANNING} ${Reason.AP_LOST}`]);
    assert.deepEqual(effects(feed(r, status('wpa_state=4WAY_HANDSHAKE\n'))), [`state ${NetState.WIFI_JOINING} ${Reason.WIFI_ASSOCIATING}`]);
    assert.deepEqual(effects(feed(r, status('wpa_state=DISCONNECTED\n'))), [`state ${NetState.WIFI_SCANNING} ${Reason.WIFI_DISCONNECTED}`]);
  });

  test('INTERFACE_DISABLED is unhappy (driver-failed) until the interface is back', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 });
    assert.deepEqual(effects(feed(r, status('wpa_state=INTERFACE_DISABLED\n'))), [
      `state ${NetState.WIFI_STOPPED_UNHAPPY} ${Reason.DRIVER_FAILED}`,
    ]);
    assert.deepEqual(effects(feed(r, status('wpa_state=INTERFACE_DISABLED\n'))), []);
    assert.deepEqual(effects(feed(r, status('wpa_state=SCANNING\n'))), [`state ${NetState.WIFI_SCANNING} ${Reason.RETRY}`]);
  });

  test('Android CTRL-EVENT-STATE-CHANGE drives the same mapping', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 });
    assert.deepEqual(
      effects(feed(r, `<3>CTRL-EVENT-STATE-CHANGE id=0 state=5 BSSID=${AP} SSID=Network`, `<3>CTRL-EVENT-STATE-CHANGE id=0 state=9 BSSID=${AP} SSID=Network`)),
      [`state ${NetState.WIFI_JOINING} ${Reason.WIFI_ASSOCIATING}`, `state ${NetState.WIFI_LINK_UP} ${Reason.WIFI_ASSOCIATED}`, `link-up ${AP} 0`],
    );
  });

  test('a STATUS with an unknown wpa_state is counted and dropped', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 });
    assert.deepEqual(effects(feed(r, status('wpa_state=SOMETHING_NEW\n'))), []);
    assert.equal(r.state.stats.malformed, 1);
  });
});

describe('robustness', () => {
  test('malformed and unknown lines are counted and dropped', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 });
    assert.deepEqual(effects(feed(r, 'garbage', '<3>', '<3>CTRL-EVENT-SSID-TEMP-DISABLED id=x', '<3>CTRL-EVENT-BEACON-LOSS ', '<3>P2P-DEVICE-FOUND x')), []);
    assert.equal(r.state.stats.malformed, 3);
    assert.equal(r.state.stats.unknown, 2);
  });

  test('before start and after stop, events change nothing', () => {
    const r = run();
    assert.deepEqual(effects(feed(r, L.trying, L.connected(0), { type: 'retry' }, { type: 'stop' })), []);
    feed(r, { type: 'start', networkId: 0 }, L.trying, L.connected(0));
    assert.deepEqual(effects(feed(r, { type: 'stop' })), ['cmd DISCONNECT', 'link-down', `state ${NetState.WIFI_STOPPED} ${Reason.CLOSED_BY_USER}`]);
    assert.deepEqual(effects(feed(r, L.connected(0), L.terminating, { type: 'stop' })), []);
  });

  test('a bad input is dropped with an error log, state unchanged', () => {
    const s = createStation();
    const res = step(s, { type: 'start', networkId: -5 }, 0);
    assert.equal(res.state, s);
    assert.equal(res.actions.length, 1);
    assert.equal(res.actions[0]?.type, 'log');
    const odd = step(s, { type: 'nonsense' } as unknown as StationInput, 0);
    assert.equal(odd.state.stats.malformed, 1);
  });

  test('config limits out of range fall back to the defaults', () => {
    assert.deepEqual(createStation({ wrongKeyLimit: 0, notFoundLimit: 1.5 }).config, { wrongKeyLimit: 2, notFoundLimit: 3 });
    assert.deepEqual(createStation({ wrongKeyLimit: 5, notFoundLimit: 1 }).config, { wrongKeyLimit: 5, notFoundLimit: 1 });
  });
});

describe('lines captured from wpa_supplicant v2.10', () => {
  // wpa_supplicant -D wired on a veth in a throw-away network namespace, key_mgmt NONE,
  // ap_scan=0: ATTACH, ADD_NETWORK, SET_NETWORK, SELECT_NETWORK, DISCONNECT, SIGTERM.
  // Event datagrams carry no trailing newline.
  const captured = [
    '<3>CTRL-EVENT-NETWORK-ADDED 0',
    '<3>Associated with 01:80:c2:00:00:03',
    '<3>CTRL-EVENT-CONNECTED - Connection to 01:80:c2:00:00:03 completed [id=0 id_str=]',
    '<3>CTRL-EVENT-SUBNET-STATUS-UPDATE status=0',
  ];

  test('join, link up, stop, terminate', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 });
    assert.deepEqual(effects(feed(r, ...captured)), [
      `state ${NetState.WIFI_JOINING} ${Reason.WIFI_ASSOCIATING}`,
      `state ${NetState.WIFI_LINK_UP} ${Reason.WIFI_ASSOCIATED}`,
      'link-up 01:80:c2:00:00:03 0',
    ]);
    assert.equal(r.state.stats.unknown, 2);
    assert.deepEqual(effects(feed(r, { type: 'stop' })), [
      'cmd DISCONNECT',
      'link-down',
      `state ${NetState.WIFI_STOPPED} ${Reason.CLOSED_BY_USER}`,
    ]);
    assert.deepEqual(
      effects(
        feed(
          r,
          '<3>CTRL-EVENT-DISCONNECTED bssid=01:80:c2:00:00:03 reason=3 locally_generated=1',
          '<3>CTRL-EVENT-DSCP-POLICY clear_all',
          '<3>CTRL-EVENT-NETWORK-REMOVED 0',
          '<3>CTRL-EVENT-TERMINATING ',
        ),
      ),
      [],
    );
  });

  test('the same link reached through STATUS alone', () => {
    const r = run();
    feed(r, { type: 'start', networkId: 0 });
    const reply = [
      'bssid=01:80:c2:00:00:03',
      'freq=0',
      'ssid=Network',
      'id=0',
      'mode=station',
      'pairwise_cipher=NONE',
      'group_cipher=NONE',
      'key_mgmt=NONE',
      'wpa_state=COMPLETED',
      'address=a2:c8:cd:0b:a5:98',
      'uuid=6d23f6b9-dde3-564f-8f29-918284e5c635',
      '',
    ].join('\n');
    assert.deepEqual(effects(feed(r, status(reply))), [
      `state ${NetState.WIFI_LINK_UP} ${Reason.WIFI_ASSOCIATED}`,
      'link-up 01:80:c2:00:00:03 0',
    ]);
  });
});

test('a wrong key after WPS disables the network the supplicant created', () => {
  const r = run({ wrongKeyLimit: 1 });
  feed(r, { type: 'start-wps' }, '<3>WPS-SUCCESS ', L.trying);
  assert.deepEqual(effects(feed(r, L.tempDisabled('WRONG_KEY', 1, 3))), [
    'cmd DISABLE_NETWORK 3',
    `state ${NetState.WIFI_STOPPED_UNHAPPY} ${Reason.WRONG_KEY}`,
  ]);
  assert.deepEqual(effects(feed(r, { type: 'retry' })), ['cmd ENABLE_NETWORK 3', `state ${NetState.WIFI_SCANNING} ${Reason.RETRY}`]);
});
