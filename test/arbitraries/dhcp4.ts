/**
 * DHCPv4 fuzz inputs and the invariants they are checked against, shared by the unit fuzz
 * test (src/protocols/dhcp4/fuzz.test.ts) and the long fuzzer (faults/fuzz/dhcp.ts). Inputs
 * are plain data (bytes, command lists) so that a failing case can be kept as a regression
 * file; each check throws on a broken invariant.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BOOTREPLY, BOOTREQUEST, MessageType, decodeMessage, encodeMessage } from '../../src/protocols/dhcp4/message-codec.js';
import type { DhcpMessage, DhcpOptions } from '../../src/protocols/dhcp4/message-codec.js';
import { createClient, step } from '../../src/protocols/dhcp4/client-machine.js';
import type { ClientAction, ClientConfig, ClientInput, ClientState, ClientStateName } from '../../src/protocols/dhcp4/client-machine.js';

const MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x01);
const SERVER = '10.77.0.1';

/** A server's answer to the client's last request (or to none: xid 0). */
function replyTo(request: DhcpMessage | undefined, type: number, leaseTimeS: number, extra: Partial<DhcpOptions> = {}): Uint8Array {
  const options: DhcpOptions =
    type === MessageType.NAK
      ? { messageType: type, serverId: SERVER, message: 'no', unknown: [] }
      : {
          messageType: type,
          serverId: SERVER,
          leaseTimeS,
          subnetMask: '255.255.255.0',
          routers: [SERVER],
          dns: [SERVER, '10.77.0.2'],
          domainName: 'lab.test',
          mtu: 1500,
          unknown: [{ code: 121, data: Uint8Array.of(24, 10, 1, 2, 10, 77, 0, 1) }],
          ...extra,
        };
  return encodeMessage({
    op: BOOTREPLY,
    htype: 1,
    hops: 0,
    xid: request?.xid ?? 0,
    secs: 0,
    flags: request?.flags ?? 0,
    ciaddr: request?.ciaddr ?? '0.0.0.0',
    yiaddr: type === MessageType.NAK ? '0.0.0.0' : (request?.options.requestedIp ?? '10.77.0.63'),
    siaddr: SERVER,
    giaddr: '0.0.0.0',
    chaddr: request?.chaddr ?? MAC,
    sname: '',
    file: '',
    options,
  });
}

/** A valid OFFER with options also in file and sname (option 52), to give mutations more to chew on. */
function overloadedReply(): Uint8Array {
  const bytes = Uint8Array.from(replyTo(undefined, MessageType.OFFER, 60));
  const end = bytes.indexOf(255, 240);
  bytes.set([52, 1, 3, 255], end);
  bytes.set([3, 4, 10, 0, 0, 1, 255], 108);
  bytes.set([6, 4, 8, 8, 8, 8, 255], 44);
  return bytes;
}

/** Valid replies the mutations start from: OFFER, NAK, overloaded OFFER, infinite-lease ACK. */
const VALID_REPLIES = [replyTo(undefined, MessageType.OFFER, 3600), replyTo(undefined, MessageType.NAK, 0), overloadedReply(), replyTo(undefined, MessageType.ACK, 0xffffffff)];

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'lie'; option: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('lie' as const), option: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

/** Offsets of the length bytes of the options after the cookie. */
function optionLengthOffsets(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let i = 240;
  while (i + 1 < bytes.length && bytes[i] !== 255) {
    if (bytes[i] === 0) {
      i += 1;
      continue;
    }
    out.push(i + 1);
    i += 2 + (bytes[i + 1] ?? 0);
  }
  return out;
}

function mutate(seed: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(seed);
  for (const m of mutations) {
    if (bytes.length === 0) break;
    switch (m.kind) {
      case 'flip': {
        const at = m.at % bytes.length;
        bytes[at] = (bytes[at] ?? 0) ^ (1 << m.bit);
        break;
      }
      case 'set':
        bytes[m.at % bytes.length] = m.value;
        break;
      case 'truncate':
        bytes = bytes.slice(0, m.at % (bytes.length + 1));
        break;
      case 'lie': {
        const offsets = optionLengthOffsets(bytes);
        const at = offsets[m.option % Math.max(1, offsets.length)];
        if (at !== undefined) bytes[at] = m.value;
        break;
      }
      case 'insert': {
        const at = m.at % (bytes.length + 1);
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...m.bytes, ...bytes.subarray(at)]);
        break;
      }
    }
  }
  return bytes;
}

// ---------------------------------------------------------------- the decoder

/** Random bytes, up to an Ethernet frame. */
export const randomMessageArb = fc.uint8Array({ maxLength: 1500 });

/** A valid fixed header and cookie followed by random option bytes. */
export const randomOptionsArb = fc.uint8Array({ maxLength: 600 }).map((options) => Uint8Array.from([...VALID_REPLIES[0]!.subarray(0, 240), ...options]));

/** Valid replies with bit flips, truncation, option-length lies and insertions. */
export const mutatedReplyArb = fc.tuple(fc.constantFrom(...VALID_REPLIES), fc.array(mutationArb, { minLength: 1, maxLength: 6 })).map(([seed, ms]) => mutate(seed, ms));

/** decodeMessage never throws; what decodes is self-consistent and survives encode/decode; an error says why. */
export function checkDecoded(bytes: Uint8Array): void {
  const r = decodeMessage(bytes);
  assert.equal(typeof r.ok, 'boolean');
  if (!r.ok) {
    assert.equal(typeof r.error, 'string');
    assert.ok(r.error.length > 0);
    return;
  }
  const m = r.message;
  assert.ok(m.op === BOOTREQUEST || m.op === BOOTREPLY);
  assert.ok(m.chaddr.length <= 16);
  for (const a of [m.ciaddr, m.yiaddr, m.siaddr, m.giaddr]) assert.match(a, /^\d+\.\d+\.\d+\.\d+$/);
  for (const o of m.options.unknown) assert.ok(o.code > 0 && o.code < 255);
  const again = decodeMessage(encodeMessage(m));
  assert.ok(again.ok, `a decoded message does not survive encode/decode: ${again.ok ? '' : again.error}`);
}

// ---------------------------------------------------------------- the machine

export type Command =
  | { kind: 'fire' }
  | { kind: 'wait'; ms: number }
  | { kind: 'random-packet'; data: Uint8Array }
  | { kind: 'reply'; type: number; leaseTimeS: number; rapid: boolean; mutations: Mutation[] }
  | { kind: 'input'; input: ClientInput };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'fire' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 200_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('random-packet' as const), data: fc.uint8Array({ maxLength: 400 }) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('reply' as const),
      type: fc.constantFrom(MessageType.OFFER, MessageType.ACK, MessageType.NAK, MessageType.ACK, MessageType.DISCOVER),
      leaseTimeS: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.constant(0xffffffff)),
      rapid: fc.boolean(),
      mutations: fc.array(mutationArb, { maxLength: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<ClientInput>({ type: 'start' }, { type: 'stop' }, { type: 'link-down' }, { type: 'address-conflict' })
      .map((input) => ({ kind: 'input' as const, input })),
  },
);

const configArb: fc.Arbitrary<Partial<ClientConfig>> = fc.record(
  {
    rapidCommit: fc.boolean(),
    requestedAddress: fc.constant('10.77.0.50'),
    initialRetransmitMs: fc.integer({ min: 1, max: 4_000 }),
    minRenewRetryMs: fc.integer({ min: 1, max: 60_000 }),
    requestAttempts: fc.integer({ min: 1, max: 5 }),
    giveUpAfterMs: fc.integer({ min: 0, max: 60_000 }),
    declineWaitMs: fc.integer({ min: 0, max: 10_000 }),
    releaseOnStop: fc.boolean(),
  },
  { requiredKeys: [] },
);

export interface MachineCase {
  config: Partial<ClientConfig>;
  commands: Command[];
  /** Seeds the machine's random source (xid, jitter). */
  seed: number;
}

/** A random config and up to 40 commands: timers, waits, random packets, mutated replies, link events. */
export const machineCaseArb: fc.Arbitrary<MachineCase> = fc.record({ config: configArb, commands: fc.array(commandArb, { maxLength: 40 }), seed: fc.integer() });

const LEASE_STATES: ReadonlySet<ClientStateName> = new Set(['BOUND', 'RENEWING', 'REBINDING']);
const WAITING_STATES: ReadonlySet<ClientStateName> = new Set(['INIT', 'SELECTING', 'REQUESTING', 'REBOOTING', 'RENEWING', 'REBINDING']);

function checkStep(before: ClientState, state: ClientState, actions: ClientAction[], nowMs: number): void {
  assert.equal(state.stats.droppedBy['internal-error'], undefined, 'the machine hit an internal error');
  assert.equal(LEASE_STATES.has(state.name), state.lease !== undefined, `lease presence in ${state.name}`);
  const deadlines = Object.values(state.deadlines).filter((d): d is number => d !== undefined);
  const earliest = deadlines.length ? Math.min(...deadlines) : undefined;
  assert.equal(state.timerAtMs, earliest, 'the armed timer is the earliest deadline');
  if (earliest !== undefined) assert.ok(earliest > nowMs, `a due deadline was left behind in ${state.name}`);
  // A state that waits for something always has a timer to get it out of there.
  if (WAITING_STATES.has(state.name)) assert.notEqual(state.timerAtMs, undefined, `no timer in ${state.name}`);
  if (state.name === 'IDLE') assert.equal(state.timerAtMs, undefined);
  assert.ok(state.stats.dropped <= state.stats.received);
  for (const a of actions) {
    if (a.type === 'setTimer') assert.ok(Number.isFinite(a.atMs) && a.atMs > nowMs);
    if (a.type === 'send') {
      const r = decodeMessage(a.data);
      assert.ok(r.ok && r.message.op === BOOTREQUEST, 'the client sends valid requests');
      assert.ok(a.to === 'broadcast' || /^\d+\.\d+\.\d+\.\d+$/.test(a.to));
    }
    if (a.type === 'bound' || a.type === 'renewed') {
      assert.ok(a.lease.t1S <= a.lease.t2S && a.lease.t2S <= a.lease.leaseTimeS);
      assert.ok(a.lease.prefixLength >= 1 && a.lease.prefixLength <= 32);
    }
  }
  assert.ok(state.stats.sent >= before.stats.sent);
}

/** Runs a command sequence through the machine, checking the invariants after every step; returns the states visited. */
export function runMachine({ config, commands, seed }: MachineCase): Set<ClientStateName> {
  let x = seed >>> 0 || 1;
  const random = () => {
    // xorshift32: deterministic per case.
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
  let state = createClient({ mac: MAC, random, ...config });
  let nowMs = 0;
  let lastSent: DhcpMessage | undefined;
  const visited = new Set<ClientStateName>([state.name]);
  const feed = (input: ClientInput) => {
    const before = state;
    const r = step(state, input, nowMs);
    checkStep(before, r.state, r.actions, nowMs);
    state = r.state;
    visited.add(state.name);
    for (const a of r.actions) {
      if (a.type !== 'send') continue;
      const d = decodeMessage(a.data);
      if (d.ok) lastSent = d.message;
    }
  };
  feed({ type: 'start' });
  for (const c of commands) {
    switch (c.kind) {
      case 'fire':
        if (state.timerAtMs !== undefined) {
          nowMs = Math.max(nowMs, state.timerAtMs);
          feed({ type: 'timer' });
        }
        break;
      case 'wait':
        nowMs += c.ms;
        break;
      case 'random-packet':
        feed({ type: 'packet', data: c.data });
        break;
      case 'reply':
        feed({ type: 'packet', data: mutate(replyTo(lastSent, c.type, c.leaseTimeS, c.rapid ? { rapidCommit: true } : {}), c.mutations), fromAddress: SERVER });
        break;
      case 'input':
        feed(c.input);
        break;
      default:
        assert.fail(`unknown fuzz command ${JSON.stringify(c)}`);
    }
  }
  return visited;
}

/** States reached by a fixed script, where any stray packet must be dropped. */
export const DROP_STATES = ['IDLE', 'SELECTING', 'REQUESTING'] as const;

export interface DropCase {
  state: (typeof DROP_STATES)[number];
  data: Uint8Array;
}

/** Random bytes for a packet that arrives in one of DROP_STATES. */
export const dropDataArb = fc.uint8Array({ maxLength: 600 });
export const dropCaseArb: fc.Arbitrary<DropCase> = fc.record({ state: fc.constantFrom(...DROP_STATES), data: dropDataArb });

/** Random bytes in IDLE, SELECTING or REQUESTING are counted as dropped and change nothing. */
export function checkDropped({ state: name, data }: DropCase): void {
  let state = createClient({ mac: MAC, random: () => 0.5 });
  let lastSent: DhcpMessage | undefined;
  const feed = (input: ClientInput) => {
    const r = step(state, input, 0);
    state = r.state;
    for (const a of r.actions) {
      const d = a.type === 'send' ? decodeMessage(a.data) : undefined;
      if (d?.ok) lastSent = d.message;
    }
    return r;
  };
  feed({ type: 'start' });
  if (name === 'IDLE') feed({ type: 'stop' });
  if (name === 'REQUESTING') feed({ type: 'packet', data: replyTo(lastSent, MessageType.OFFER, 100) });
  assert.equal(state.name, name);
  assert.equal(state.stats.dropped, 0, 'the script to reach the state drops nothing');
  const r = feed({ type: 'packet', data });
  // Random bytes that happen to form a valid reply for this exchange are vanishingly rare:
  // the xid must match the one the client chose, so a drop is the only outcome.
  assert.equal(state.name, name);
  assert.equal(state.stats.dropped, 1);
  assert.deepEqual(r.actions, []);
}
