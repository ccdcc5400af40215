// The states lines the VM test files read from the console log (no VM needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statesLines, statesOfKind } from './host-runner.js';
import { NetState } from '../../../src/states.js';

test('statesLines reads each `<tag>: <script> <values>` line at the start of a line, CRs dropped', () => {
  const log = 'boot\r\nWIFI-STATES: wpa2 0 100 101 106\r\nlab: x WIFI-STATES: fake 1\r\nWIFI-STATES: variants \r\nCELL-STATES: cellular 300\r\n';
  assert.deepEqual(statesLines(log, 'WIFI-STATES'), [
    { script: 'wpa2', values: [0, 100, 101, 106] },
    { script: 'variants', values: [] },
  ]);
  assert.deepEqual(statesLines(log, 'CELL-STATES'), [{ script: 'cellular', values: [300] }]);
});

test('statesLines takes the tag literally', () => {
  assert.deepEqual(statesLines('A.B: s 1\nAxB: s 2\n', 'A.B'), [{ script: 's', values: [1] }]);
});

test('statesOfKind: CONNECTED and every state of the kind, nothing else', () => {
  assert.deepEqual(statesOfKind('wifi'), [
    NetState.CONNECTED,
    NetState.WIFI_SCANNING,
    NetState.WIFI_JOINING,
    NetState.WIFI_WPSING,
    NetState.WIFI_LINK_UP,
    NetState.WIFI_DHCPING,
    NetState.WIFI_STOPPED,
    NetState.WIFI_STOPPED_UNHAPPY,
  ]);
  assert.deepEqual(statesOfKind('cellular'), [1, 300, 301, 302, 303, 304, 305, 306]);
});
