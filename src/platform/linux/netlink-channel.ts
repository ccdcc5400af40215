/**
 * One netlink socket carrying both requests and multicast events, so that a dump's reply
 * and the events around it are seen in the order the kernel produced them (the link table
 * in link-watch.ts depends on that). Replies are told from events by the sender's group:
 * the kernel unicasts replies (groups 0) and multicasts events, even an event caused by
 * our own request, which carries our sequence number.
 */
// The raw socket alone: the package index loads every generated struct (see rtnetlink.ts).
import { RawNetlinkSocket } from 'netlink/dist/raw.js';
import { ClosedError, TimeoutError } from '../../errors.js';
import { ErrnoFailure, ENOBUFS } from './errno.js';
import { inNetns } from './netns.js';
import {
  decodeErrno,
  decodeMessages,
  encodeMessage,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  type NetlinkMessage,
} from './netlink-codec.js';

export const NETLINK_ROUTE = 0;
export const NETLINK_GENERIC = 16;

const REQUEST_TIMEOUT_MS = 5000;
const DUMP_RETRIES = 3;
const EVENT_BUFFER_BYTES = 1 << 20;

export interface RequestOptions {
  dump?: boolean;
  /** Extra NLM_F_* flags (CREATE, EXCL, REPLACE). */
  flags?: number;
  /**
   * Called synchronously with the reply, before any event received after it is delivered
   * (the promise resolves a microtask later, too late to keep that order).
   */
  onComplete?: (reply: NetlinkMessage[]) => void;
}

interface Pending {
  operation: string;
  type: number;
  payload: Buffer;
  options: RequestOptions;
  parts: NetlinkMessage[];
  interrupted: boolean;
  retries: number;
  /** Runs from when the request is sent, not while it waits behind another dump. */
  timer: NodeJS.Timeout | undefined;
  resolve: (reply: NetlinkMessage[]) => void;
  reject: (e: Error) => void;
}

export class NetlinkChannel {
  private readonly socket: RawNetlinkSocket;
  private readonly pending = new Map<number, Pending>();
  /** The kernel runs one dump per netlink socket at a time (netlink_dump_start: EBUSY); later ones wait here. */
  private dumping: Pending | undefined;
  private readonly dumpQueue: Pending[] = [];
  private readonly eventListeners = new Set<(m: NetlinkMessage) => void>();
  private readonly overflowListeners = new Set<() => void>();
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private closed = false;
  private referenced = true;

  constructor(
    protocol: number,
    readonly netns?: string,
  ) {
    this.socket = inNetns(netns, () => new RawNetlinkSocket(protocol));
    this.setReferenced(false);
    this.socket.on('message', (buf, rinfo) => this.receive(buf, rinfo.groups !== 0));
    this.socket.on('error', (err) => {
      // ENOBUFS: the receive queue overflowed and events were lost; listeners re-sync.
      if (err.errno === ENOBUFS || err.errno === -ENOBUFS || err.code === 'ENOBUFS') {
        for (const l of this.overflowListeners) l();
      }
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  request(operation: string, type: number, payload: Buffer, options: RequestOptions = {}): Promise<NetlinkMessage[]> {
    if (this.closed) return Promise.reject(new ClosedError(`${operation}: platform disposed`));
    return new Promise((resolve, reject) => {
      const p: Pending = {
        operation,
        type,
        payload,
        options,
        parts: [],
        interrupted: false,
        retries: 0,
        timer: undefined,
        resolve,
        reject,
      };
      this.submit(p);
    });
  }

  /** Joins an rtnetlink/genetlink multicast group (RTNLGRP_*). */
  addMembership(group: number): void {
    if (this.closed) return;
    this.socket.setRecvBufferSize(EVENT_BUFFER_BYTES);
    this.socket.addMembership(group);
  }

  onEvent(listener: (m: NetlinkMessage) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onOverflow(listener: () => void): () => void {
    this.overflowListeners.add(listener);
    return () => this.overflowListeners.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.pending.values(), ...this.dumpQueue]) this.fail(p, new ClosedError(`${p.operation}: platform disposed`));
    this.eventListeners.clear();
    this.overflowListeners.clear();
    this.socket.close();
  }

  private submit(p: Pending): void {
    if (p.options.dump) {
      if (this.dumping) {
        this.dumpQueue.push(p);
        return;
      }
      this.dumping = p;
    }
    this.send(p);
  }

  private send(p: Pending): void {
    const seq = this.nextSeq();
    const flags = NLM_F_REQUEST | (p.options.dump ? NLM_F_DUMP : NLM_F_ACK) | (p.options.flags ?? 0);
    this.pending.set(seq, p);
    this.updateRef();
    clearTimeout(p.timer);
    p.timer = setTimeout(() => this.fail(p, new TimeoutError(`${p.operation}: no answer from the kernel in ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
    const frame = encodeMessage({ type: p.type, flags, seq, port: 0, payload: p.payload });
    this.socket.send([frame], { port: 0 }, (err) => {
      if (err) this.fail(p, new ErrnoFailure(p.operation, Math.abs(err.errno ?? 0) || 5));
    });
  }

  private nextSeq(): number {
    this.seq = (this.seq % 0x7fffffff) + 1;
    return this.seq;
  }

  private receive(buf: Buffer, multicast: boolean): void {
    if (this.closed) return;
    for (const m of decodeMessages(buf)) {
      const p = multicast ? undefined : this.pending.get(m.seq);
      if (p) {
        this.reply(m, p);
        continue;
      }
      if (m.type === NLMSG_ERROR || m.type === NLMSG_DONE || m.type === NLMSG_NOOP || m.type === NLMSG_OVERRUN) continue;
      for (const l of this.eventListeners) l(m);
    }
  }

  private reply(m: NetlinkMessage, p: Pending): void {
    if (m.type === NLMSG_ERROR) {
      const errno = decodeErrno(m.payload);
      if (errno !== 0) this.fail(p, new ErrnoFailure(p.operation, errno));
      else this.succeed(p);
    } else if (m.type === NLMSG_DONE) {
      // A dump that failed half-way reports its error in the DONE payload.
      const errno = m.payload.length >= 4 ? decodeErrno(m.payload) : 0;
      if (errno !== 0) this.fail(p, new ErrnoFailure(p.operation, errno));
      else if (p.interrupted && p.retries < DUMP_RETRIES) {
        // NLM_F_DUMP_INTR: the table changed during the dump; the snapshot is inconsistent.
        this.forget(p);
        p.parts = [];
        p.interrupted = false;
        p.retries++;
        this.send(p);
      } else this.succeed(p);
    } else {
      if (m.flags & NLM_F_DUMP_INTR) p.interrupted = true;
      p.parts.push(m);
    }
  }

  private succeed(p: Pending): void {
    this.finish(p);
    try {
      p.options.onComplete?.(p.parts);
    } catch (e) {
      p.reject(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    p.resolve(p.parts);
  }

  private fail(p: Pending, e: Error): void {
    this.finish(p);
    p.reject(e);
  }

  private forget(p: Pending): void {
    for (const [seq, q] of this.pending) if (q === p) this.pending.delete(seq);
    this.updateRef();
  }

  /** A request is over (answered, failed or timed out): let the next queued dump go. */
  private finish(p: Pending): void {
    this.forget(p);
    clearTimeout(p.timer);
    const queued = this.dumpQueue.indexOf(p);
    if (queued >= 0) this.dumpQueue.splice(queued, 1);
    if (this.dumping === p) {
      this.dumping = undefined;
      const next = this.dumpQueue.shift();
      if (next && !this.closed) this.submit(next);
    }
  }

  /** Referenced only while a request waits, so a platform alone never keeps a process alive. */
  private updateRef(): void {
    if (!this.closed) this.setReferenced(this.pending.size > 0);
  }

  private setReferenced(on: boolean): void {
    if (on === this.referenced) return;
    this.referenced = on;
    if (on) this.socket.ref();
    else this.socket.unref();
  }
}
