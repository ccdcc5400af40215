/**
 * The WiFi station machine: turns wpa_supplicant events and STATUS polls into impOS WiFi
 * states. Pure: `step(state, input, nowMs) -> { state, actions }`, actions as data.
 *
 *   start ─► SCANNING 100 ─► JOINING 101 ─► LINK_UP 103   (driver: DHCP, then CONNECTED)
 *   start-wps ─► WPSING 102 ─► (WPS-SUCCESS) JOINING 101 ─► LINK_UP 103
 *   failures ─► STOPPED_UNHAPPY 106 with a Reason; stop ─► STOPPED 105
 *
 * wpa_supplicant retries by itself (temporary disables with growing back-off), so most
 * failures only change what we report. Two are acted on: after `wrongKeyLimit` WRONG_KEY
 * disables the machine sends DISABLE_NETWORK, so a wrong key is not retried silently
 * forever; and a failed WPS run is cancelled. The `retry` input undoes either.
 *
 * The machine owns no timer and no socket; the driver in core/ sends the commands, runs
 * DHCP after `link-up`, and feeds back events (after ATTACH) and STATUS replies.
 * A line or event that cannot be used is counted and dropped; `step` never throws.
 */
import { NetState, Reason, stateName, type NetStateValue, type ReasonCode } from '../../states.js';
import {
  disableNetwork,
  disconnect,
  enableNetwork,
  selectNetwork,
  wpsCancel,
  wpsPbc,
  type ControlCommand,
} from './command-encoder.js';
import { decodeEventLine, describeEvent, type WpaEvent } from './event-decoder.js';
import { isJoiningState, type SupplicantStatus, type WpaState } from './status-decoder.js';

export type StationPhase = 'idle' | 'scanning' | 'joining' | 'wpsing' | 'link-up' | 'unhappy' | 'stopped';

export interface StationConfig {
  /** WRONG_KEY temporary disables before reporting wrong-key and disabling the network. Default 2. */
  wrongKeyLimit?: number;
  /** CTRL-EVENT-NETWORK-NOT-FOUND events (one per finished scan) before reporting network-not-found. Default 3. */
  notFoundLimit?: number;
}

export interface ResolvedStationConfig {
  readonly wrongKeyLimit: number;
  readonly notFoundLimit: number;
}

export interface StationStats {
  /** Events and STATUS replies looked at. */
  readonly inputs: number;
  /** Lines that did not decode (counted and dropped). */
  readonly malformed: number;
  /** Events this machine does not use (BSS-ADDED, EAP-…). */
  readonly unknown: number;
  /** Events about another network id, or that came while stopped. */
  readonly ignored: number;
}

export interface StationState {
  readonly phase: StationPhase;
  readonly config: ResolvedStationConfig;
  /** The impOS state last reported; undefined before the first start. */
  readonly netState: NetStateValue | undefined;
  readonly reason: ReasonCode | undefined;
  /** When netState last changed (driver's monotonic ms). */
  readonly sinceMs: number;
  /** The network being joined; set by start, or learnt from CONNECTED after WPS. */
  readonly networkId: number | undefined;
  /** Started with WPS push-button (until WPS-SUCCESS or CONNECTED). */
  readonly wps: boolean;
  readonly wpsBssid: string | undefined;
  /** The AP of the current link. */
  readonly bssid: string | undefined;
  readonly wrongKeyCount: number;
  readonly notFoundCount: number;
  /** The machine sent DISABLE_NETWORK after repeated wrong keys; `retry` re-enables. */
  readonly disabledByUs: boolean;
  /** The supplicant died or terminated: nothing more will come until the next start. */
  readonly supplicantGone: boolean;
  readonly stats: StationStats;
}

export type StationInput =
  /** The driver added and configured network `networkId`; the machine selects it. */
  | { type: 'start'; networkId: number }
  /** Start WPS push-button (with any AP, or one BSSID). */
  | { type: 'start-wps'; bssid?: string }
  /** A decoded event line. */
  | { type: 'event'; event: WpaEvent }
  /** A raw event line (decoded here). */
  | { type: 'line'; line: string }
  /** A decoded STATUS reply (poll, or sync after (re)attaching). */
  | { type: 'status'; status: SupplicantStatus }
  /** Try again after STOPPED_UNHAPPY: re-enable the network or restart WPS. */
  | { type: 'retry' }
  /** The control socket closed or the process exited. */
  | { type: 'supplicant-gone' }
  | { type: 'stop' };

export type StationAction =
  /** Report this impOS state (with its reason) to the interface's callback. */
  | { type: 'state'; value: NetStateValue; reason: ReasonCode }
  /** Send this command; log `command.redacted` only. */
  | { type: 'command'; command: ControlCommand }
  /** The WiFi link is up: start DHCP (or apply the static address). */
  | { type: 'link-up'; bssid: string | undefined; networkId: number | undefined }
  /** The link is gone: stop DHCP, remove the address. */
  | { type: 'link-down' }
  | { type: 'log'; level: 'debug' | 'error'; message: string };

export interface StationStepResult {
  state: StationState;
  actions: StationAction[];
}

export const DEFAULT_WRONG_KEY_LIMIT = 2;
export const DEFAULT_NOT_FOUND_LIMIT = 3;

function limit(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isInteger(value) && value >= 1 && value <= 1000 ? value : fallback;
}

export function createStation(config: StationConfig = {}): StationState {
  return {
    phase: 'idle',
    config: {
      wrongKeyLimit: limit(config.wrongKeyLimit, DEFAULT_WRONG_KEY_LIMIT),
      notFoundLimit: limit(config.notFoundLimit, DEFAULT_NOT_FOUND_LIMIT),
    },
    netState: undefined,
    reason: undefined,
    sinceMs: 0,
    networkId: undefined,
    wps: false,
    wpsBssid: undefined,
    bssid: undefined,
    wrongKeyCount: 0,
    notFoundCount: 0,
    disabledByUs: false,
    supplicantGone: false,
    stats: { inputs: 0, malformed: 0, unknown: 0, ignored: 0 },
  };
}

const phaseState: Record<Exclude<StationPhase, 'idle'>, NetStateValue> = {
  scanning: NetState.WIFI_SCANNING,
  joining: NetState.WIFI_JOINING,
  wpsing: NetState.WIFI_WPSING,
  'link-up': NetState.WIFI_LINK_UP,
  unhappy: NetState.WIFI_STOPPED_UNHAPPY,
  stopped: NetState.WIFI_STOPPED,
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One step's working copy: state being built and the actions emitted so far. */
class Step {
  readonly s: Mutable<StationState>;
  readonly stats: Mutable<StationStats>;
  readonly actions: StationAction[] = [];
  constructor(
    state: StationState,
    readonly nowMs: number,
  ) {
    this.stats = { ...state.stats };
    this.s = { ...state };
  }

  log(message: string, level: 'debug' | 'error' = 'debug'): void {
    this.actions.push({ type: 'log', level, message });
  }

  command(build: () => ControlCommand): void {
    this.actions.push({ type: 'command', command: build() });
  }

  /**
   * The one place phase and reported state change. A state action goes out when the
   * value changes, or when STOPPED_UNHAPPY's reason changes. Leaving LINK_UP emits
   * link-down first; entering it emits link-up after the state.
   */
  enter(phase: Exclude<StationPhase, 'idle'>, reason: ReasonCode): void {
    const s = this.s;
    const value = phaseState[phase];
    const wasUp = s.phase === 'link-up';
    if (wasUp && phase !== 'link-up') this.actions.push({ type: 'link-down' });
    s.phase = phase;
    const changed = s.netState !== value || (value === NetState.WIFI_STOPPED_UNHAPPY && s.reason !== reason);
    if (changed) {
      const from = s.netState === undefined ? 'start' : (stateName(s.netState) ?? String(s.netState));
      const after = s.netState === undefined ? '' : ` after ${Math.max(0, Math.round(this.nowMs - s.sinceMs))} ms`;
      this.log(`wifi ${from} -> ${stateName(value) ?? value} (${reason})${after}`);
      s.netState = value;
      s.reason = reason;
      s.sinceMs = this.nowMs;
      this.actions.push({ type: 'state', value, reason });
    }
    if (!wasUp && phase === 'link-up') {
      this.actions.push({ type: 'link-up', bssid: s.bssid, networkId: s.networkId });
    }
  }

  result(): StationStepResult {
    return { state: { ...this.s, stats: { ...this.stats } }, actions: this.actions };
  }
}

function resetAttempt(s: Mutable<StationState>): void {
  s.wrongKeyCount = 0;
  s.notFoundCount = 0;
  s.disabledByUs = false;
}

/** True while events can change what we report. */
function listening(s: StationState): boolean {
  return s.phase !== 'idle' && s.phase !== 'stopped' && !s.supplicantGone;
}

/** The event is about a network other than ours (WPS accepts the one it creates). */
function otherNetwork(s: StationState, id: number | undefined): boolean {
  return !s.wps && s.networkId !== undefined && id !== undefined && id >= 0 && id !== s.networkId;
}

/** Association is progressing (Trying to associate, Associated, handshakes). */
function progress(st: Step): void {
  const s = st.s;
  if (s.phase === 'scanning') st.enter('joining', Reason.WIFI_ASSOCIATING);
  else if (s.phase === 'unhappy' && !s.disabledByUs && s.reason !== Reason.WPS_FAILED && s.reason !== Reason.WPS_TIMEOUT) {
    st.enter('joining', Reason.WIFI_ASSOCIATING);
  }
}

function linkUp(st: Step, bssid: string | undefined, networkId: number | undefined): void {
  const s = st.s;
  if (s.wps && networkId !== undefined && networkId >= 0) s.networkId = networkId;
  s.wps = false;
  if (s.phase === 'link-up' && bssid !== undefined && bssid !== s.bssid) st.log(`wifi roamed to ${bssid}`);
  if (bssid !== undefined) s.bssid = bssid;
  s.wrongKeyCount = 0;
  s.notFoundCount = 0;
  s.disabledByUs = false;
  st.enter('link-up', Reason.WIFI_ASSOCIATED);
}

/** The link (or the attempt) ended; the supplicant scans again by itself. */
function lost(st: Step, reason?: ReasonCode): void {
  const s = st.s;
  if (s.phase === 'link-up') st.enter('scanning', reason ?? Reason.AP_LOST);
  else if (s.phase === 'joining') st.enter('scanning', reason ?? Reason.WIFI_DISCONNECTED);
}

function unhappy(st: Step, reason: ReasonCode): void {
  st.enter('unhappy', reason);
}

function onTempDisabled(st: Step, e: Extract<WpaEvent, { type: 'ssid-temp-disabled' }>): void {
  const s = st.s;
  if (s.phase === 'wpsing') {
    st.log(`wifi network ${e.networkId} temporarily disabled during WPS (${e.reason})`);
    return;
  }
  if (e.reason === 'WRONG_KEY') {
    s.wrongKeyCount += 1;
    if (s.wrongKeyCount >= s.config.wrongKeyLimit) {
      // After WPS the network is the one the supplicant created: take its id.
      const id = s.networkId ?? e.networkId;
      s.networkId = id;
      st.log(`wifi wrong key ${s.wrongKeyCount}/${s.config.wrongKeyLimit}: disabling network ${id}`);
      st.command(() => disableNetwork(id));
      s.disabledByUs = true;
      unhappy(st, Reason.WRONG_KEY);
    } else {
      st.log(`wifi wrong key ${s.wrongKeyCount}/${s.config.wrongKeyLimit}; the supplicant retries in ${e.durationS ?? '?'} s`);
      lost(st, Reason.WRONG_KEY);
    }
    return;
  }
  // CONN_FAILED: wpas_connection_failed() after repeated association failures or
  // rejections; everything else (AUTH_FAILED, EAP_FAILURE, SAE…) is an authentication
  // failure.
  unhappy(st, e.reason === 'CONN_FAILED' ? Reason.ASSOC_REJECTED : Reason.AUTH_FAILED);
}

function onEvent(st: Step, e: WpaEvent): void {
  const s = st.s;
  st.stats.inputs += 1;
  if (e.type === 'malformed') {
    st.stats.malformed += 1;
    st.log(`wpa ${describeEvent(e)} dropped`);
    return;
  }
  if (e.type === 'unknown') {
    st.stats.unknown += 1;
    return;
  }
  if (!listening(s)) {
    st.stats.ignored += 1;
    return;
  }
  switch (e.type) {
    case 'terminating':
      st.log('wpa_supplicant is terminating');
      s.supplicantGone = true;
      unhappy(st, Reason.SUPPLICANT_DIED);
      return;
    case 'connected':
      if (otherNetwork(s, e.networkId)) break;
      linkUp(st, e.bssid, e.networkId);
      return;
    case 'disconnected':
      st.log(`wifi ${describeEvent(e)}`);
      // WPS ends its EAP-WSC exchange with a (local) disconnect before joining with
      // the new credential: not a lost link.
      if (!s.wps) lost(st);
      return;
    case 'trying-to-associate':
    case 'associated':
    case 'key-negotiation-completed':
      st.log(`wifi ${describeEvent(e)}`);
      progress(st);
      return;
    case 'state-change':
      if (otherNetwork(s, e.networkId)) break;
      if (e.state !== undefined) applyWpaState(st, e.state, e.bssid, e.networkId);
      return;
    case 'ssid-temp-disabled':
      if (otherNetwork(s, e.networkId)) break;
      onTempDisabled(st, e);
      return;
    case 'ssid-reenabled':
      if (otherNetwork(s, e.networkId)) break;
      if (s.phase === 'unhappy' && !s.disabledByUs && (s.reason === Reason.AUTH_FAILED || s.reason === Reason.ASSOC_REJECTED)) {
        st.enter('scanning', Reason.RETRY);
      }
      return;
    case 'network-not-found':
      if (s.phase !== 'scanning' && !(s.phase === 'unhappy' && s.reason === Reason.NETWORK_NOT_FOUND)) return;
      s.notFoundCount += 1;
      if (s.phase === 'scanning' && s.notFoundCount >= s.config.notFoundLimit) unhappy(st, Reason.NETWORK_NOT_FOUND);
      return;
    case 'assoc-reject':
      st.log(`wifi ${describeEvent(e)}`);
      if (s.phase === 'joining') st.enter('scanning', Reason.ASSOC_REJECTED);
      return;
    case 'auth-reject':
    case 'auth-timeout':
      st.log(`wifi ${describeEvent(e)}`);
      if (s.phase === 'joining') st.enter('scanning', Reason.AUTH_FAILED);
      return;
    case 'handshake-failed':
      st.log('wifi 4-way handshake failed: the key may be wrong');
      return;
    case 'wps-success':
      if (s.phase !== 'wpsing') return;
      st.log('wifi WPS succeeded; joining with the received credential');
      st.enter('joining', Reason.WIFI_ASSOCIATING);
      return;
    case 'wps-fail':
    case 'wps-overlap-detected':
      if (s.phase !== 'wpsing') return;
      st.log(`wifi ${describeEvent(e)}`);
      st.command(wpsCancel);
      unhappy(st, Reason.WPS_FAILED);
      return;
    case 'wps-timeout':
      if (s.phase !== 'wpsing') return;
      unhappy(st, Reason.WPS_TIMEOUT);
      return;
    case 'wps-pbc-active':
    case 'wps-pbc-disable':
    case 'wps-cred-received':
      st.log(`wifi ${e.type}`);
      return;
    case 'scan-started':
    case 'scan-results':
    case 'scan-failed':
    case 'bss-added':
    case 'bss-removed':
      return;
  }
  st.stats.ignored += 1;
}

/** Maps a wpa_state (STATUS or STATE-CHANGE) onto the phase; idempotent. */
function applyWpaState(st: Step, state: WpaState, bssid?: string, networkId?: number): void {
  const s = st.s;
  if (state === 'COMPLETED') {
    if (s.phase !== 'link-up') linkUp(st, bssid, networkId);
    return;
  }
  if (state === 'INTERFACE_DISABLED') {
    unhappy(st, Reason.DRIVER_FAILED);
    return;
  }
  if (s.phase === 'unhappy' && s.reason === Reason.DRIVER_FAILED) {
    // The interface is back: the supplicant is scanning or joining again.
    st.enter(isJoiningState(state) ? 'joining' : 'scanning', Reason.RETRY);
    return;
  }
  if (isJoiningState(state)) {
    if (s.phase === 'link-up') st.enter('joining', Reason.AP_LOST);
    else progress(st);
    return;
  }
  // DISCONNECTED, INACTIVE, SCANNING
  lost(st);
}

function onStatus(st: Step, status: SupplicantStatus): void {
  const s = st.s;
  st.stats.inputs += 1;
  if (!listening(s)) {
    st.stats.ignored += 1;
    return;
  }
  if (status.wpaState === undefined) {
    st.log(`wpa STATUS with unknown wpa_state dropped`);
    st.stats.malformed += 1;
    return;
  }
  if (otherNetwork(s, status.networkId) && status.wpaState === 'COMPLETED') {
    st.stats.ignored += 1;
    return;
  }
  applyWpaState(st, status.wpaState, status.bssid, status.networkId);
}

function onRetry(st: Step): void {
  const s = st.s;
  if (s.phase !== 'unhappy') {
    st.log(`wifi retry ignored in ${s.phase}`);
    return;
  }
  if (s.supplicantGone) {
    st.log('wifi retry needs a new supplicant: the driver restarts it and sends start');
    return;
  }
  if (s.reason === Reason.WPS_FAILED || s.reason === Reason.WPS_TIMEOUT) {
    const bssid = s.wpsBssid;
    st.command(() => wpsPbc(bssid));
    s.wps = true;
    st.enter('wpsing', Reason.WPS_STARTED);
    return;
  }
  const id = s.networkId;
  if (id === undefined) {
    st.log('wifi retry without a network', 'error');
    return;
  }
  // ENABLE_NETWORK undoes our DISABLE_NETWORK (and clears the temporary disable);
  // otherwise SELECT_NETWORK clears the temporary disable and starts a new attempt.
  if (s.disabledByUs) st.command(() => enableNetwork(id));
  else st.command(() => selectNetwork(id));
  resetAttempt(s);
  st.enter('scanning', Reason.RETRY);
}

function onInput(st: Step, input: StationInput): void {
  const s = st.s;
  switch (input?.type) {
    case 'start': {
      const id = input.networkId;
      st.command(() => selectNetwork(id));
      resetAttempt(s);
      s.networkId = id;
      s.wps = false;
      s.wpsBssid = undefined;
      s.bssid = undefined;
      s.supplicantGone = false;
      if (s.phase === 'link-up') st.actions.push({ type: 'link-down' });
      s.phase = 'idle';
      st.enter('scanning', Reason.WIFI_SCANNING);
      return;
    }
    case 'start-wps': {
      const bssid = input.bssid;
      st.command(() => wpsPbc(bssid));
      resetAttempt(s);
      s.networkId = undefined;
      s.wps = true;
      s.wpsBssid = bssid;
      s.bssid = undefined;
      s.supplicantGone = false;
      if (s.phase === 'link-up') st.actions.push({ type: 'link-down' });
      s.phase = 'idle';
      st.enter('wpsing', Reason.WPS_STARTED);
      return;
    }
    case 'event':
      onEvent(st, input.event);
      return;
    case 'line':
      onEvent(st, decodeEventLine(input.line));
      return;
    case 'status':
      onStatus(st, input.status);
      return;
    case 'retry':
      onRetry(st);
      return;
    case 'supplicant-gone':
      if (!listening(s)) return;
      s.supplicantGone = true;
      unhappy(st, Reason.SUPPLICANT_DIED);
      return;
    case 'stop':
      if (s.phase === 'stopped' || s.phase === 'idle') return;
      if (!s.supplicantGone) {
        if (s.phase === 'wpsing') st.command(wpsCancel);
        st.command(disconnect);
      }
      st.enter('stopped', Reason.CLOSED_BY_USER);
      return;
    default:
      st.stats.malformed += 1;
      st.log('wifi station: unknown input dropped', 'error');
  }
}

/** Advances the machine by one input. Never throws. */
export function step(state: StationState, input: StationInput, nowMs: number): StationStepResult {
  const st = new Step(state, nowMs);
  try {
    onInput(st, input);
    return st.result();
  } catch (err) {
    // A bad argument from the driver (e.g. a network id out of range): nothing changes.
    const why = err instanceof Error ? err.message : 'error';
    return { state, actions: [{ type: 'log', level: 'error', message: `wifi station: input dropped (${why})` }] };
  }
}
