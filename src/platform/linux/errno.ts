/**
 * Kernel errno values become NicupErrors whose message names the operation, e.g.
 * "add address 192.168.1.2/24 on eth0: permission denied (EPERM)".
 */
import { getSystemErrorName } from 'node:util';
import type { NicupError } from '../../errors.js';
import { InterfaceNotFoundError, PermissionError, PlatformError, PortInUseError } from '../../errors.js';

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const ENXIO = 6;
export const EACCES = 13;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const EMSGSIZE = 90;
export const EADDRINUSE = 98;
export const EADDRNOTAVAIL = 99;
export const ENETUNREACH = 101;
export const ENOBUFS = 105;

export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-Math.abs(errno));
  } catch {
    return `errno ${errno}`;
  }
}

export function errnoError(operation: string, errno: number, cause?: unknown): NicupError {
  const name = errnoName(errno);
  const options = cause === undefined ? {} : { cause };
  switch (errno) {
    case EPERM:
    case EACCES:
      return new PermissionError(`${operation}: permission denied (${name}); needs CAP_NET_ADMIN`, options);
    case ENODEV:
    case ENXIO:
      return new InterfaceNotFoundError(`${operation}: no such interface (${name})`, options);
    case EADDRINUSE:
      return new PortInUseError(`${operation}: address in use (${name})`, options);
    default:
      return new PlatformError(`${operation}: ${name}`, options);
  }
}

/** Carries the raw errno beside the mapped error, for callers that tolerate some errnos. */
export class ErrnoFailure extends Error {
  constructor(
    readonly operation: string,
    readonly errno: number,
  ) {
    super(`${operation}: ${errnoName(errno)}`);
  }
  toNicupError(): NicupError {
    return errnoError(this.operation, this.errno, this);
  }
}
