/**
 * wpa_supplicant fuzzer: the event-line decoder, the STATUS/SCAN_RESULTS decoders, printf
 * escapes, the station machine under random inputs, and the command encoder fed SSIDs and
 * keys full of shell and config metacharacters (they must round-trip literally or be
 * refused with a NicError naming the field, never echoing the key). The generators and
 * checks are test/arbitraries/wpa.ts, shared with the unit property test.
 */
import { fileURLToPath } from 'node:url';
import {
  checkEncoder,
  checkEscapes,
  checkEventLine,
  checkStatusReply,
  encoderCaseArb,
  eventLineArb,
  runStation,
  ssidBytesArb,
  stationCaseArb,
  statusReplyArb,
} from '../../test/arbitraries/wpa.js';
import { target, type Fuzzer } from './types.js';

export const wpaFuzzer: Fuzzer = {
  name: 'wpa',
  description: 'wpa_supplicant event/status decoders, escapes, station machine, command encoder',
  regressionsDir: fileURLToPath(new URL('../../src/protocols/wpa/regressions/', import.meta.url)),
  targets: [
    target({ name: 'wpa.event', description: 'random and mutated event lines into the decoder and redactor', arbitrary: eventLineArb, check: checkEventLine, weight: 4 }),
    target({ name: 'wpa.status', description: 'random STATUS and SCAN_RESULTS replies', arbitrary: statusReplyArb, check: checkStatusReply, weight: 2 }),
    target({ name: 'wpa.escapes', description: 'any SSID bytes through printf escapes and a TEMP-DISABLED line', arbitrary: ssidBytesArb, check: checkEscapes, weight: 1 }),
    target({ name: 'wpa.station', description: 'random inputs (≤60) through the station machine: link-up/down alternate, commands are safe', arbitrary: stationCaseArb, check: runStation, weight: 3 }),
    target({ name: 'wpa.encoder', description: 'SSIDs and keys full of metacharacters through parseNic and the command encoder', arbitrary: encoderCaseArb, check: checkEncoder, weight: 2 }),
  ],
};
