import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isNicupError } from '../../errors.js';
import {
  CPIN_CODES,
  accessTechnologyName,
  buildAuthCommand,
  buildDialCommand,
  buildPdpContextCommand,
  buildPinCommand,
  buildRegistrationReportCommand,
  cmeErrorCode,
  isRegistered,
  parseCops,
  parseCpin,
  parseCsq,
  parseRegistration,
  registrationQueryCommand,
  registrationStatus,
  rssiToDbm,
  simStatusFromOutcome,
  splitParams,
  validateApn,
} from './parsers.js';
import type { RegistrationDomain, RegistrationStatus, SimStatus } from './parsers.js';
import { parseFinal } from './response-parser.js';

describe('splitParams', () => {
  test('quotes keep commas; empty fields stay', () => {
    assert.deepEqual(splitParams(' 0,0,"AT&T, Inc",7'), [
      { text: '0', quoted: false },
      { text: '0', quoted: false },
      { text: 'AT&T, Inc', quoted: true },
      { text: '7', quoted: false },
    ]);
    assert.deepEqual(splitParams('3,,,,0,15'), [
      { text: '3', quoted: false },
      { text: '', quoted: false },
      { text: '', quoted: false },
      { text: '', quoted: false },
      { text: '0', quoted: false },
      { text: '15', quoted: false },
    ]);
  });
  test('an unterminated quote or junk after a quote is malformed', () => {
    assert.equal(splitParams('1,"abc'), undefined);
    assert.equal(splitParams('"a"b,1'), undefined);
  });
});

describe('+CPIN', () => {
  const expected: Record<string, SimStatus> = {
    READY: { kind: 'ready' },
    'SIM PIN': { kind: 'pin-required', lock: 'SIM PIN' },
    'SIM PUK': { kind: 'puk-required', lock: 'SIM PUK' },
    'SIM PIN2': { kind: 'pin-required', lock: 'SIM PIN2' },
    'SIM PUK2': { kind: 'puk-required', lock: 'SIM PUK2' },
    'PH-SIM PIN': { kind: 'pin-required', lock: 'PH-SIM PIN' },
    'PH-FSIM PIN': { kind: 'pin-required', lock: 'PH-FSIM PIN' },
    'PH-FSIM PUK': { kind: 'puk-required', lock: 'PH-FSIM PUK' },
    'PH-NET PIN': { kind: 'pin-required', lock: 'PH-NET PIN' },
    'PH-NET PUK': { kind: 'puk-required', lock: 'PH-NET PUK' },
    'PH-NETSUB PIN': { kind: 'pin-required', lock: 'PH-NETSUB PIN' },
    'PH-NETSUB PUK': { kind: 'puk-required', lock: 'PH-NETSUB PUK' },
    'PH-SP PIN': { kind: 'pin-required', lock: 'PH-SP PIN' },
    'PH-SP PUK': { kind: 'puk-required', lock: 'PH-SP PUK' },
    'PH-CORP PIN': { kind: 'pin-required', lock: 'PH-CORP PIN' },
    'PH-CORP PUK': { kind: 'puk-required', lock: 'PH-CORP PUK' },
  };
  test('the table covers every TS 27.007 code', () => assert.deepEqual(Object.keys(expected).sort(), [...CPIN_CODES].sort()));
  for (const [code, want] of Object.entries(expected)) {
    test(code, () => assert.deepEqual(parseCpin(`+CPIN: ${code}`), want));
  }
  test('quoted, lower case and vendor forms', () => {
    assert.deepEqual(parseCpin('+CPIN: "SIM PIN"'), { kind: 'pin-required', lock: 'SIM PIN' });
    assert.deepEqual(parseCpin('+cpin: ready'), { kind: 'ready' });
    assert.deepEqual(parseCpin('+CPIN: NOT INSERTED'), { kind: 'missing' });
    assert.deepEqual(parseCpin('+CPIN: NOT READY'), { kind: 'busy' });
    assert.equal(parseCpin('+CPIN: BANANA'), undefined);
    assert.equal(parseCpin('+CSQ: 1,2'), undefined);
    assert.equal(parseCpin('+CPIN:'), undefined);
  });

  const outcome = (line: string, lines: string[] = []) => ({ final: parseFinal(line), lines });
  const errors: [string, SimStatus['kind']][] = [
    ['+CME ERROR: 10', 'missing'],
    ['+CME ERROR: SIM not inserted', 'missing'],
    ['+CME ERROR: 13', 'failure'],
    ['+CME ERROR: SIM failure', 'failure'],
    ['+CME ERROR: 15', 'failure'],
    ['+CME ERROR: 14', 'busy'],
    ['+CME ERROR: SIM busy', 'busy'],
    ['+CME ERROR: 16', 'wrong-password'],
    ['+CME ERROR: incorrect password', 'wrong-password'],
    ['+CME ERROR: 11', 'pin-required'],
    ['+CME ERROR: 12', 'puk-required'],
    ['+CME ERROR: 17', 'pin-required'],
    ['+CME ERROR: 18', 'puk-required'],
    ['+CME ERROR: 5', 'pin-required'],
    ['+CME ERROR: 100', 'error'],
    ['ERROR', 'error'],
  ];
  for (const [line, kind] of errors) {
    test(`AT+CPIN? answered ${line} → ${kind}`, () => assert.equal(simStatusFromOutcome(outcome(line)).kind, kind));
  }
  test('AT+CPIN? outcomes: the +CPIN line wins; OK without one or a timeout is an error', () => {
    assert.deepEqual(simStatusFromOutcome(outcome('OK', ['+CPIN: READY'])), { kind: 'ready' });
    assert.equal(simStatusFromOutcome(outcome('OK')).kind, 'error');
    assert.deepEqual(simStatusFromOutcome({ lines: [] }), { kind: 'error' });
  });
  test('cmeErrorCode', () => {
    assert.equal(cmeErrorCode(' 16 '), 16);
    assert.equal(cmeErrorCode('SIM  Not Inserted'), 10);
    assert.equal(cmeErrorCode('flux capacitor'), undefined);
  });
});

describe('registration (+CREG / +CGREG / +CEREG)', () => {
  const statuses: RegistrationStatus[] = [
    'not-registered',
    'registered-home',
    'searching',
    'denied',
    'unknown',
    'registered-roaming',
    'registered-sms-only-home',
    'registered-sms-only-roaming',
    'emergency-only',
    'registered-csfb-not-preferred-home',
    'registered-csfb-not-preferred-roaming',
    'rlos-only',
  ];
  const prefixes: Record<RegistrationDomain, string> = { cs: '+CREG', ps: '+CGREG', eps: '+CEREG' };
  for (const [domain, prefix] of Object.entries(prefixes) as [RegistrationDomain, string][]) {
    for (const [stat, status] of statuses.entries()) {
      test(`${prefix} stat ${stat} (${status}) in both forms`, () => {
        assert.deepEqual(parseRegistration(`${prefix}: ${stat}`), { domain, form: 'urc', stat, status });
        assert.deepEqual(parseRegistration(`${prefix}: 2,${stat}`), { domain, form: 'read', n: 2, stat, status });
      });
    }
    test(`${prefix}: out-of-range and malformed lines are refused`, () => {
      for (const bad of [`${prefix}: 12`, `${prefix}: 99`, `${prefix}: x`, `${prefix}: 7,1`, `${prefix}:`, `${prefix}: "1"`, `${prefix}: 1,"00C3`]) {
        assert.equal(parseRegistration(bad), undefined, bad);
      }
    });
  }

  test('isRegistered: home, roaming and their restricted forms', () => {
    const registered = statuses.map((_, stat) => stat).filter(isRegistered);
    assert.deepEqual(registered, [1, 5, 6, 7, 9, 10]);
    assert.equal(registrationStatus(12), undefined);
  });

  test('+CREG with location, URC and read forms', () => {
    assert.deepEqual(parseRegistration('+CREG: 1,"00C3","0000A13F",7'), {
      domain: 'cs',
      form: 'urc',
      stat: 1,
      status: 'registered-home',
      lac: 0xc3,
      ci: 0xa13f,
      act: 7,
    });
    assert.deepEqual(parseRegistration('+CREG: 2,5,"00C3","A13F"'), {
      domain: 'cs',
      form: 'read',
      n: 2,
      stat: 5,
      status: 'registered-roaming',
      lac: 0xc3,
      ci: 0xa13f,
    });
  });

  test('+CREG n=3 with reject cause and empty location', () => {
    assert.deepEqual(parseRegistration('+CREG: 3,,,,0,15'), {
      domain: 'cs',
      form: 'urc',
      stat: 3,
      status: 'denied',
      causeType: 0,
      rejectCause: 15,
    });
  });

  test('+CGREG carries rac before the cause', () => {
    assert.deepEqual(parseRegistration('+CGREG: 2,1,"1A2B","00000F01",2,"7F"'), {
      domain: 'ps',
      form: 'read',
      n: 2,
      stat: 1,
      status: 'registered-home',
      lac: 0x1a2b,
      ci: 0xf01,
      act: 2,
      rac: 0x7f,
    });
  });

  test('+CEREG: tac, 28-bit ci, cause and PSM timers', () => {
    assert.deepEqual(parseRegistration('+CEREG: 4,5,"ABCD","0CAFE123",7,,,"00100100","01000111"'), {
      domain: 'eps',
      form: 'read',
      n: 4,
      stat: 5,
      status: 'registered-roaming',
      tac: 0xabcd,
      ci: 0xcafe123,
      act: 7,
      activeTime: '00100100',
      periodicTau: '01000111',
    });
    assert.deepEqual(parseRegistration('+CEREG: 3,"ABCD","0CAFE123",7,0,15'), {
      domain: 'eps',
      form: 'urc',
      stat: 3,
      status: 'denied',
      tac: 0xabcd,
      ci: 0xcafe123,
      act: 7,
      causeType: 0,
      rejectCause: 15,
    });
  });

  test('a bad optional field is skipped, the stat kept', () => {
    assert.deepEqual(parseRegistration('+CREG: 1,"zz","0000A13F"'), { domain: 'cs', form: 'urc', stat: 1, status: 'registered-home', ci: 0xa13f });
  });

  test('commands', () => {
    assert.equal(buildRegistrationReportCommand('cs', 2), 'AT+CREG=2');
    assert.equal(buildRegistrationReportCommand('ps', 2), 'AT+CGREG=2');
    assert.equal(buildRegistrationReportCommand('eps', 5), 'AT+CEREG=5');
    assert.throws(() => buildRegistrationReportCommand('cs', 4), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT'));
    assert.equal(registrationQueryCommand('eps'), 'AT+CEREG?');
  });
});

describe('+CSQ', () => {
  test('rssi to dBm across the whole table', () => {
    assert.equal(rssiToDbm(0), -113);
    assert.equal(rssiToDbm(1), -111);
    assert.equal(rssiToDbm(2), -109);
    assert.equal(rssiToDbm(30), -53);
    assert.equal(rssiToDbm(31), -51);
    assert.equal(rssiToDbm(99), undefined);
    assert.equal(rssiToDbm(100), -116);
    assert.equal(rssiToDbm(191), -25);
    assert.equal(rssiToDbm(199), undefined);
    assert.equal(rssiToDbm(32), undefined);
  });
  test('parse', () => {
    assert.deepEqual(parseCsq('+CSQ: 20,99'), { rssi: 20, ber: 99, rssiDbm: -73 });
    assert.deepEqual(parseCsq('+CSQ: 99,99'), { rssi: 99, ber: 99 });
    assert.deepEqual(parseCsq('+CSQ: 31,0'), { rssi: 31, ber: 0, rssiDbm: -51 });
    for (const bad of ['+CSQ: 32,0', '+CSQ: 20,8', '+CSQ: 20', '+CSQ: a,b', '+CSQ: 20,99,1', '+CREG: 1']) assert.equal(parseCsq(bad), undefined, bad);
  });
});

describe('+COPS?', () => {
  test('forms', () => {
    assert.deepEqual(parseCops('+COPS: 0'), { mode: 0 });
    assert.deepEqual(parseCops('+COPS: 0,0,"Vodafone UK",7'), { mode: 0, format: 0, oper: 'Vodafone UK', act: 7 });
    assert.deepEqual(parseCops('+COPS: 1,2,"23415"'), { mode: 1, format: 2, oper: '23415' });
    assert.deepEqual(parseCops('+COPS: 0,0,"AT&T, Inc",2'), { mode: 0, format: 0, oper: 'AT&T, Inc', act: 2 });
    for (const bad of ['+COPS: 5', '+COPS: 0,0', '+COPS: 0,3,"x"', '+COPS: (2,"A","A","23401",7),,(0-4),(0-2)', '+COPS: x']) {
      assert.equal(parseCops(bad), undefined, bad);
    }
  });
  test('access technology names', () => {
    assert.equal(accessTechnologyName(7), 'E-UTRAN');
    assert.equal(accessTechnologyName(0), 'GSM');
    assert.equal(accessTechnologyName(200), undefined);
  });
});

describe('builders', () => {
  const invalid = (field: string) => (e: unknown) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === field;

  test('PIN: 4 to 8 digits; the message never holds the PIN', () => {
    assert.equal(buildPinCommand('1234'), 'AT+CPIN="1234"');
    assert.equal(buildPinCommand('12345678'), 'AT+CPIN="12345678"');
    for (const bad of ['123', '123456789', '12a4', '1234"\r\nATD112;', '', ' 1234']) {
      assert.throws(() => buildPinCommand(bad), (e: unknown) => invalid('cellconfig.pin')(e) && e instanceof Error && !e.message.includes(bad.trim() || '\u0000'));
    }
  });

  test('APN: TS 23.003 labels', () => {
    assert.equal(buildPdpContextCommand({ apn: 'internet' }), 'AT+CGDCONT=1,"IP","internet"');
    assert.equal(buildPdpContextCommand({ apn: 'web.vodafone.de', cid: 3, pdpType: 'IPV4V6' }), 'AT+CGDCONT=3,"IPV4V6","web.vodafone.de"');
    assert.equal(buildPdpContextCommand({ apn: '' }), 'AT+CGDCONT=1,"IP",""');
    assert.equal(buildPdpContextCommand({ apn: 'm2m-1.Operator-X.com' }), 'AT+CGDCONT=1,"IP","m2m-1.Operator-X.com"');
    validateApn('a'.repeat(63) + '.' + 'b'.repeat(36)); // exactly 100
    const bad = ['inter"net', 'a\r\nATD112;', 'a;b', 'a..b', '.a', 'a.', 'a b', 'ä', 'a_b', 'a'.repeat(64), `${'a'.repeat(50)}.${'b'.repeat(50)}`];
    for (const apn of bad) assert.throws(() => buildPdpContextCommand({ apn }), invalid('cellconfig.apn'), JSON.stringify(apn));
    assert.throws(() => buildPdpContextCommand({ apn: 'x', cid: 0 }), invalid('cellconfig.cid'));
    assert.throws(() => buildPdpContextCommand({ apn: 'x', pdpType: 'PPP' as never }), invalid('cellconfig.pdpType'));
  });

  test('dial strings (TS 27.007 §10.2.1.1)', () => {
    assert.equal(buildDialCommand(), 'ATD*99#');
    assert.equal(buildDialCommand(1), 'ATD*99***1#');
    assert.equal(buildDialCommand(2), 'ATD*99***2#');
    assert.throws(() => buildDialCommand(1.5), invalid('cellconfig.cid'));
  });

  test('AT+CGAUTH: no quotes or control characters can get in', () => {
    assert.equal(buildAuthCommand({ protocol: 'none' }), 'AT+CGAUTH=1,0');
    assert.equal(buildAuthCommand({ protocol: 'chap', username: 'user', password: 'p@ss word' }), 'AT+CGAUTH=1,2,"user","p@ss word"');
    assert.throws(() => buildAuthCommand({ protocol: 'pap', username: 'u', password: 'a"b' }), (e: unknown) => invalid('cellconfig.password')(e) && e instanceof Error && !e.message.includes('a"b'));
    assert.throws(() => buildAuthCommand({ protocol: 'pap', username: 'u\r' }), invalid('cellconfig.username'));
    assert.throws(() => buildAuthCommand({ protocol: 'pap', password: 'x' }), invalid('cellconfig.password'));
  });
});
