import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { classifyLine, isDialCommand, isSuccess, parseFinal, parseUrc } from './response-parser.js';
import type { FinalResult, LineContext } from './response-parser.js';

describe('parseFinal', () => {
  const table: [string, FinalResult | undefined][] = [
    ['OK', { kind: 'ok' }],
    [' ok ', { kind: 'ok' }],
    ['ERROR', { kind: 'error' }],
    ['+CME ERROR: 10', { kind: 'cme-error', code: 10, text: '10' }],
    ['+CME ERROR: SIM not inserted', { kind: 'cme-error', code: 10, text: 'SIM not inserted' }],
    ['+CME ERROR: incorrect password', { kind: 'cme-error', code: 16, text: 'incorrect password' }],
    ['+CME ERROR: SIM busy', { kind: 'cme-error', code: 14, text: 'SIM busy' }],
    ['+CME ERROR: something vendor', { kind: 'cme-error', text: 'something vendor' }],
    ['+CMS ERROR: 310', { kind: 'cms-error', code: 310, text: '310' }],
    ['+CMS ERROR: SIM not inserted', { kind: 'cms-error', text: 'SIM not inserted' }],
    ['NO CARRIER', { kind: 'no-carrier' }],
    ['CONNECT', { kind: 'connect' }],
    ['CONNECT 150000000', { kind: 'connect', text: '150000000' }],
    ['BUSY', { kind: 'busy' }],
    ['NO ANSWER', { kind: 'no-answer' }],
    ['NO DIALTONE', { kind: 'no-dialtone' }],
    ['OKAY', undefined],
    ['+CPIN: READY', undefined],
    ['CONNECTED', undefined],
    ['', undefined],
  ];
  for (const [line, want] of table) {
    test(JSON.stringify(line), () => assert.deepEqual(parseFinal(line), want));
  }
  test('isSuccess: OK and CONNECT only', () => {
    assert.equal(isSuccess({ kind: 'ok' }), true);
    assert.equal(isSuccess({ kind: 'connect' }), true);
    for (const kind of ['error', 'no-carrier', 'busy', 'no-answer', 'no-dialtone'] as const) assert.equal(isSuccess({ kind }), false);
    assert.equal(isSuccess({ kind: 'cme-error', code: 10, text: '10' }), false);
  });
});

describe('isDialCommand', () => {
  for (const c of ['ATD*99#', 'ATD*99***1#', 'atdt123', 'ATA', 'ATO', 'ATO0', 'AT+CGDATA="PPP",1']) test(c, () => assert.equal(isDialCommand(c), true));
  for (const c of ['AT', 'AT+CSQ', 'ATE0', 'AT+CPIN?', 'ATH']) test(`not ${c}`, () => assert.equal(isDialCommand(c), false));
});

describe('classifyLine', () => {
  const none: LineContext = {};
  const csq: LineContext = { command: 'AT+CSQ', expect: '+CSQ:' };
  const cregQuery: LineContext = { command: 'AT+CREG?', expect: '+CREG:' };
  const dial: LineContext = { command: 'ATD*99***1#' };
  const ati: LineContext = { command: 'ATI' };

  const table: [string, string, LineContext, string][] = [
    // [name, line, context, expected kind (and urc kind)]
    ['OK ends the command', 'OK', csq, 'final'],
    ['+CME ERROR ends the command', '+CME ERROR: 10', csq, 'final'],
    ['OK with nothing in flight is stray', 'OK', none, 'stray-final'],
    ['ERROR with nothing in flight is stray', 'ERROR', none, 'stray-final'],
    ['echo of the command', 'AT+CSQ', csq, 'echo'],
    ['echo is case- and space-insensitive', 'at+csq ', csq, 'echo'],
    ['expected prefix is intermediate', '+CSQ: 20,99', csq, 'intermediate'],
    ['another prefix mid-response is a URC', '+CMTI: "SM",3', csq, 'urc:unknown'],
    ['RING mid-response', 'RING', csq, 'urc:ring'],
    ['+CRING', '+CRING: VOICE', none, 'urc:cring'],
    ['RDY boot line', 'RDY', none, 'urc:unknown'],
    ['^SYSSTART boot line even mid-command', '^SYSSTART', ati, 'urc:unknown'],
    ['NO CARRIER outside a command: carrier lost', 'NO CARRIER', none, 'urc:no-carrier'],
    ['NO CARRIER during AT+CSQ is not its final', 'NO CARRIER', csq, 'urc:no-carrier'],
    ['NO CARRIER ends a dial', 'NO CARRIER', dial, 'final'],
    ['CONNECT ends a dial', 'CONNECT 150000000', dial, 'final'],
    ['BUSY ends a dial', 'BUSY', dial, 'final'],
    ['BUSY outside a dial is unsolicited', 'BUSY', csq, 'urc:unknown'],
    ['+CREG read form during AT+CREG? is the answer', '+CREG: 2,1,"00C3","0000A13F",7', cregQuery, 'intermediate'],
    ['+CREG URC form during AT+CREG? is a URC', '+CREG: 5', cregQuery, 'urc:registration'],
    ['+CREG URC with location during AT+CREG? is a URC', '+CREG: 1,"00C3","A13F",7', cregQuery, 'urc:registration'],
    ['+CEREG URC during AT+CREG?', '+CEREG: 1', cregQuery, 'urc:registration'],
    ['+CREG URC outside a command', '+CREG: 2', none, 'urc:registration'],
    ['+CGREG URC during a command without expect', '+CGREG: 1', ati, 'urc:registration'],
    ['a read-form line after a timeout still reports', '+CREG: 0,5', none, 'urc:registration'],
    ['unsolicited +CPIN', '+CPIN: NOT INSERTED', none, 'urc:sim-status'],
    ['+CPIN during another command is unsolicited', '+CPIN: READY', ati, 'urc:sim-status'],
    ['+CPIN answering AT+CPIN?', '+CPIN: SIM PIN', { command: 'AT+CPIN?', expect: '+CPIN:' }, 'intermediate'],
    ['text answer without expect', 'Quectel', ati, 'intermediate'],
    ['text answer with expect', '356938035643809', { command: 'AT+CGSN', expect: '+CGSN:' }, 'intermediate'],
    ['unknown text outside a command', 'hello', none, 'urc:unknown'],
    ['whitespace only', '   ', csq, 'empty'],
  ];
  for (const [name, line, ctx, want] of table) {
    test(name, () => {
      const cls = classifyLine(line, ctx);
      const got = cls.kind === 'urc' ? `urc:${cls.urc.kind}` : cls.kind;
      assert.equal(got, want);
    });
  }

  test('a registration URC carries its parse', () => {
    const cls = classifyLine('+CEREG: 5,"1A2B","01A2D001",7', cregQuery);
    assert.ok(cls.kind === 'urc' && cls.urc.kind === 'registration');
    assert.equal(cls.urc.registration.domain, 'eps');
    assert.equal(cls.urc.registration.stat, 5);
    assert.equal(cls.urc.registration.tac, 0x1a2b);
  });

  test('parseUrc keeps the text of unknown lines', () => {
    assert.deepEqual(parseUrc(' ^RSSI: 17 '), { kind: 'unknown', text: '^RSSI: 17' });
  });
});
