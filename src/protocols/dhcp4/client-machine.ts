/**
 * The DHCPv4 client state machine (RFC 2131 §4.4, figure 5), sans I/O:
 *
 *   const client = createClient(config);
 *   const { state, actions } = step(client, { type: 'start' }, nowMs);
 *
 * The driver owns the socket (UDP 68, bound to the device, broadcast allowed) and ONE
 * timer: it performs the actions in order, arms the timer on `setTimer`, and feeds
 * `{ type: 'timer' }` back when it fires. Nothing here reads a clock, a random source or
 * a socket of its own. A packet that is malformed or not for us is counted in
 * `state.stats` and dropped; `step` never throws for anything that arrives on the wire.
 *
 * Departures from RFC 2131, each chosen for fast bring-up or robustness:
 * - §4.4.1 asks for a random 1–10 s wait before the first DISCOVER; we send at once.
 * - The first retransmission delay is configurable (see timing.ts).
 * - Offer selection: the first valid OFFER wins (§4.4.1 lets the client choose).
 * - Consecutive NAKs back off before rediscovery (timing.ts nakRestartDelayMs).
 * - After `requestAttempts` unanswered REQUESTs in REQUESTING or REBOOTING the client
 *   returns to INIT (§4.4.1, §3.2 leave the count to the client).
 */
import { ArgumentError } from '../../errors.js';
import {
  BOOTREPLY,
  HTYPE_ETHERNET,
  INFINITE_LEASE_S,
  MessageType,
  OptionCode,
  buildDecline,
  buildDiscover,
  buildRelease,
  buildRequest,
  decodeMessage,
  encodeMessage,
  formatIpv4,
  messageTypeName,
  netmaskToPrefixLength,
  parseIpv4,
  prefixLengthToNetmask,
} from './message-codec.js';
import type { ClientIdentity, DhcpMessage, DiscoverFields, MessageTypeName } from './message-codec.js';
import {
  RFC_DECLINE_WAIT_MS,
  RFC_INITIAL_RETRANSMIT_MS,
  RFC_MAX_RETRANSMIT_MS,
  RFC_MIN_RENEW_RETRY_MS,
  leaseDeadlines,
  leaseTimersS,
  nakRestartDelayMs,
  renewRetransmitAtMs,
  retransmitDelayMs,
  secsSince,
} from './timing.js';

export type ClientStateName =
  /** Not started, stopped, or the link went down. */
  | 'IDLE'
  /** About to DISCOVER; waiting here only after a DECLINE (§3.1.5) or repeated NAKs. */
  | 'INIT'
  | 'SELECTING'
  | 'REQUESTING'
  | 'BOUND'
  | 'RENEWING'
  | 'REBINDING'
  /** About to verify a remembered address (§3.2); passed through at once. */
  | 'INIT-REBOOT'
  | 'REBOOTING';

export interface ClientConfig {
  /** Ethernet address, 6 bytes (chaddr). */
  mac: Uint8Array;
  /** Uniform in [0, 1): retransmission jitter, and xids unless `xid` is given. */
  random: () => number;
  /** Option 61; default 0x01 followed by the MAC (RFC 2132 §9.14, type 1 = Ethernet). */
  clientId?: Uint8Array;
  /** Option 12, sent in DISCOVER and REQUEST. */
  hostname?: string;
  /** Transaction id generator (32-bit); default from `random`. */
  xid?: () => number;
  /** An address remembered from an earlier lease: start in INIT-REBOOT (§3.2), and ask for it in DISCOVER. */
  requestedAddress?: string;
  /** Send option 80 in DISCOVER and accept an ACK with option 80 in SELECTING (RFC 4039). Default false. */
  rapidCommit?: boolean;
  /** First retransmission delay; default 4000 (RFC 2131 §4.1). */
  initialRetransmitMs?: number;
  /** Cap of the retransmission back-off; default 64000 (RFC 2131 §4.1). */
  maxRetransmitMs?: number;
  /** Minimum wait between REQUESTs in RENEWING/REBINDING; default 60000 (RFC 2131 §4.4.5). */
  minRenewRetryMs?: number;
  /** REQUEST transmissions in REQUESTING or REBOOTING before going back to INIT; default 4. */
  requestAttempts?: number;
  /** Emit `gave-up` once this long after acquisition began without a lease; 0 = never. Default 30000. */
  giveUpAfterMs?: number;
  /** Wait after a DECLINE before rediscovering; default 10000 (RFC 2131 §3.1.5). */
  declineWaitMs?: number;
  /** Send DHCPRELEASE on `stop` when holding a lease. Default false. */
  releaseOnStop?: boolean;
  /** Option 55; default subnet mask, router, DNS, domain, MTU, broadcast, lease time, T1, T2. */
  parameterRequestList?: number[];
  /** Option 57 (≥ 576, RFC 2132 §9.10), e.g. the link MTU; omitted by default. */
  maxMessageSize?: number;
}

export interface ResolvedClientConfig {
  readonly identity: ClientIdentity;
  readonly random: () => number;
  readonly xid: () => number;
  readonly requestedAddress: string | undefined;
  readonly rapidCommit: boolean;
  readonly initialRetransmitMs: number;
  readonly maxRetransmitMs: number;
  readonly minRenewRetryMs: number;
  readonly requestAttempts: number;
  readonly giveUpAfterMs: number;
  readonly declineWaitMs: number;
  readonly releaseOnStop: boolean;
}

export interface Lease {
  address: string;
  prefixLength: number;
  netmask: string;
  /** Option 3, in the server's order of preference; may be empty. */
  routers: string[];
  /** Option 6; may be empty. */
  dns: string[];
  /** Option 28, else derived from address and prefix. */
  broadcast: string;
  serverId: string;
  /** Seconds; INFINITE_LEASE_S (0xffffffff) means infinite, and then t1S/t2S are too. */
  leaseTimeS: number;
  t1S: number;
  t2S: number;
  /** Option 26, when the server sent one of at least 68 (RFC 791 minimum). */
  mtu: number | undefined;
  /** Option 15. */
  domain: string | undefined;
  /** When the acknowledged REQUEST (or rapid-commit DISCOVER) was first sent (RFC 2131 §4.4.1). */
  acquiredAtMs: number;
}

export type ClientInput =
  | { type: 'start' }
  | { type: 'stop' }
  | { type: 'packet'; data: Uint8Array; fromAddress?: string }
  | { type: 'timer' }
  | { type: 'link-down' }
  | { type: 'address-conflict' };

export type ClientAction =
  /** Send to UDP port 67 of the limited broadcast address or of the server. */
  | { type: 'send'; message: MessageTypeName; data: Uint8Array; to: 'broadcast' | string; port: 67 }
  /** Arm the one timer (replacing any armed one) to fire at this monotonic time. */
  | { type: 'setTimer'; atMs: number }
  | { type: 'clearTimer' }
  /** A new lease (or a new address on renewal): apply address, routes, DNS. */
  | { type: 'bound'; lease: Lease }
  /** The same address, extended: update lifetimes. */
  | { type: 'renewed'; lease: Lease }
  /** The lease ran out (§4.4.5): remove the address; discovery has restarted. */
  | { type: 'expired'; lease: Lease }
  /** A server refused; any lease held is gone (remove the address); discovery restarts. */
  | { type: 'nak'; message: string | undefined; serverId: string | undefined; lostLease: Lease | undefined }
  /** DECLINE sent for this address (remove it); discovery restarts after the wait. */
  | { type: 'declined'; address: string }
  /** No lease for `giveUpAfterMs`: report a DHCP timeout. The machine keeps trying until stopped. */
  | { type: 'gave-up'; elapsedMs: number }
  | { type: 'log'; message: string };

export type DropReason =
  | 'not-expecting'
  | 'decode'
  | 'not-a-reply'
  | 'hardware-address'
  | 'xid'
  | 'no-message-type'
  | 'unexpected-message'
  | 'no-rapid-commit'
  | 'server-id'
  | 'no-server-id'
  | 'bad-address'
  | 'bad-netmask'
  | 'no-lease-time'
  | 'internal-error';

export interface ClientStats {
  readonly received: number;
  readonly sent: number;
  readonly dropped: number;
  readonly droppedBy: Readonly<Partial<Record<DropReason, number>>>;
}

/** Every named deadline; the driver's one timer is armed at the earliest. */
export interface ClientDeadlines {
  /** Retransmit the current DISCOVER/REQUEST (§4.1, §4.4.5). */
  resendAtMs?: number;
  /** Emit `gave-up`. */
  giveUpAtMs?: number;
  /** Leave INIT for SELECTING (after a DECLINE or repeated NAKs). */
  restartAtMs?: number;
  t1AtMs?: number;
  t2AtMs?: number;
  expiryAtMs?: number;
}

export interface ClientState {
  readonly name: ClientStateName;
  readonly config: ResolvedClientConfig;
  /** Transaction id of the current exchange. */
  readonly xid: number;
  /** The lease held in BOUND, RENEWING and REBINDING. */
  readonly lease: Lease | undefined;
  /** The OFFER being requested, in REQUESTING. */
  readonly offer: { address: string; serverId: string } | undefined;
  /** Address to ask for: remembered from config or the last lease. */
  readonly requestedAddress: string | undefined;
  /** Transmissions of the current message so far. */
  readonly transmissions: number;
  /** When the current message was first sent. */
  readonly exchangeStartMs: number;
  /** When the current attempt to get a lease began (secs field, give-up); undefined when not acquiring. */
  readonly acquisitionStartMs: number | undefined;
  /** RFC 2131 §3.1 step 3: the REQUEST repeats the DISCOVER's `secs`. */
  readonly discoverSecs: number;
  readonly consecutiveNaks: number;
  readonly deadlines: Readonly<ClientDeadlines>;
  /** The time the driver's timer is armed for, as far as the machine has asked. */
  readonly timerAtMs: number | undefined;
  readonly stats: ClientStats;
}

export interface StepResult {
  state: ClientState;
  actions: ClientAction[];
}

/** RFC 2131 §4.4.1 leaves option 55 to the client; these are what the Lease carries. */
export const DEFAULT_PARAMETER_REQUEST_LIST: readonly number[] = [
  OptionCode.SUBNET_MASK,
  OptionCode.ROUTER,
  OptionCode.DNS,
  OptionCode.DOMAIN_NAME,
  OptionCode.MTU,
  OptionCode.BROADCAST,
  OptionCode.LEASE_TIME,
  OptionCode.T1,
  OptionCode.T2,
];

// ---------------------------------------------------------------------------------------
// Creation

function checkMs(value: number | undefined, field: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min) throw new ArgumentError(`${field}: must be a finite number of at least ${min}`, { field });
  return value;
}

/** A usable unicast host address: not 0/8, loopback, multicast/reserved or broadcast. */
export function isUnicastAddress(address: string): boolean {
  const value = parseIpv4(address);
  if (value === undefined) return false;
  const first = value >>> 24;
  return first !== 0 && first !== 127 && first < 224;
}

/** Checks the config (ArgumentError naming the field) and returns a client in IDLE. */
export function createClient(config: ClientConfig): ClientState {
  const c = config;
  if (!(c.mac instanceof Uint8Array) || c.mac.length !== 6) throw new ArgumentError('mac: must be 6 bytes', { field: 'mac' });
  if (typeof c.random !== 'function') throw new ArgumentError('random: must be a function returning [0, 1)', { field: 'random' });
  const clientId = c.clientId ?? Uint8Array.of(1, ...c.mac);
  if (!(clientId instanceof Uint8Array) || clientId.length < 2 || clientId.length > 255) {
    throw new ArgumentError('clientId: must be 2 to 255 bytes (RFC 2132 §9.14)', { field: 'clientId' });
  }
  if (c.hostname !== undefined && (c.hostname.length < 1 || new TextEncoder().encode(c.hostname).length > 255 || c.hostname.includes('\0'))) {
    throw new ArgumentError('hostname: must be 1 to 255 bytes without NUL (RFC 2132 §3.14)', { field: 'hostname' });
  }
  if (c.requestedAddress !== undefined && !isUnicastAddress(c.requestedAddress)) {
    throw new ArgumentError('requestedAddress: must be a unicast dotted quad', { field: 'requestedAddress' });
  }
  const parameterRequestList = c.parameterRequestList ?? [...DEFAULT_PARAMETER_REQUEST_LIST];
  if (parameterRequestList.length > 255 || parameterRequestList.some((code) => !Number.isInteger(code) || code < 1 || code > 254)) {
    throw new ArgumentError('parameterRequestList: must be at most 255 option codes from 1 to 254', { field: 'parameterRequestList' });
  }
  if (c.maxMessageSize !== undefined && (!Number.isInteger(c.maxMessageSize) || c.maxMessageSize < 576 || c.maxMessageSize > 65535)) {
    throw new ArgumentError('maxMessageSize: must be an integer from 576 to 65535 (RFC 2132 §9.10)', { field: 'maxMessageSize' });
  }
  const initialRetransmitMs = checkMs(c.initialRetransmitMs, 'initialRetransmitMs', RFC_INITIAL_RETRANSMIT_MS, 1);
  const maxRetransmitMs = checkMs(c.maxRetransmitMs, 'maxRetransmitMs', Math.max(RFC_MAX_RETRANSMIT_MS, initialRetransmitMs), initialRetransmitMs);
  const requestAttempts = c.requestAttempts ?? 4;
  if (!Number.isInteger(requestAttempts) || requestAttempts < 1) {
    throw new ArgumentError('requestAttempts: must be an integer of at least 1', { field: 'requestAttempts' });
  }
  const random = c.random;
  const identity: ClientIdentity = { mac: Uint8Array.from(c.mac), clientId: Uint8Array.from(clientId), parameterRequestList };
  if (c.hostname !== undefined) identity.hostname = c.hostname;
  if (c.maxMessageSize !== undefined) identity.maxMessageSize = c.maxMessageSize;
  const resolved: ResolvedClientConfig = {
    identity,
    random,
    xid: c.xid ?? (() => Math.floor(random() * 0x1_0000_0000)),
    requestedAddress: c.requestedAddress,
    rapidCommit: c.rapidCommit ?? false,
    initialRetransmitMs,
    maxRetransmitMs,
    minRenewRetryMs: checkMs(c.minRenewRetryMs, 'minRenewRetryMs', RFC_MIN_RENEW_RETRY_MS, 1),
    requestAttempts,
    giveUpAfterMs: checkMs(c.giveUpAfterMs, 'giveUpAfterMs', 30_000, 0),
    declineWaitMs: checkMs(c.declineWaitMs, 'declineWaitMs', RFC_DECLINE_WAIT_MS, 0),
    releaseOnStop: c.releaseOnStop ?? false,
  };
  return {
    name: 'IDLE',
    config: resolved,
    xid: 0,
    lease: undefined,
    offer: undefined,
    requestedAddress: c.requestedAddress,
    transmissions: 0,
    exchangeStartMs: 0,
    acquisitionStartMs: undefined,
    discoverSecs: 0,
    consecutiveNaks: 0,
    deadlines: {},
    timerAtMs: undefined,
    stats: { received: 0, sent: 0, dropped: 0, droppedBy: {} },
  };
}

// ---------------------------------------------------------------------------------------
// Step

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Work {
  s: Omit<Mutable<ClientState>, 'deadlines' | 'stats'> & {
    deadlines: ClientDeadlines;
    stats: Omit<Mutable<ClientStats>, 'droppedBy'> & { droppedBy: Partial<Record<DropReason, number>> };
  };
  actions: ClientAction[];
  nowMs: number;
}

/** Feeds one input; returns the next state and the actions to perform, in order. Never mutates `state`. */
export function step(state: ClientState, input: ClientInput, nowMs: number): StepResult {
  const w: Work = {
    s: { ...state, deadlines: { ...state.deadlines }, stats: { ...state.stats, droppedBy: { ...state.stats.droppedBy } } },
    actions: [],
    nowMs,
  };
  if (input.type === 'packet') {
    try {
      runDueDeadlines(w);
      onPacket(w, input.data, input.fromAddress);
    } catch {
      // A bug must not take the client down with a packet: keep the state from before it.
      const stats = { ...state.stats, received: state.stats.received + 1, droppedBy: { ...state.stats.droppedBy } };
      const fallback: Work = { s: { ...state, deadlines: { ...state.deadlines }, stats }, actions: [], nowMs };
      drop(fallback, 'internal-error');
      return { state: fallback.s, actions: [] };
    }
  } else {
    switch (input.type) {
      case 'start':
        onStart(w);
        break;
      case 'stop':
        onStop(w);
        break;
      case 'timer':
        // The driver's one-shot timer has fired: nothing is armed any more.
        w.s.timerAtMs = undefined;
        runDueDeadlines(w);
        break;
      case 'link-down':
        onLinkDown(w);
        break;
      case 'address-conflict':
        onAddressConflict(w);
        break;
    }
  }
  // A deadline can be due already (a lease shorter than the exchange took, a zero decline
  // wait): handle it now so the driver is never asked to arm a timer in the past.
  runDueDeadlines(w);
  armTimer(w);
  return { state: w.s, actions: w.actions };
}

/** The one place that changes state; it logs "X -> Y" (RFC 2131 figure 5 names). */
function transition(w: Work, to: ClientStateName): void {
  if (w.s.name === to) return;
  w.actions.push({ type: 'log', message: `${w.s.name} -> ${to}` });
  w.s.name = to;
}

function armTimer(w: Work): void {
  let next: number | undefined;
  for (const at of Object.values(w.s.deadlines)) if (at !== undefined && (next === undefined || at < next)) next = at;
  if (next === w.s.timerAtMs) return;
  w.actions.push(next === undefined ? { type: 'clearTimer' } : { type: 'setTimer', atMs: next });
  w.s.timerAtMs = next;
}

function drop(w: Work, reason: DropReason): void {
  w.s.stats.dropped += 1;
  w.s.stats.droppedBy[reason] = (w.s.stats.droppedBy[reason] ?? 0) + 1;
}

function send(w: Work, message: DhcpMessage, to: 'broadcast' | string): void {
  const name = messageTypeName(message.options.messageType) ?? 'DISCOVER';
  w.actions.push({ type: 'send', message: name, data: encodeMessage(message), to, port: 67 });
  w.s.stats.sent += 1;
}

function newXid(w: Work): void {
  w.s.xid = Math.floor(w.s.config.xid()) >>> 0;
}

function retransmitPolicy(w: Work) {
  return { initialMs: w.s.config.initialRetransmitMs, maxMs: w.s.config.maxRetransmitMs };
}

/** Resend deadline after the n-th transmission of a DISCOVER/REQUEST (§4.1 back-off). */
function scheduleBackoff(w: Work): void {
  w.s.deadlines.resendAtMs = w.nowMs + retransmitDelayMs(w.s.transmissions - 1, retransmitPolicy(w), w.s.config.random);
}

function clearLeaseDeadlines(w: Work): void {
  delete w.s.deadlines.t1AtMs;
  delete w.s.deadlines.t2AtMs;
  delete w.s.deadlines.expiryAtMs;
}

function beginAcquisition(w: Work): void {
  w.s.acquisitionStartMs = w.nowMs;
  if (w.s.config.giveUpAfterMs > 0) w.s.deadlines.giveUpAtMs = w.nowMs + w.s.config.giveUpAfterMs;
  else delete w.s.deadlines.giveUpAtMs;
}

// --- inputs ----------------------------------------------------------------------------

function onStart(w: Work): void {
  if (w.s.name !== 'IDLE') {
    w.actions.push({ type: 'log', message: `start ignored in ${w.s.name}` });
    return;
  }
  beginAcquisition(w);
  if (w.s.requestedAddress !== undefined) {
    transition(w, 'INIT-REBOOT');
    newXid(w);
    w.s.transmissions = 0;
    w.s.exchangeStartMs = w.nowMs;
    sendRebootRequest(w);
    transition(w, 'REBOOTING');
  } else {
    transition(w, 'INIT');
    discover(w);
  }
}

/** Back to IDLE with no timer. The lease's address is remembered for INIT-REBOOT unless released. */
function goIdle(w: Work, released: boolean): void {
  if (w.s.lease) w.s.requestedAddress = released ? undefined : w.s.lease.address;
  w.s.lease = undefined;
  w.s.offer = undefined;
  w.s.acquisitionStartMs = undefined;
  w.s.transmissions = 0;
  w.s.deadlines = {};
  transition(w, 'IDLE');
}

function onStop(w: Work): void {
  const lease = w.s.lease;
  let released = false;
  if (lease && w.s.config.releaseOnStop) {
    // RFC 2131 §4.4.6: unicast to the server; new xid, ciaddr = our address.
    newXid(w);
    send(w, buildRelease(w.s.config.identity, { xid: w.s.xid, ciaddr: lease.address, serverId: lease.serverId }), lease.serverId);
    released = true;
  }
  goIdle(w, released);
}

/** Link lost: stop. The machine forgets the lease but remembers its address; the next start verifies it (INIT-REBOOT, §3.2). */
function onLinkDown(w: Work): void {
  if (w.s.name === 'IDLE') return;
  goIdle(w, false);
}

/** RFC 2131 §3.1.5 / §4.4.1: the offered address is in use: DECLINE, wait, start over. */
function onAddressConflict(w: Work): void {
  const lease = w.s.lease;
  if (!lease) {
    w.actions.push({ type: 'log', message: `address conflict ignored in ${w.s.name}: no lease` });
    return;
  }
  newXid(w);
  send(
    w,
    buildDecline(w.s.config.identity, { xid: w.s.xid, requestedIp: lease.address, serverId: lease.serverId, message: 'address in use' }),
    'broadcast',
  );
  w.actions.push({ type: 'declined', address: lease.address });
  w.s.lease = undefined;
  w.s.requestedAddress = undefined;
  w.s.acquisitionStartMs = undefined;
  clearLeaseDeadlines(w);
  delete w.s.deadlines.resendAtMs;
  transition(w, 'INIT');
  w.s.deadlines.restartAtMs = w.nowMs + w.s.config.declineWaitMs;
}

// --- deadlines -------------------------------------------------------------------------

/**
 * Handles every deadline that is due, most important first: a late timer (a suspended
 * machine) may find T1, T2 and expiry all past. Each handler removes its own deadline.
 */
function runDueDeadlines(w: Work): void {
  const now = w.nowMs;
  for (let round = 0; round < 16; round++) {
    const d = w.s.deadlines;
    if (d.expiryAtMs !== undefined && now >= d.expiryAtMs) onExpiry(w);
    else if (d.t2AtMs !== undefined && now >= d.t2AtMs) enterRebinding(w);
    else if (d.t1AtMs !== undefined && now >= d.t1AtMs) enterRenewing(w);
    else if (d.restartAtMs !== undefined && now >= d.restartAtMs) {
      delete d.restartAtMs;
      if (w.s.acquisitionStartMs === undefined) beginAcquisition(w);
      discover(w);
    } else if (d.resendAtMs !== undefined && now >= d.resendAtMs) onResend(w);
    else if (d.giveUpAtMs !== undefined && now >= d.giveUpAtMs) {
      delete d.giveUpAtMs;
      w.actions.push({ type: 'gave-up', elapsedMs: now - (w.s.acquisitionStartMs ?? now) });
    } else return;
  }
}

/** RFC 2131 §4.4.5: the lease is gone; start over as if uninitialized. */
function onExpiry(w: Work): void {
  const lease = w.s.lease;
  clearLeaseDeadlines(w);
  delete w.s.deadlines.resendAtMs;
  w.s.lease = undefined;
  if (lease) {
    w.actions.push({ type: 'expired', lease });
    // Asking for the old address again is allowed (table 5: option 50 MAY in DISCOVER).
    w.s.requestedAddress = lease.address;
  }
  transition(w, 'INIT');
  beginAcquisition(w);
  discover(w);
}

/** RFC 2131 §4.4.5: at T1, unicast a REQUEST to the server that gave the lease. */
function enterRenewing(w: Work): void {
  delete w.s.deadlines.t1AtMs;
  const lease = w.s.lease;
  if (!lease || w.s.name !== 'BOUND') return;
  transition(w, 'RENEWING');
  newXid(w);
  w.s.transmissions = 0;
  w.s.exchangeStartMs = w.nowMs;
  sendExtendRequest(w);
}

/** RFC 2131 §4.4.5: at T2, broadcast the REQUEST to any server. */
function enterRebinding(w: Work): void {
  delete w.s.deadlines.t1AtMs;
  delete w.s.deadlines.t2AtMs;
  const lease = w.s.lease;
  if (!lease || (w.s.name !== 'BOUND' && w.s.name !== 'RENEWING')) return;
  transition(w, 'REBINDING');
  newXid(w);
  w.s.transmissions = 0;
  w.s.exchangeStartMs = w.nowMs;
  sendExtendRequest(w);
}

function onResend(w: Work): void {
  delete w.s.deadlines.resendAtMs;
  switch (w.s.name) {
    case 'SELECTING':
      sendDiscover(w);
      return;
    case 'REQUESTING':
    case 'REBOOTING':
      if (w.s.transmissions >= w.s.config.requestAttempts) {
        // §4.4.1 / §3.2: no ACK or NAK after retransmitting: back to INIT. The acquisition goes on.
        w.s.offer = undefined;
        transition(w, 'INIT');
        discover(w);
      } else if (w.s.name === 'REQUESTING') sendSelectingRequest(w);
      else sendRebootRequest(w);
      return;
    case 'RENEWING':
    case 'REBINDING':
      sendExtendRequest(w);
      return;
    default:
      return;
  }
}

// --- sending ---------------------------------------------------------------------------

/** From INIT: a fresh DISCOVER exchange. */
function discover(w: Work): void {
  newXid(w);
  w.s.offer = undefined;
  w.s.transmissions = 0;
  w.s.exchangeStartMs = w.nowMs;
  delete w.s.deadlines.restartAtMs;
  sendDiscover(w);
  transition(w, 'SELECTING');
}

function acquisitionSecs(w: Work): number {
  return secsSince(w.s.acquisitionStartMs ?? w.nowMs, w.nowMs);
}

function sendDiscover(w: Work): void {
  w.s.discoverSecs = acquisitionSecs(w);
  const fields: DiscoverFields = { xid: w.s.xid, secs: w.s.discoverSecs, rapidCommit: w.s.config.rapidCommit };
  if (w.s.requestedAddress !== undefined) fields.requestedIp = w.s.requestedAddress;
  send(w, buildDiscover(w.s.config.identity, fields), 'broadcast');
  w.s.transmissions += 1;
  scheduleBackoff(w);
}

/** §4.3.2 SELECTING: same xid and secs as the DISCOVER, server id and requested IP set; broadcast. */
function sendSelectingRequest(w: Work): void {
  const offer = w.s.offer;
  if (!offer) return;
  send(
    w,
    buildRequest(w.s.config.identity, { kind: 'selecting', xid: w.s.xid, secs: w.s.discoverSecs, requestedIp: offer.address, serverId: offer.serverId }),
    'broadcast',
  );
  w.s.transmissions += 1;
  scheduleBackoff(w);
}

/** §4.3.2 INIT-REBOOT: requested IP set, no server id; broadcast. */
function sendRebootRequest(w: Work): void {
  const address = w.s.requestedAddress;
  if (address === undefined) return;
  send(w, buildRequest(w.s.config.identity, { kind: 'init-reboot', xid: w.s.xid, secs: acquisitionSecs(w), requestedIp: address }), 'broadcast');
  w.s.transmissions += 1;
  scheduleBackoff(w);
}

/** §4.3.2 RENEWING (unicast to the server) / REBINDING (broadcast): ciaddr set; resend per §4.4.5. */
function sendExtendRequest(w: Work): void {
  const lease = w.s.lease;
  const deadlines = lease && leaseDeadlines(lease);
  if (!lease || !deadlines) return;
  const renewing = w.s.name === 'RENEWING';
  const kind = renewing ? 'renewing' : 'rebinding';
  const secs = secsSince(w.s.exchangeStartMs, w.nowMs);
  send(w, buildRequest(w.s.config.identity, { kind, xid: w.s.xid, secs, ciaddr: lease.address }), renewing ? lease.serverId : 'broadcast');
  w.s.transmissions += 1;
  const until = renewing ? deadlines.t2AtMs : deadlines.expiryAtMs;
  const at = renewRetransmitAtMs(w.nowMs, until, w.s.config.minRenewRetryMs);
  // At the deadline itself T2 or expiry takes over.
  if (at < until) w.s.deadlines.resendAtMs = at;
  else delete w.s.deadlines.resendAtMs;
}

// --- receiving -------------------------------------------------------------------------

const LISTENING: ReadonlySet<ClientStateName> = new Set(['SELECTING', 'REQUESTING', 'RENEWING', 'REBINDING', 'REBOOTING']);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function onPacket(w: Work, data: Uint8Array, fromAddress: string | undefined): void {
  w.s.stats.received += 1;
  if (!LISTENING.has(w.s.name)) return drop(w, 'not-expecting');
  const decoded = decodeMessage(data);
  if (!decoded.ok) return drop(w, 'decode');
  const m = decoded.message;
  if (m.op !== BOOTREPLY) return drop(w, 'not-a-reply');
  if (m.htype !== HTYPE_ETHERNET || !sameBytes(m.chaddr, w.s.config.identity.mac)) return drop(w, 'hardware-address');
  if (m.xid !== w.s.xid) return drop(w, 'xid');
  const type = m.options.messageType;
  if (type === undefined) return drop(w, 'no-message-type');

  switch (w.s.name) {
    case 'SELECTING':
      if (type === MessageType.OFFER) return onOffer(w, m);
      if (type === MessageType.ACK) {
        // RFC 4039 §4: in SELECTING only an ACK carrying Rapid Commit counts, and only if we asked.
        if (!w.s.config.rapidCommit || !m.options.rapidCommit) return drop(w, 'no-rapid-commit');
        return onAck(w, m, fromAddress);
      }
      return drop(w, 'unexpected-message');
    case 'REQUESTING':
    case 'REBOOTING':
    case 'RENEWING':
    case 'REBINDING': {
      if (type !== MessageType.ACK && type !== MessageType.NAK) return drop(w, 'unexpected-message');
      // In REQUESTING only the selected server answers (§4.3.2: others treat the REQUEST as a decline).
      const selected = w.s.offer?.serverId;
      if (w.s.name === 'REQUESTING' && selected !== undefined && m.options.serverId !== undefined && m.options.serverId !== selected) {
        return drop(w, 'server-id');
      }
      return type === MessageType.ACK ? onAck(w, m, fromAddress) : onNak(w, m);
    }
    default:
      return drop(w, 'not-expecting');
  }
}

function onOffer(w: Work, m: DhcpMessage): void {
  if (!isUnicastAddress(m.yiaddr)) return drop(w, 'bad-address');
  const serverId = m.options.serverId;
  // RFC 2131 §4.3.1: the server MUST include its identifier; we need it for the REQUEST.
  if (serverId === undefined) return drop(w, 'no-server-id');
  if (!isUnicastAddress(serverId)) return drop(w, 'bad-address');
  // First valid offer wins (§4.4.1 lets the client pick; we want speed, not the best lease).
  w.s.offer = { address: m.yiaddr, serverId };
  transition(w, 'REQUESTING');
  w.s.transmissions = 0;
  w.s.exchangeStartMs = w.nowMs;
  sendSelectingRequest(w);
}

/** Classful mask when the server sends none (RFC 2131 leaves it open; systemd does the same). */
function classfulPrefixLength(address: string): number {
  const first = (parseIpv4(address) ?? 0) >>> 24;
  return first < 128 ? 8 : first < 192 ? 16 : 24;
}

function onAck(w: Work, m: DhcpMessage, fromAddress: string | undefined): void {
  const o = m.options;
  if (!isUnicastAddress(m.yiaddr)) return drop(w, 'bad-address');
  // RFC 2131 §4.3.1: an ACK to a REQUEST MUST carry the lease time; 0 would expire at once.
  if (o.leaseTimeS === undefined || o.leaseTimeS === 0) return drop(w, 'no-lease-time');
  const serverId = o.serverId ?? w.s.offer?.serverId ?? w.s.lease?.serverId ?? fromAddress;
  if (serverId === undefined) return drop(w, 'no-server-id');
  if (!isUnicastAddress(serverId)) return drop(w, 'bad-address');
  const prefixLength = o.subnetMask !== undefined ? netmaskToPrefixLength(o.subnetMask) : classfulPrefixLength(m.yiaddr);
  // /31 and /32 are legal (RFC 3021; some cloud servers hand out /32).
  if (prefixLength === undefined || prefixLength < 1) return drop(w, 'bad-netmask');
  const { t1S, t2S } = leaseTimersS(o.leaseTimeS, o.t1S, o.t2S);
  const addressValue = parseIpv4(m.yiaddr) ?? 0;
  const hostMask = prefixLength === 32 ? 0 : 0xffffffff >>> prefixLength;
  const lease: Lease = {
    address: m.yiaddr,
    prefixLength,
    netmask: prefixLengthToNetmask(prefixLength),
    routers: (o.routers ?? []).filter(isUnicastAddress),
    dns: (o.dns ?? []).filter(isUnicastAddress),
    broadcast: o.broadcast ?? formatIpv4((addressValue | hostMask) >>> 0),
    serverId,
    leaseTimeS: o.leaseTimeS,
    t1S,
    t2S,
    mtu: o.mtu !== undefined && o.mtu >= 68 ? o.mtu : undefined,
    domain: o.domainName === undefined || o.domainName === '' ? undefined : o.domainName,
    // §4.4.1: the lease runs from when the client sent the request.
    acquiredAtMs: w.s.exchangeStartMs,
  };
  const previous = w.s.lease;
  const same = previous !== undefined && previous.address === lease.address && previous.prefixLength === lease.prefixLength;
  w.s.lease = lease;
  w.s.offer = undefined;
  w.s.requestedAddress = lease.address;
  w.s.acquisitionStartMs = undefined;
  w.s.consecutiveNaks = 0;
  w.s.transmissions = 0;
  w.s.deadlines = {};
  const deadlines = leaseDeadlines(lease);
  if (deadlines) w.s.deadlines = { ...deadlines };
  transition(w, 'BOUND');
  w.actions.push(same ? { type: 'renewed', lease } : { type: 'bound', lease });
}

/** RFC 2131 §3.1 step 5, §3.2, §4.4.5: a NAK ends the lease or the attempt; restart in INIT. */
function onNak(w: Work, m: DhcpMessage): void {
  const lostLease = w.s.lease;
  w.actions.push({ type: 'nak', message: m.options.message, serverId: m.options.serverId, lostLease });
  w.s.lease = undefined;
  w.s.offer = undefined;
  // The address we asked for (or held) is wrong for this network.
  w.s.requestedAddress = undefined;
  w.s.consecutiveNaks += 1;
  if (lostLease) w.s.acquisitionStartMs = undefined;
  clearLeaseDeadlines(w);
  delete w.s.deadlines.resendAtMs;
  transition(w, 'INIT');
  const delayMs = nakRestartDelayMs(w.s.consecutiveNaks, retransmitPolicy(w));
  if (delayMs === 0) {
    if (w.s.acquisitionStartMs === undefined) beginAcquisition(w);
    discover(w);
  } else w.s.deadlines.restartAtMs = w.nowMs + delayMs;
}

/** An infinite lease never expires; exported for drivers that turn leases into address lifetimes. */
export function isInfiniteLease(lease: Lease): boolean {
  return lease.leaseTimeS === INFINITE_LEASE_S;
}
