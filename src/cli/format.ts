/**
 * How the CLI shows things: one line per state change, the IP table, datagrams, send
 * results — as text for people and as JSON records (`--json`) for programs. Every
 * record carries a `type`.
 */
import { SendError, type IpTable, type LinkInfo, type SendErrorCode, type StateChange, type UdpMessage } from '../index.js';
import type { JsonRecord, Output } from './output.js';

/** The longest state name, CELLULAR_REGISTRATION_DENIED. */
const NAME_WIDTH = 28;

export function formatTime(ms: number): string {
  return `${String(Math.max(0, Math.round(ms))).padStart(6)} ms`;
}

/** "    12 ms  ETHERNET_LINK_UP              200  carrier  (detail)" */
export function stateLine(change: StateChange, sinceMs: number): string {
  const detail = change.detail ? `  (${change.detail})` : '';
  return `${formatTime(change.atMs - sinceMs)}  ${change.name.padEnd(NAME_WIDTH)} ${String(change.state).padStart(4)}  ${change.reason}${detail}`;
}

export function stateRecord(change: StateChange, sinceMs: number): JsonRecord {
  const r: JsonRecord = {
    type: 'state',
    timeMs: Math.max(0, Math.round(change.atMs - sinceMs)),
    interface: change.interface,
    name: change.name,
    value: change.state,
    reason: change.reason,
  };
  if (change.detail !== undefined) r.detail = change.detail;
  return r;
}

export function printState(out: Output, change: StateChange, sinceMs: number): void {
  out.emit(
    () => stateLine(change, sinceMs),
    () => stateRecord(change, sinceMs),
  );
}

export function printIpTable(out: Output, ifname: string, table: IpTable): void {
  if (out.json) {
    out.record({ type: 'iptable', interface: ifname, ipv4: table.ipv4 });
    return;
  }
  const v4 = table.ipv4;
  const rows: [string, string | undefined][] = [
    ['address', v4.address],
    ['netmask', v4.netmask],
    ['broadcast', v4.broadcast],
    ['gateway', v4.gateway],
    ['dhcpserver', v4.dhcpserver],
    ['dnsserver', v4.dnsserver.join(', ') || undefined],
    ['proxy', v4.proxy ? `${v4.proxy.type} ${v4.proxy.address}:${v4.proxy.port}${v4.proxy.user ? ` (user ${v4.proxy.user})` : ''}` : undefined],
  ];
  out.line(`${ifname} IP table:`);
  for (const [k, v] of rows) if (v !== undefined) out.line(`  ${k.padEnd(11)}${v}`);
}

export interface LinkRow extends LinkInfo {
  addresses: string[];
}

export function printLinks(out: Output, links: LinkRow[]): void {
  if (out.json) {
    for (const l of links) {
      const r: JsonRecord = { type: 'link', name: l.name, index: l.index, kind: l.kind, mac: l.mac ?? null, adminUp: l.adminUp, carrier: l.carrier, mtu: l.mtu, addresses: l.addresses };
      if (l.device !== undefined) r.device = l.device;
      out.record(r);
    }
    return;
  }
  const rows = [
    ['NAME', 'KIND', 'MAC', 'ADMIN', 'CARRIER', 'ADDRESSES'],
    ...links.map((l) => [l.name, l.kind, l.mac ?? '-', l.adminUp ? 'up' : 'down', l.carrier ? 'yes' : 'no', l.addresses.join(', ') || '-']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) out.line(r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** A datagram's payload for people: quoted text when it is UTF-8 (escapes as JSON), else 0x-hex. */
export function payloadText(data: Buffer, hex: boolean): string {
  if (hex) return data.toString('hex');
  const text = utf8(data);
  return text === undefined ? `0x${data.toString('hex')}` : JSON.stringify(text);
}

function utf8(data: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return undefined;
  }
}

export function printDatagram(out: Output, ifname: string, m: UdpMessage, atMs: number, hex: boolean): void {
  if (out.json) {
    const text = hex ? undefined : utf8(m.data);
    out.record({
      type: 'datagram',
      timeMs: Math.max(0, Math.round(atMs)),
      interface: ifname,
      fromAddress: m.fromAddress,
      fromPort: m.fromPort,
      toAddress: m.toAddress,
      toPort: m.toPort,
      bytes: m.data.length,
      encoding: text === undefined ? 'hex' : 'text',
      data: text ?? m.data.toString('hex'),
    });
    return;
  }
  out.line(`${formatTime(atMs)}  from ${m.fromAddress}:${m.fromPort} to ${m.toAddress}:${m.toPort}  ${m.data.length} bytes  ${payloadText(m.data, hex)}`);
}

const SEND_RESULT = new Map<number, string>(Object.entries(SendError).map(([k, v]) => [v, k]));

export function sendResultName(code: SendErrorCode): string {
  return SEND_RESULT.get(code) ?? 'UNKNOWN';
}

export interface SendReport {
  atMs: number;
  seq: number;
  count: number;
  address: string;
  port: number;
  bytes: number;
  code: SendErrorCode;
  label?: string;
}

export function printSend(out: Output, s: SendReport): void {
  out.emit(
    () => `${formatTime(s.atMs)}  sent ${s.seq}/${s.count} to ${s.address}:${s.port}  ${s.bytes} bytes${s.label ? `  ${s.label}` : ''}  -> ${s.code} ${sendResultName(s.code)}`,
    () => ({
      type: 'send',
      timeMs: Math.max(0, Math.round(s.atMs)),
      seq: s.seq,
      count: s.count,
      address: s.address,
      port: s.port,
      bytes: s.bytes,
      code: s.code,
      result: sendResultName(s.code),
    }),
  );
}
