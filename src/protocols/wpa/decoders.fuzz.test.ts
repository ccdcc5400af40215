/**
 * Property tests: random and mutated lines never throw out of the decoders or the station
 * machine, escaped SSIDs survive any bytes, and the machine's link-up/link-down actions
 * always alternate. The generators and checks are test/arbitraries/wpa.ts, shared with the
 * long fuzzer (faults/fuzz/wpa.ts).
 */
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  checkEscapeRoundTrip,
  checkEventLine,
  checkStatusReply,
  checkTempDisabledLine,
  eventLineArb,
  runStation,
  ssidBytesArb,
  stationCaseArb,
  statusReplyArb,
} from '../../../test/arbitraries/wpa.js';

describe('decoders never throw', () => {
  test('event lines: random and mutated', () => {
    fc.assert(fc.property(eventLineArb, checkEventLine), { numRuns: 2000 });
  });

  test('STATUS and SCAN_RESULTS replies', () => {
    fc.assert(fc.property(statusReplyArb, checkStatusReply), { numRuns: 1000 });
  });
});

describe('escaped SSIDs', () => {
  test('printf_encode then decode gives back any bytes', () => {
    fc.assert(fc.property(ssidBytesArb, checkEscapeRoundTrip));
  });

  test('a TEMP-DISABLED line carries any SSID exactly, and the fields after it', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.nat({ max: 1000 }), checkTempDisabledLine));
  });
});

describe('station machine under random input', () => {
  test('never throws; states are WiFi states; link-up and link-down alternate; commands are safe', () => {
    fc.assert(fc.property(stationCaseArb, runStation), { numRuns: 400 });
  });
});
