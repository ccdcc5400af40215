/**
 * Link events from the kernel (RTNLGRP_LINK), no polling. A table of the namespace's links
 * is loaded by one dump on the same socket that carries the events, so the snapshot and
 * the events are in kernel order: events older than the snapshot are dropped, later ones
 * are diffed against the table and become carrier/admin/added/removed events for the
 * watchers of that name. After a receive-queue overflow (ENOBUFS) the table is reloaded
 * and the differences are reported, so a lost event never leaves a watcher stale.
 *
 * Delivery: per watcher, in kernel order, each event in its own setImmediate — after the
 * promise continuations of any read that completed before the event arrived. So a caller
 * that subscribes first and then reads (getLink) sees the read, then every later change.
 *
 * The table doubles as the platform's link cache (`lookup`): it is updated before any
 * event is delivered, so an answer from it is never older than an event already seen.
 */
import type { Disposable, LinkEvent, LinkInfo } from '../contract.js';
import type { NetlinkChannel } from './netlink-channel.js';
import type { NetlinkMessage } from './netlink-codec.js';
import { parseLinkMessage, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK, RTNLGRP_LINK, type KernelLink } from './rtnetlink.js';
import { encodeLinkMessage } from './rtnetlink-codec.js';

const RESYNC_RETRY_MS = 200;

interface Watch {
  name: string;
  listener: (e: LinkEvent) => void;
  queue: Promise<void>;
  disposed: boolean;
}

export class LinkWatcher {
  private table: Map<number, KernelLink> | undefined;
  private readonly watches = new Set<Watch>();
  private started = false;
  private syncing = false;
  private syncAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Events were lost (ENOBUFS) and the reload has not completed: the table may be stale. */
  private overflowed = false;

  constructor(
    private readonly channel: NetlinkChannel,
    /** Completes a kernel link into a LinkInfo (kind detection may ask nl80211). */
    private readonly describe: (l: KernelLink) => Promise<LinkInfo>,
    /** Told when an ifindex leaves the table (caches keyed by index drop it). */
    private readonly onRemoved: (index: number) => void = () => {},
  ) {}

  /**
   * The link named `name` as of the last event read; undefined when the table is not
   * loaded, is being reloaded after lost events, or has no such link (the caller asks the
   * kernel then: a link just created may have an event still unread).
   */
  lookup(name: string): KernelLink | undefined {
    if (!this.table || this.overflowed || this.closed) return undefined;
    for (const l of this.table.values()) if (l.name === name) return l;
    return undefined;
  }

  watch(name: string, listener: (e: LinkEvent) => void): Disposable {
    const w: Watch = { name, listener, queue: Promise.resolve(), disposed: false };
    this.watches.add(w);
    this.start();
    return {
      dispose: () => {
        w.disposed = true;
        this.watches.delete(w);
      },
    };
  }

  /** Events for every link, with its name (a re-created link shows as removed + added). */
  watchAll(listener: (name: string, e: LinkEvent) => void): Disposable {
    const w: Watch = { name: '*', listener: () => {}, queue: Promise.resolve(), disposed: false };
    const all = { w, listener };
    this.allWatches.add(all);
    this.start();
    return {
      dispose: () => {
        w.disposed = true;
        this.allWatches.delete(all);
      },
    };
  }

  private readonly allWatches = new Set<{ w: Watch; listener: (name: string, e: LinkEvent) => void }>();

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const w of this.watches) w.disposed = true;
    this.watches.clear();
    for (const a of this.allWatches) a.w.disposed = true;
    this.allWatches.clear();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.channel.addMembership(RTNLGRP_LINK);
    this.channel.onEvent((m) => this.onKernelEvent(m));
    this.channel.onOverflow(() => {
      this.overflowed = true;
      this.sync();
    });
    this.sync();
  }

  private sync(): void {
    if (this.closed) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    this.channel
      .request('list links', RTM_GETLINK, encodeLinkMessage(), {
        dump: true,
        onComplete: (reply) => {
          const next = new Map<number, KernelLink>();
          for (const m of reply) {
            const l = parseLinkMessage(m);
            if (l) next.set(l.index, l);
          }
          const prev = this.table;
          this.table = next;
          if (!this.syncAgain) this.overflowed = false;
          if (prev) {
            for (const index of new Set([...prev.keys(), ...next.keys()])) {
              if (!next.has(index)) this.onRemoved(index);
              this.changed(prev.get(index), next.get(index));
            }
          }
        },
      })
      .catch(() => {
        if (this.closed || this.channel.isClosed) return;
        this.retryTimer = setTimeout(() => this.sync(), RESYNC_RETRY_MS);
        this.retryTimer.unref();
      })
      .finally(() => {
        this.syncing = false;
        if (this.syncAgain) {
          this.syncAgain = false;
          this.sync();
        }
      });
  }

  private onKernelEvent(m: NetlinkMessage): void {
    // Before the first snapshot: the snapshot, which comes later, already includes this.
    if (!this.table || (m.type !== RTM_NEWLINK && m.type !== RTM_DELLINK)) return;
    const l = parseLinkMessage(m);
    if (!l) return;
    const prev = this.table.get(l.index);
    if (m.type === RTM_DELLINK) {
      this.table.delete(l.index);
      this.onRemoved(l.index);
      this.changed(prev ?? l, undefined);
    } else {
      this.table.set(l.index, l);
      this.changed(prev, l);
    }
  }

  private changed(prev: KernelLink | undefined, next: KernelLink | undefined): void {
    for (const a of this.allWatches) {
      for (const name of new Set([prev?.name, next?.name].filter((n): n is string => n !== undefined))) {
        this.changedFor(a.w, name, prev, next, (e) => a.listener(name, e));
      }
    }
    for (const w of this.watches) this.changedFor(w, w.name, prev, next, w.listener);
  }

  private changedFor(w: Watch, name: string, prev: KernelLink | undefined, next: KernelLink | undefined, listener: (e: LinkEvent) => void): void {
    const was = prev?.name === name ? prev : undefined;
    const is = next?.name === name ? next : undefined;
    if (was && !is) this.emit(w, listener, () => ({ type: 'removed' }));
    else if (!was && is) this.emit(w, listener, async () => ({ type: 'added', link: await this.describe(is) }));
    else if (was && is) {
      if (was.index !== is.index) {
        this.emit(w, listener, () => ({ type: 'removed' }));
        this.emit(w, listener, async () => ({ type: 'added', link: await this.describe(is) }));
        return;
      }
      if (was.adminUp !== is.adminUp) this.emit(w, listener, () => ({ type: 'admin', up: is.adminUp }));
      if (was.carrier !== is.carrier) this.emit(w, listener, () => ({ type: 'carrier', carrier: is.carrier }));
    }
  }

  private emit(w: Watch, listener: (e: LinkEvent) => void, make: () => LinkEvent | Promise<LinkEvent>): void {
    w.queue = w.queue
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(make)
      .then(
        (e) => {
          if (w.disposed) return;
          try {
            listener(e);
          } catch (err) {
            // A throwing listener is the caller's bug: surface it, keep the queue going.
            process.nextTick(() => {
              throw err;
            });
          }
        },
        () => undefined, // the link vanished while being described; its 'removed' follows
      );
  }
}
