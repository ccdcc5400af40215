/**
 * The benchmark's own yardstick: one raw rtnetlink socket inside a lab namespace, independent
 * of nicup's platform code. It timestamps kernel events as they arrive (address, default
 * route, carrier) and sets links up/down with a single RTM_NEWLINK, so a measurement starts
 * "just before the request" and ends "when the kernel says so", whoever did the work.
 *
 * Struct layouts (include/uapi/linux/rtnetlink.h, if_addr.h, if_link.h):
 *   ifinfomsg { u8 family, u8 pad, u16 type, s32 index, u32 flags, u32 change }
 *   ifaddrmsg { u8 family, u8 prefixlen, u8 flags, u8 scope, u32 index }
 *   rtmsg     { u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags }
 */
import { RawNetlinkSocket } from 'netlink';
import { inNetns } from '../../src/platform/linux/netns.js';
import { decodeAttrs, decodeMessages, encodeMessage, NLM_F_ACK, NLM_F_REQUEST, NLMSG_ERROR, decodeErrno, attrU32 } from '../../src/platform/linux/netlink-codec.js';

const NETLINK_ROUTE = 0;
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTNLGRP_LINK = 1;
const RTNLGRP_IPV4_IFADDR = 5;
const RTNLGRP_IPV4_ROUTE = 7;
const AF_INET = 2;
const IFF_UP = 0x1;
const IFF_LOWER_UP = 0x10000;
const RT_TABLE_MAIN = 254;
const RTA_OIF = 4;
const RTA_TABLE = 15;
const REQUEST_TIMEOUT_MS = 5000;

export type KernelEvent =
  | { kind: 'link'; index: number; up: boolean; carrier: boolean; deleted: boolean; atMs: number }
  | { kind: 'address'; index: number; added: boolean; atMs: number }
  | { kind: 'default-route'; index: number; added: boolean; atMs: number };

/** Decodes the rtnetlink events the benchmark cares about; everything else is ignored. */
export function decodeKernelEvents(buf: Buffer, atMs: number): KernelEvent[] {
  const out: KernelEvent[] = [];
  for (const m of decodeMessages(buf)) {
    const p = m.payload;
    if ((m.type === RTM_NEWLINK || m.type === RTM_DELLINK) && p.length >= 16) {
      const flags = p.readUInt32LE(8);
      out.push({ kind: 'link', index: p.readInt32LE(4), up: (flags & IFF_UP) !== 0, carrier: (flags & IFF_LOWER_UP) !== 0, deleted: m.type === RTM_DELLINK, atMs });
    } else if ((m.type === RTM_NEWADDR || m.type === RTM_DELADDR) && p.length >= 8 && p.readUInt8(0) === AF_INET) {
      out.push({ kind: 'address', index: p.readUInt32LE(4), added: m.type === RTM_NEWADDR, atMs });
    } else if ((m.type === RTM_NEWROUTE || m.type === RTM_DELROUTE) && p.length >= 12 && p.readUInt8(0) === AF_INET && p.readUInt8(1) === 0) {
      const attrs = decodeAttrs(p.subarray(12));
      const table = attrU32(attrs.get(RTA_TABLE)) ?? p.readUInt8(4);
      const oif = attrU32(attrs.get(RTA_OIF));
      if (table === RT_TABLE_MAIN && oif !== undefined) out.push({ kind: 'default-route', index: oif, added: m.type === RTM_NEWROUTE, atMs });
    }
  }
  return out;
}

/** A raw rtnetlink socket in one namespace: kernel events with arrival times, and link up/down. */
export class NsRtnl {
  private readonly socket: RawNetlinkSocket;
  private readonly listeners = new Set<(e: KernelEvent) => void>();
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private seq = 1;
  private closed = false;

  constructor(readonly netns: string) {
    this.socket = inNetns(netns, () => new RawNetlinkSocket(NETLINK_ROUTE));
    this.socket.setRecvBufferSize(4 << 20);
    for (const g of [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE]) this.socket.addMembership(g);
    this.socket.unref();
    this.socket.on('message', (buf, rinfo) => {
      const atMs = performance.now();
      if (rinfo.groups === 0) {
        for (const m of decodeMessages(buf)) {
          if (m.type !== NLMSG_ERROR) continue;
          const waiter = this.pending.get(m.seq);
          if (!waiter) continue;
          this.pending.delete(m.seq);
          clearTimeout(waiter.timer);
          const errno = decodeErrno(m.payload);
          if (errno === 0) waiter.resolve();
          else waiter.reject(new Error(`rtnetlink request ${m.seq} failed: errno ${errno}`));
        }
        return;
      }
      for (const e of decodeKernelEvents(buf, atMs)) for (const l of this.listeners) l(e);
    });
    this.socket.on('error', (err) => {
      // ENOBUFS would mean lost events: a measurement that relies on them would hang, so say it.
      console.error(`bench rtnetlink (${netns}): ${err.message}`);
    });
  }

  onEvent(listener: (e: KernelEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sets IFF_UP on a link by index with one RTM_NEWLINK; resolves on the kernel's ACK. */
  setLinkUp(index: number, up: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new Error('rtnl closed'));
    const payload = Buffer.alloc(16);
    payload.writeInt32LE(index, 4);
    payload.writeUInt32LE(up ? IFF_UP : 0, 8);
    payload.writeUInt32LE(IFF_UP, 12);
    const seq = this.seq++;
    const msg = encodeMessage({ type: RTM_NEWLINK, flags: NLM_F_REQUEST | NLM_F_ACK, seq, port: 0, payload });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`rtnetlink set link ${index} ${up ? 'up' : 'down'}: no ACK in ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(seq, { resolve, reject, timer });
      this.socket.send(msg, {}, (err) => {
        if (!err) return;
        this.pending.delete(seq);
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('rtnl closed'));
    }
    this.pending.clear();
    this.listeners.clear();
    this.socket.close();
  }
}

/**
 * Follows one link (by ifindex) and resolves when IPv4 address AND a main-table default
 * route through it are both in the kernel: the common finish line of every bring-up.
 */
export function waitConfigured(rtnl: NsRtnl, index: number, timeoutMs: number): { done: Promise<number>; cancel: () => void } {
  let address = false;
  let route = false;
  let off: () => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  let cancel: () => void = () => {};
  const done = new Promise<number>((resolve, reject) => {
    off = rtnl.onEvent((e) => {
      if (e.index !== index) return;
      if (e.kind === 'address') address = e.added;
      else if (e.kind === 'default-route') route = e.added;
      else if (e.kind === 'link' && e.deleted) address = route = false;
      if (address && route) {
        off();
        clearTimeout(timer);
        resolve(e.atMs);
      }
    });
    timer = setTimeout(() => {
      off();
      reject(new Error(`link ${index}: no address + default route within ${timeoutMs} ms (address ${address}, route ${route})`));
    }, timeoutMs);
    cancel = () => {
      off();
      clearTimeout(timer);
      reject(new Error('cancelled'));
    };
  });
  done.catch(() => {});
  return { done, cancel };
}

/** Resolves with the arrival time of the next carrier change of `index` to `carrier`. */
export function waitCarrier(rtnl: NsRtnl, index: number, carrier: boolean, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`link ${index}: carrier ${carrier ? 'on' : 'off'} not seen within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = rtnl.onEvent((e) => {
      if (e.kind === 'link' && e.index === index && e.carrier === carrier) {
        off();
        clearTimeout(timer);
        resolve(e.atMs);
      }
    });
  });
}
