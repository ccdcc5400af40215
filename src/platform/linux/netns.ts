/**
 * Named network namespaces (/run/netns/NAME, as made by `ip netns add`). A socket keeps the
 * namespace it was created in, so the platform switches the calling thread into the
 * namespace with setns(2) only for the socket() call and switches straight back: one
 * process can then drive many namespaces. Nothing else runs on the thread in between
 * (the call is synchronous), so no other code ever sees the foreign namespace.
 */
import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { ArgumentError, PermissionError, PlatformError } from '../../errors.js';
import { CLONE_NEWNET, libc } from './libc.js';

const NETNS_DIR = '/run/netns';

export function checkNetnsName(name: string): void {
  if (!/^[A-Za-z0-9_.@:+-]{1,64}$/.test(name) || name === '.' || name === '..') {
    throw new ArgumentError('netns: must be a namespace name from `ip netns list` (letters, digits, _ . - @ : +)', { field: 'netns' });
  }
  if (!existsSync(`${NETNS_DIR}/${name}`)) {
    throw new ArgumentError(`netns: no network namespace named ${name} in ${NETNS_DIR}`, { field: 'netns' });
  }
}

/** Runs `create` with the calling thread inside the named namespace (or as is when none). */
export function inNetns<T>(netns: string | undefined, create: () => T): T {
  if (netns === undefined) return create();
  const c = libc();
  let target: number;
  try {
    target = openSync(`${NETNS_DIR}/${netns}`, 'r');
  } catch (e) {
    throw new PlatformError(`enter netns ${netns}: cannot open ${NETNS_DIR}/${netns}`, { cause: e });
  }
  let home: number | undefined;
  try {
    home = openSync('/proc/thread-self/ns/net', 'r');
    if (c.setns(target, CLONE_NEWNET) !== 0) {
      const errno = c.errno();
      const message = `enter netns ${netns}: setns failed (errno ${errno})`;
      throw errno === 1 ? new PermissionError(`${message}; needs CAP_SYS_ADMIN`) : new PlatformError(message);
    }
    let outcome: { value: T } | { error: unknown };
    try {
      outcome = { value: create() };
    } catch (e) {
      outcome = { error: e };
    }
    if (c.setns(home, CLONE_NEWNET) !== 0) {
      // The thread would stay in the wrong namespace: nothing after this can be trusted.
      throw new PlatformError(`leave netns ${netns}: setns back failed (errno ${c.errno()})`);
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  } finally {
    closeSync(target);
    if (home !== undefined) closeSync(home);
  }
}

/** Identity of a network namespace (its nsfs inode), for comparing with /proc/PID/ns/net. */
export function netnsInode(netns: string | undefined): number {
  return statSync(netns === undefined ? '/proc/thread-self/ns/net' : `${NETNS_DIR}/${netns}`).ino;
}
