/**
 * Pure parsers for the 3GPP TS 27.007 responses a bring-up needs (+CPIN, +CREG, +CGREG,
 * +CEREG, +CSQ, +COPS), and builders for the commands that carry user input (PIN, APN,
 * credentials). Parsers return undefined for a line they cannot read; they never throw.
 * Builders validate first and throw ArgumentError naming the field and the rule (never
 * the value: PINs and passwords are secrets).
 */
import { ArgumentError } from '../../errors.js';
import type { CommandOutcome, FinalResult } from './response-parser.js';

// ---------------------------------------------------------------------------------------
// Parameter lists

export interface ParamField {
  text: string;
  quoted: boolean;
}

/**
 * Splits "a,\"b,c\",,d" into fields, keeping commas inside quotes (V.250 §5.4.2.2
 * string constants). Undefined for an unterminated quote.
 */
export function splitParams(text: string): ParamField[] | undefined {
  const fields: ParamField[] = [];
  let i = 0;
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return undefined;
      fields.push({ text: text.slice(i + 1, end), quoted: true });
      i = end + 1;
      while (text[i] === ' ') i++;
      if (i < text.length && text[i] !== ',') return undefined;
    } else {
      const end = text.indexOf(',', i);
      const stop = end < 0 ? text.length : end;
      fields.push({ text: text.slice(i, stop).trim(), quoted: false });
      i = stop;
    }
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

/** The parameters after "<prefix>:" (case-insensitive), or undefined when the prefix differs. */
function paramsAfter(line: string, prefix: string): ParamField[] | undefined {
  const trimmed = line.trim();
  if (trimmed.length < prefix.length + 1) return undefined;
  if (trimmed.slice(0, prefix.length).toUpperCase() !== prefix) return undefined;
  if (trimmed[prefix.length] !== ':') return undefined;
  return splitParams(trimmed.slice(prefix.length + 1));
}

function intField(field: ParamField | undefined, min: number, max: number): number | undefined {
  if (!field || field.quoted || !/^\d{1,6}$/.test(field.text)) return undefined;
  const n = Number(field.text);
  return n >= min && n <= max ? n : undefined;
}

/** Quoted hex (lac, tac, ci); some firmwares leave the quotes off. */
function hexField(field: ParamField | undefined): number | undefined {
  if (!field || !/^[0-9A-Fa-f]{1,9}$/.test(field.text)) return undefined;
  return parseInt(field.text, 16);
}

function isEmpty(field: ParamField | undefined): boolean {
  return field === undefined || (!field.quoted && field.text === '');
}

// ---------------------------------------------------------------------------------------
// +CME ERROR (TS 27.007 §9.2.1)

/** The +CME ERROR codes a bring-up acts on, with their verbose (+CMEE=2) texts. */
export const CmeError = {
  PHONE_FAILURE: 0,
  OPERATION_NOT_ALLOWED: 3,
  OPERATION_NOT_SUPPORTED: 4,
  PH_SIM_PIN_REQUIRED: 5,
  SIM_NOT_INSERTED: 10,
  SIM_PIN_REQUIRED: 11,
  SIM_PUK_REQUIRED: 12,
  SIM_FAILURE: 13,
  SIM_BUSY: 14,
  SIM_WRONG: 15,
  INCORRECT_PASSWORD: 16,
  SIM_PIN2_REQUIRED: 17,
  SIM_PUK2_REQUIRED: 18,
  NO_NETWORK_SERVICE: 30,
  NETWORK_TIMEOUT: 31,
  UNKNOWN: 100,
} as const;

const cmeTexts: ReadonlyMap<string, number> = new Map([
  ['phone failure', 0],
  ['no connection to phone', 1],
  ['operation not allowed', 3],
  ['operation not supported', 4],
  ['ph-sim pin required', 5],
  ['sim not inserted', 10],
  ['sim pin required', 11],
  ['sim puk required', 12],
  ['sim failure', 13],
  ['sim busy', 14],
  ['sim wrong', 15],
  ['incorrect password', 16],
  ['sim pin2 required', 17],
  ['sim puk2 required', 18],
  ['memory full', 20],
  ['invalid index', 21],
  ['not found', 22],
  ['no network service', 30],
  ['network timeout', 31],
  ['network not allowed - emergency calls only', 32],
  ['unknown', 100],
]);

/** The numeric code of a +CME ERROR argument, numeric (+CMEE=1) or verbose (+CMEE=2). */
export function cmeErrorCode(argument: string): number | undefined {
  const text = argument.trim();
  if (/^\d{1,5}$/.test(text)) return Number(text);
  return cmeTexts.get(text.toLowerCase().replace(/\s+/g, ' '));
}

// ---------------------------------------------------------------------------------------
// +CPIN (TS 27.007 §8.3)

export const CPIN_CODES = [
  'READY',
  'SIM PIN',
  'SIM PUK',
  'PH-SIM PIN',
  'PH-FSIM PIN',
  'PH-FSIM PUK',
  'SIM PIN2',
  'SIM PUK2',
  'PH-NET PIN',
  'PH-NET PUK',
  'PH-NETSUB PIN',
  'PH-NETSUB PUK',
  'PH-SP PIN',
  'PH-SP PUK',
  'PH-CORP PIN',
  'PH-CORP PUK',
] as const;
export type CpinCode = (typeof CPIN_CODES)[number];

/** What the SIM needs, from +CPIN: or from the error that answered AT+CPIN?. */
export type SimStatus =
  | { kind: 'ready' }
  /** A PIN is needed; `lock` says which (SIM PIN, SIM PIN2, PH-SIM PIN, PH-NET PIN…). */
  | { kind: 'pin-required'; lock: CpinCode }
  /** Blocked: a PUK is needed (SIM PUK, SIM PUK2, PH-* PUK). */
  | { kind: 'puk-required'; lock: CpinCode }
  /** +CME ERROR: 10, or a vendor "+CPIN: NOT INSERTED". */
  | { kind: 'missing' }
  /** +CME ERROR: 13 or 15: the card is there but does not work. */
  | { kind: 'failure' }
  /** +CME ERROR: 14, or a vendor "+CPIN: NOT READY": ask again shortly. */
  | { kind: 'busy' }
  /** +CME ERROR: 16. */
  | { kind: 'wrong-password' }
  /** Anything else: plain ERROR, another CME code, no +CPIN line, a timeout. */
  | { kind: 'error'; final?: FinalResult };

const cpinCodes: ReadonlySet<string> = new Set(CPIN_CODES);

/** Parses "+CPIN: <code>". Vendor codes NOT INSERTED / NOT READY map to missing / busy. */
export function parseCpin(line: string): SimStatus | undefined {
  const params = paramsAfter(line, '+CPIN');
  if (!params || params.length !== 1 || !params[0]) return undefined;
  const code = params[0].text.trim().toUpperCase().replace(/\s+/g, ' ');
  if (code === 'READY') return { kind: 'ready' };
  if (cpinCodes.has(code)) {
    const lock = code as CpinCode;
    return lock.includes('PUK') ? { kind: 'puk-required', lock } : { kind: 'pin-required', lock };
  }
  if (code === 'NOT INSERTED' || code === 'SIM REMOVED' || code === 'NO SIM') return { kind: 'missing' };
  if (code === 'NOT READY') return { kind: 'busy' };
  return undefined;
}

/** The SIM status from an AT+CPIN? outcome: its +CPIN line, or the error that answered it. */
export function simStatusFromOutcome(outcome: CommandOutcome): SimStatus {
  if (outcome.final === undefined) return { kind: 'error' };
  for (const line of outcome.lines) {
    const status = parseCpin(line);
    if (status) return status;
  }
  const final = outcome.final;
  if (final.kind === 'cme-error') {
    switch (final.code) {
      case CmeError.SIM_NOT_INSERTED:
        return { kind: 'missing' };
      case CmeError.SIM_FAILURE:
      case CmeError.SIM_WRONG:
        return { kind: 'failure' };
      case CmeError.SIM_BUSY:
        return { kind: 'busy' };
      case CmeError.INCORRECT_PASSWORD:
        return { kind: 'wrong-password' };
      case CmeError.SIM_PIN_REQUIRED:
        return { kind: 'pin-required', lock: 'SIM PIN' };
      case CmeError.SIM_PUK_REQUIRED:
        return { kind: 'puk-required', lock: 'SIM PUK' };
      case CmeError.PH_SIM_PIN_REQUIRED:
        return { kind: 'pin-required', lock: 'PH-SIM PIN' };
      case CmeError.SIM_PIN2_REQUIRED:
        return { kind: 'pin-required', lock: 'SIM PIN2' };
      case CmeError.SIM_PUK2_REQUIRED:
        return { kind: 'puk-required', lock: 'SIM PUK2' };
    }
  }
  return { kind: 'error', final };
}

// ---------------------------------------------------------------------------------------
// +CREG / +CGREG / +CEREG (TS 27.007 §7.2, §10.1.20, §10.1.22)

/** cs = +CREG (circuit switched), ps = +CGREG (GPRS/UMTS packet), eps = +CEREG (LTE). */
export type RegistrationDomain = 'cs' | 'ps' | 'eps';

const domainPrefix: Record<RegistrationDomain, string> = { cs: '+CREG', ps: '+CGREG', eps: '+CEREG' };
const domainCommand: Record<RegistrationDomain, string> = { cs: 'CREG', ps: 'CGREG', eps: 'CEREG' };
export const REGISTRATION_DOMAINS: readonly RegistrationDomain[] = ['cs', 'ps', 'eps'];

/** <stat>, TS 27.007 §7.2 / §10.1.22. */
export type RegistrationStatus =
  | 'not-registered' // 0: not registered, not searching
  | 'registered-home' // 1
  | 'searching' // 2: not registered, searching
  | 'denied' // 3
  | 'unknown' // 4: e.g. out of coverage
  | 'registered-roaming' // 5
  | 'registered-sms-only-home' // 6
  | 'registered-sms-only-roaming' // 7
  | 'emergency-only' // 8: attached for emergency bearer services only
  | 'registered-csfb-not-preferred-home' // 9
  | 'registered-csfb-not-preferred-roaming' // 10
  | 'rlos-only'; // 11: attached for access to restricted local operator services

const statuses: readonly RegistrationStatus[] = [
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

export function registrationStatus(stat: number): RegistrationStatus | undefined {
  return statuses[stat];
}

/**
 * Registered with a network that carries data: home or roaming (1, 5), including the
 * "SMS only" (6, 7) and "CSFB not preferred" (9, 10) forms, which restrict the circuit
 * switched side of a combined EPS attach, not packet data. 8 and 11 are emergency and
 * RLOS attachments only.
 */
export function isRegistered(stat: number): boolean {
  return stat === 1 || stat === 5 || stat === 6 || stat === 7 || stat === 9 || stat === 10;
}

export interface Registration {
  domain: RegistrationDomain;
  /**
   * 'read' is the AT+CREG? answer "+CREG: <n>,<stat>[,…]"; 'urc' is the unsolicited
   * "+CREG: <stat>[,…]". They differ in the first field, and the URC's second field,
   * when present, is a quoted area code or empty, never a bare number.
   */
  form: 'read' | 'urc';
  /** The reporting mode, read form only. */
  n?: number;
  stat: number;
  status: RegistrationStatus;
  /** Location area code (+CREG, +CGREG). */
  lac?: number;
  /** Tracking area code (+CEREG). */
  tac?: number;
  ci?: number;
  /** Access technology (0 GSM, 2 UTRAN, 7 E-UTRAN, …; see accessTechnologyName). */
  act?: number;
  /** Routing area code (+CGREG). */
  rac?: number;
  causeType?: number;
  rejectCause?: number;
  /** PSM timers as the modem's bit strings (+CEREG n=4/5). */
  activeTime?: string;
  periodicTau?: string;
}

/** Which domain a "+CREG:"-style line belongs to, if any. */
export function registrationDomainOf(line: string): RegistrationDomain | undefined {
  const head = line.trimStart().slice(0, 7).toUpperCase();
  if (head.startsWith('+CREG:')) return 'cs';
  if (head.startsWith('+CGREG:')) return 'ps';
  if (head.startsWith('+CEREG:')) return 'eps';
  return undefined;
}

/** Parses any of the six forms (three commands, read or URC). Undefined when malformed. */
export function parseRegistration(line: string): Registration | undefined {
  const domain = registrationDomainOf(line);
  if (!domain) return undefined;
  const params = paramsAfter(line, domainPrefix[domain]);
  if (!params || params.length === 0) return undefined;
  const second = params[1];
  const readForm = second !== undefined && !second.quoted && /^\d+$/.test(second.text);
  let n: number | undefined;
  let rest = params;
  if (readForm) {
    n = intField(params[0], 0, 5);
    if (n === undefined) return undefined;
    rest = params.slice(1);
  }
  const stat = intField(rest[0], 0, statuses.length - 1);
  if (stat === undefined) return undefined;
  const status = statuses[stat];
  if (!status) return undefined;
  const reg: Registration = { domain, form: readForm ? 'read' : 'urc', stat, status };
  if (n !== undefined) reg.n = n;
  const area = hexField(rest[1]);
  if (area !== undefined) {
    if (domain === 'eps') reg.tac = area;
    else reg.lac = area;
  }
  const ci = hexField(rest[2]);
  if (ci !== undefined) reg.ci = ci;
  const act = intField(rest[3], 0, 255);
  if (act !== undefined) reg.act = act;
  // +CGREG carries <rac> before the cause fields.
  const causeAt = domain === 'ps' ? 5 : 4;
  if (domain === 'ps') {
    const rac = hexField(rest[4]);
    if (rac !== undefined) reg.rac = rac;
  }
  const causeType = intField(rest[causeAt], 0, 255);
  if (causeType !== undefined) reg.causeType = causeType;
  const rejectCause = intField(rest[causeAt + 1], 0, 65535);
  if (rejectCause !== undefined) reg.rejectCause = rejectCause;
  if (domain === 'eps') {
    const active = rest[6];
    const tau = rest[7];
    if (!isEmpty(active) && active) reg.activeTime = active.text;
    if (!isEmpty(tau) && tau) reg.periodicTau = tau.text;
  }
  return reg;
}

// ---------------------------------------------------------------------------------------
// +CSQ (TS 27.007 §8.5)

export interface SignalQuality {
  /** 0–31, 100–191, or 99 / 199 for not known. */
  rssi: number;
  /** 0–7, 99 not known. */
  ber: number;
  /** The received signal strength in dBm; absent when not known. */
  rssiDbm?: number;
}

/**
 * <rssi> to dBm: 0 is −113 dBm or less, 1 is −111, 2…30 step 2 dBm up to −53, 31 is −51
 * or more; 100…191 (TD-SCDMA) is −116…−25. 99 and 199 mean not known.
 */
export function rssiToDbm(rssi: number): number | undefined {
  if (Number.isInteger(rssi) && rssi >= 0 && rssi <= 31) return -113 + 2 * rssi;
  if (Number.isInteger(rssi) && rssi >= 100 && rssi <= 191) return -216 + rssi;
  return undefined;
}

export function parseCsq(line: string): SignalQuality | undefined {
  const params = paramsAfter(line, '+CSQ');
  if (!params || params.length !== 2) return undefined;
  const rssi = intField(params[0], 0, 199);
  const ber = intField(params[1], 0, 99);
  if (rssi === undefined || ber === undefined) return undefined;
  if (!(rssi <= 31 || rssi === 99 || (rssi >= 100 && rssi <= 191) || rssi === 199)) return undefined;
  if (!(ber <= 7 || ber === 99)) return undefined;
  const q: SignalQuality = { rssi, ber };
  const dbm = rssiToDbm(rssi);
  if (dbm !== undefined) q.rssiDbm = dbm;
  return q;
}

// ---------------------------------------------------------------------------------------
// +COPS? (TS 27.007 §7.3)

export interface OperatorSelection {
  /** 0 automatic, 1 manual, 2 deregistered, 3 set format only, 4 manual then automatic. */
  mode: number;
  /** 0 long alphanumeric, 1 short alphanumeric, 2 numeric (MCC+MNC). */
  format?: number;
  oper?: string;
  act?: number;
}

export function parseCops(line: string): OperatorSelection | undefined {
  const params = paramsAfter(line, '+COPS');
  if (!params || params.length < 1 || params.length > 4) return undefined;
  // The test form "+COPS: (2,"Op","Op","23401",7),,(0-4),(0-2)" is not this answer.
  if (params.some((p) => !p.quoted && p.text.startsWith('('))) return undefined;
  const mode = intField(params[0], 0, 4);
  if (mode === undefined) return undefined;
  const result: OperatorSelection = { mode };
  if (params.length >= 3) {
    const format = intField(params[1], 0, 2);
    const oper = params[2];
    if (format === undefined || !oper) return undefined;
    result.format = format;
    result.oper = oper.text;
  } else if (params.length === 2) {
    return undefined;
  }
  if (params.length === 4) {
    const act = intField(params[3], 0, 255);
    if (act === undefined) return undefined;
    result.act = act;
  }
  return result;
}

const actNames: readonly string[] = [
  'GSM',
  'GSM Compact',
  'UTRAN',
  'GSM w/EGPRS',
  'UTRAN w/HSDPA',
  'UTRAN w/HSUPA',
  'UTRAN w/HSDPA and HSUPA',
  'E-UTRAN',
  'EC-GSM-IoT',
  'E-UTRAN (NB-S1)',
  'E-UTRA connected to 5GCN',
  'NR connected to 5GCN',
  'NG-RAN',
  'E-UTRA-NR dual connectivity',
];

/** <AcT> (TS 27.007 §7.3) as a name; undefined for values the table lacks. */
export function accessTechnologyName(act: number): string | undefined {
  return actNames[act];
}

// ---------------------------------------------------------------------------------------
// Command builders

export type PdpType = 'IP' | 'IPV6' | 'IPV4V6';

/** 4–8 digits (TS 22.030 §6.6: PINs are 4 to 8 digits). */
export function validatePin(pin: string, field = 'cellconfig.pin'): void {
  if (typeof pin !== 'string' || !/^[0-9]{4,8}$/.test(pin)) {
    throw new ArgumentError(`${field}: must be 4 to 8 digits`, { field });
  }
}

/**
 * TS 23.003 §9.1: an APN is labels of letters, digits and hyphens joined by dots, each
 * label 1–63 characters, at most 100 characters in all. "" asks for the network's
 * default APN. Nothing else can appear, so no quote, CR, LF or ";" reaches the modem.
 */
export function validateApn(apn: string, field = 'cellconfig.apn'): void {
  if (typeof apn !== 'string') throw new ArgumentError(`${field}: must be a string`, { field });
  if (apn === '') return;
  if (apn.length > 100) throw new ArgumentError(`${field}: must be at most 100 characters (TS 23.003 §9.1)`, { field });
  for (const label of apn.split('.')) {
    if (!/^[A-Za-z0-9-]{1,63}$/.test(label)) {
      throw new ArgumentError(
        `${field}: must be dot-separated labels of 1 to 63 letters, digits or hyphens (TS 23.003 §9.1)`,
        { field },
      );
    }
  }
}

function validateCid(cid: number, field: string): void {
  if (!Number.isInteger(cid) || cid < 1 || cid > 255) {
    throw new ArgumentError(`${field}: must be an integer from 1 to 255`, { field });
  }
}

/** AT+CPIN="<pin>" (TS 27.007 §8.3). A secret: send it with `secret: true`. */
export function buildPinCommand(pin: string): string {
  validatePin(pin);
  return `AT+CPIN="${pin}"`;
}

export interface PdpContextOptions {
  apn: string;
  /** Context id, default 1. */
  cid?: number;
  /** Default 'IP'. */
  pdpType?: PdpType;
}

/** AT+CGDCONT=<cid>,"<type>","<apn>" (TS 27.007 §10.1.1). */
export function buildPdpContextCommand(options: PdpContextOptions): string {
  const cid = options.cid ?? 1;
  const pdpType = options.pdpType ?? 'IP';
  validateCid(cid, 'cellconfig.cid');
  if (pdpType !== 'IP' && pdpType !== 'IPV6' && pdpType !== 'IPV4V6') {
    throw new ArgumentError('cellconfig.pdpType: must be IP, IPV6 or IPV4V6', { field: 'cellconfig.pdpType' });
  }
  validateApn(options.apn);
  return `AT+CGDCONT=${cid},"${pdpType}","${options.apn}"`;
}

/**
 * The packet-domain dial string, TS 27.007 §10.2.1.1: D*99[*[<called_address>][*[<L2P>]
 * [*[<cid>]]]]#. With a cid: ATD*99***<cid>#; without: ATD*99# (the modem's default context).
 */
export function buildDialCommand(cid?: number): string {
  if (cid === undefined) return 'ATD*99#';
  validateCid(cid, 'cellconfig.cid');
  return `ATD*99***${cid}#`;
}

const maxReportMode: Record<RegistrationDomain, number> = { cs: 3, ps: 4, eps: 5 };

/** AT+CREG=<n> / AT+CGREG=<n> / AT+CEREG=<n>: 2 asks for URCs with location. */
export function buildRegistrationReportCommand(domain: RegistrationDomain, n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > maxReportMode[domain]) {
    throw new ArgumentError(`n: must be an integer from 0 to ${maxReportMode[domain]} for +${domainCommand[domain]}`, { field: 'n' });
  }
  return `AT+${domainCommand[domain]}=${n}`;
}

/** AT+CREG? / AT+CGREG? / AT+CEREG? */
export function registrationQueryCommand(domain: RegistrationDomain): string {
  return `AT+${domainCommand[domain]}?`;
}

/** The information-response prefix of a registration query ("+CREG:"). */
export function registrationPrefix(domain: RegistrationDomain): string {
  return `${domainPrefix[domain]}:`;
}

export interface AuthOptions {
  cid?: number;
  /** none, PAP or CHAP (TS 27.007 §10.1.31 <auth_prot> 0, 1, 2). */
  protocol: 'none' | 'pap' | 'chap';
  username?: string;
  password?: string;
}

/** Printable ASCII without the quote: a string constant cannot carry more (V.250 §5.4.2.2). */
function validateCredential(value: string, field: string): void {
  if (typeof value !== 'string' || value.length > 127 || !/^[\x20-\x21\x23-\x7e]*$/.test(value)) {
    throw new ArgumentError(`${field}: must be at most 127 printable ASCII characters without '"'`, { field });
  }
}

/** AT+CGAUTH=<cid>,<auth_prot>[,"<user>"[,"<password>"]]. A secret: send it with `secret: true`. */
export function buildAuthCommand(options: AuthOptions): string {
  const cid = options.cid ?? 1;
  validateCid(cid, 'cellconfig.cid');
  const prot = { none: 0, pap: 1, chap: 2 }[options.protocol];
  if (prot === undefined) throw new ArgumentError('protocol: must be none, pap or chap', { field: 'protocol' });
  let command = `AT+CGAUTH=${cid},${prot}`;
  if (options.username !== undefined) {
    validateCredential(options.username, 'cellconfig.username');
    command += `,"${options.username}"`;
    if (options.password !== undefined) {
      validateCredential(options.password, 'cellconfig.password');
      command += `,"${options.password}"`;
    }
  } else if (options.password !== undefined) {
    throw new ArgumentError('cellconfig.password: needs cellconfig.username', { field: 'cellconfig.password' });
  }
  return command;
}
