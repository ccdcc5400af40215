import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isNicupError } from '../../errors.js';
import { encodeMessage, MessageType, type DhcpMessage } from '../../protocols/dhcp4/message-codec.js';
import { DEFAULT_RECORD_LIMIT } from './bounded-record.js';
import { SimDhcpServer } from './dhcp-server.js';
import { openSimModemPort } from './modem.js';
import { SimWorld } from './world.js';

function clientMessage(type: number, xid: number): Uint8Array {
  const m: DhcpMessage = {
    op: 1,
    htype: 1,
    hops: 0,
    xid,
    secs: 0,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: Uint8Array.from([2, 0, 0, 0, 0, 9]),
    sname: '',
    file: '',
    options: { messageType: type, unknown: [] },
  };
  return encodeMessage(m);
}

const server = (maxReceived?: number) =>
  new SimDhcpServer({ serverAddress: '192.168.1.1', prefixLength: 24, poolStart: '192.168.1.100', poolEnd: '192.168.1.199', ...(maxReceived === undefined ? {} : { maxReceived }) });

describe('SimDhcpServer.received', () => {
  test('keeps the latest maxReceived message types; receivedCount counts them all', () => {
    const s = server(3);
    const types = [MessageType.DISCOVER, MessageType.REQUEST, MessageType.DISCOVER, MessageType.RELEASE, MessageType.INFORM];
    types.forEach((t, i) => s.handle(clientMessage(t, i + 1), 0));
    assert.deepEqual(s.received, ['DISCOVER', 'RELEASE', 'INFORM']);
    assert.equal(s.receivedCount, 5);
  });

  test(`keeps ${DEFAULT_RECORD_LIMIT} by default, and the count runs on past it`, () => {
    const s = server();
    const n = DEFAULT_RECORD_LIMIT + 250;
    for (let i = 0; i < n; i++) s.handle(clientMessage(i === n - 1 ? MessageType.REQUEST : MessageType.DISCOVER, i + 1), 0);
    assert.equal(s.received.length, DEFAULT_RECORD_LIMIT);
    assert.equal(s.received.at(-1), 'REQUEST', 'the newest entry is kept');
    assert.equal(s.receivedCount, n);
  });

  test('0 keeps nothing but still counts; a limit that is not an integer >= 0 is refused', () => {
    const s = server(0);
    s.handle(clientMessage(MessageType.DISCOVER, 1), 0);
    assert.deepEqual([s.received.length, s.receivedCount], [0, 1]);
    for (const bad of [-1, 1.5, Number.NaN]) {
      assert.throws(() => server(bad), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && /maxReceived/.test((e as Error).message));
    }
  });

  test('a segment passes maxReceived through to its server', () => {
    const world = new SimWorld();
    const segment = world.addEthernet('eth0', { segment: { subnet: '192.168.5.0/24', dhcp: { maxReceived: 7 } } });
    assert.equal(segment.dhcp?.options.maxReceived, 7);
  });
});

describe('SimModem.commands', () => {
  async function typeCommands(maxCommands: number | undefined, lines: string[]) {
    const world = new SimWorld();
    const modem = world.addModem('cell0', maxCommands === undefined ? {} : { maxCommands });
    const port = await openSimModemPort(world, 'cell0');
    await port.write(lines.map((l) => `${l}\r`).join(''));
    await port.close();
    return modem;
  }

  test('keeps the latest maxCommands lines (PIN still redacted); commandCount counts them all', async () => {
    const modem = await typeCommands(2, ['ATE0', 'AT+CPIN="1234"', 'AT+CPIN?', 'AT+CSQ']);
    assert.deepEqual(modem.commands, ['AT+CPIN?', 'AT+CSQ']);
    assert.equal(modem.commandCount, 4);
    const pin = await typeCommands(undefined, ['AT+CPIN=1234']);
    assert.deepEqual(pin.commands, ['AT+CPIN=****']);
  });

  test(`keeps ${DEFAULT_RECORD_LIMIT} by default, and the count runs on past it`, async () => {
    const n = DEFAULT_RECORD_LIMIT * 2 + 1;
    const modem = await typeCommands(undefined, Array.from({ length: n }, (_, i) => `AT+CSQ=${i}`));
    assert.equal(modem.commands.length, DEFAULT_RECORD_LIMIT);
    assert.equal(modem.commands[0], `AT+CSQ=${n - DEFAULT_RECORD_LIMIT}`, 'the oldest kept is the 1000th from the end');
    assert.equal(modem.commands.at(-1), `AT+CSQ=${n - 1}`);
    assert.equal(modem.commandCount, n);
  });

  test('a limit that is not an integer >= 0 is refused', () => {
    const world = new SimWorld();
    assert.throws(() => world.addModem('cell0', { maxCommands: -2 }), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && /maxCommands/.test((e as Error).message));
  });
});
