/**
 * A small DHCPv4 server for the simulated world. It speaks real DHCP messages (through
 * the project's codec), so the client under test runs exactly as on Linux.
 * Behaviours a test can script: absent (no answer), slow (answer after a delay), NAK every
 * REQUEST, short leases, rapid commit.
 */
import { decodeMessage, encodeMessage, MessageType, type DhcpMessage } from '../../protocols/dhcp4/message-codec.js';
import { formatIpv4, parseIpv4, prefixToNetmask, broadcastOf } from '../../core/ipv4.js';
import { appendBounded, checkRecordLimit, DEFAULT_RECORD_LIMIT } from './bounded-record.js';

export interface SimDhcpServerOptions {
  /** The server's own address (also the router unless `router` is given). */
  serverAddress: string;
  prefixLength: number;
  /** First and last address of the pool. */
  poolStart: string;
  poolEnd: string;
  router?: string | null;
  dns?: string[];
  leaseTimeS?: number;
  /** Delay before each answer, in ms. */
  delayMs?: number;
  /** Answer nothing. */
  silent?: boolean;
  /** Answer every REQUEST with NAK. */
  nakAll?: boolean;
  /** Accept rapid commit (RFC 4039) when the client asks for it. */
  rapidCommit?: boolean;
  domain?: string;
  /** How many of the latest received message types `received` keeps (default 1000). */
  maxReceived?: number;
}

export interface SimLease {
  mac: string;
  address: string;
  expiresAtMs: number;
}

export class SimDhcpServer {
  options: Required<Omit<SimDhcpServerOptions, 'router' | 'domain'>> & { router: string | null; domain?: string };
  readonly leases = new Map<string, SimLease>();
  /** The latest messages received (at most `options.maxReceived`), by type name, for tests. */
  readonly received: string[] = [];
  /** All messages received since the server was made: counts on past the `received` limit. */
  receivedCount = 0;
  /** Addresses clients DECLINEd (found in use): never offered again. */
  readonly declined = new Set<string>();
  private offered = new Map<string, string>();

  constructor(options: SimDhcpServerOptions) {
    this.options = {
      dns: [options.serverAddress],
      leaseTimeS: 3600,
      delayMs: 1,
      silent: false,
      nakAll: false,
      rapidCommit: true,
      maxReceived: DEFAULT_RECORD_LIMIT,
      ...options,
      router: options.router === undefined ? options.serverAddress : options.router,
    };
    checkRecordLimit(this.options.maxReceived, 'maxReceived');
  }

  /** Handles one client datagram; returns the reply to send (or nothing). */
  handle(data: Uint8Array, nowMs: number): Uint8Array | undefined {
    const r = decodeMessage(data);
    if (!r.ok || r.message.op !== 1) return undefined;
    const m = r.message;
    const type = m.options.messageType;
    const name = type === undefined ? 'BOOTP' : (Object.entries(MessageType).find(([, v]) => v === type)?.[0] ?? String(type));
    appendBounded(this.received, name, this.options.maxReceived);
    this.receivedCount++;
    if (this.options.silent) return undefined;
    const mac = Buffer.from(m.chaddr).toString('hex');
    switch (type) {
      case MessageType.DISCOVER: {
        const address = this.pick(mac, nowMs);
        if (!address) return undefined;
        if (m.options.rapidCommit && this.options.rapidCommit && !this.options.nakAll) {
          return this.reply(m, MessageType.ACK, address, nowMs, true);
        }
        this.offered.set(mac, address);
        return this.reply(m, MessageType.OFFER, address, nowMs);
      }
      case MessageType.REQUEST: {
        if (m.options.serverId && m.options.serverId !== this.options.serverAddress) {
          this.offered.delete(mac);
          return undefined; // the client chose another server
        }
        const wanted = m.options.requestedIp ?? (m.ciaddr !== '0.0.0.0' ? m.ciaddr : undefined);
        const mine = this.leases.get(mac)?.address ?? this.offered.get(mac);
        if (this.options.nakAll || !wanted || !this.inPool(wanted) || (mine !== undefined && mine !== wanted) || this.takenByOther(wanted, mac, nowMs)) {
          return this.reply(m, MessageType.NAK, '0.0.0.0', nowMs);
        }
        return this.reply(m, MessageType.ACK, wanted, nowMs);
      }
      case MessageType.RELEASE:
        this.leases.delete(mac);
        return undefined;
      case MessageType.DECLINE:
        this.leases.delete(mac);
        this.offered.delete(mac);
        // RFC 2131 §4.3.3: the server MUST mark the declined address as not available.
        if (m.options.requestedIp) this.declined.add(m.options.requestedIp);
        return undefined;
      default:
        return undefined;
    }
  }

  private inPool(address: string): boolean {
    const a = parseIpv4(address);
    const s = parseIpv4(this.options.poolStart);
    const e = parseIpv4(this.options.poolEnd);
    return a !== undefined && s !== undefined && e !== undefined && a >= s && a <= e;
  }

  private takenByOther(address: string, mac: string, nowMs: number): boolean {
    if (this.declined.has(address)) return true;
    for (const l of this.leases.values()) if (l.address === address && l.mac !== mac && l.expiresAtMs > nowMs) return true;
    return false;
  }

  private pick(mac: string, nowMs: number): string | undefined {
    const existing = this.leases.get(mac);
    if (existing) return existing.address;
    const s = parseIpv4(this.options.poolStart)!;
    const e = parseIpv4(this.options.poolEnd)!;
    for (let a = s; a <= e; a++) {
      const addr = formatIpv4(a);
      if (!this.takenByOther(addr, mac, nowMs)) return addr;
    }
    return undefined;
  }

  private reply(req: DhcpMessage, type: number, yiaddr: string, nowMs: number, rapid = false): Uint8Array {
    const o = this.options;
    const mac = Buffer.from(req.chaddr).toString('hex');
    if (type === MessageType.ACK) {
      this.leases.set(mac, { mac, address: yiaddr, expiresAtMs: nowMs + o.leaseTimeS * 1000 });
      this.offered.delete(mac);
    }
    const msg: DhcpMessage = {
      op: 2,
      htype: 1,
      hops: 0,
      xid: req.xid,
      secs: 0,
      flags: req.flags,
      ciaddr: type === MessageType.ACK ? req.ciaddr : '0.0.0.0',
      yiaddr,
      siaddr: '0.0.0.0',
      giaddr: req.giaddr,
      chaddr: req.chaddr,
      sname: '',
      file: '',
      options: { messageType: type, serverId: o.serverAddress, unknown: [] },
    };
    if (type !== MessageType.NAK) {
      Object.assign(msg.options, {
        subnetMask: prefixToNetmask(o.prefixLength),
        broadcast: broadcastOf(yiaddr, o.prefixLength),
        leaseTimeS: o.leaseTimeS,
        dns: o.dns,
        ...(o.router ? { routers: [o.router] } : {}),
        ...(o.domain ? { domainName: o.domain } : {}),
        ...(rapid ? { rapidCommit: true } : {}),
      });
    } else {
      msg.options.message = 'address not available';
    }
    return encodeMessage(msg);
  }
}
