/**
 * One table of error codes; the classes are made from it. Every error nicup throws or
 * rejects with is a NicupError with a stable `code`. Messages never carry secrets
 * (WiFi keys, passwords, PINs): code that builds a message from user input must say
 * which field and which rule, not echo the value.
 */

export const ErrorCodes = {
  /** A NIC (or another options object) broke a rule. `field` names the field. */
  NICUP_INVALID_NIC: 'invalid NIC',
  NICUP_INVALID_ARGUMENT: 'invalid argument',
  NICUP_INTERFACE_NOT_FOUND: 'interface not available',
  NICUP_INTERFACE_BUSY: 'cannot reconfigure interface when active',
  NICUP_INTERFACE_MANAGED: 'interface managed by another network manager',
  NICUP_INTERFACE_NOT_UP: 'interface not up',
  NICUP_NOT_SUPPORTED: 'not supported',
  NICUP_CLOSED: 'closed',
  NICUP_ABORTED: 'aborted',
  NICUP_PORT_IN_USE: 'port in use',
  NICUP_PLATFORM: 'platform failure',
  NICUP_PERMISSION: 'permission denied',
  NICUP_SEALED_KEY: 'sealed key refused',
  NICUP_TIMEOUT: 'timed out',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface NicupErrorOptions {
  /** The NIC or argument field at fault, as a dotted path: "wificonfig.key". */
  field?: string;
  cause?: unknown;
}

export class NicupError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  constructor(code: ErrorCode, message: string, options: NicupErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }
  override get name(): string {
    return classNames[this.code];
  }
}

const classNames: Record<ErrorCode, string> = {
  NICUP_INVALID_NIC: 'NicError',
  NICUP_INVALID_ARGUMENT: 'ArgumentError',
  NICUP_INTERFACE_NOT_FOUND: 'InterfaceNotFoundError',
  NICUP_INTERFACE_BUSY: 'InterfaceBusyError',
  NICUP_INTERFACE_MANAGED: 'InterfaceManagedError',
  NICUP_INTERFACE_NOT_UP: 'InterfaceNotUpError',
  NICUP_NOT_SUPPORTED: 'NotSupportedError',
  NICUP_CLOSED: 'ClosedError',
  NICUP_ABORTED: 'AbortError',
  NICUP_PORT_IN_USE: 'PortInUseError',
  NICUP_PLATFORM: 'PlatformError',
  NICUP_PERMISSION: 'PermissionError',
  NICUP_SEALED_KEY: 'SealedKeyError',
  NICUP_TIMEOUT: 'TimeoutError',
};

function make(code: ErrorCode) {
  return class extends NicupError {
    constructor(message: string, options?: NicupErrorOptions) {
      super(code, message, options);
    }
  };
}

/** A NIC broke a rule; `field` is the dotted path of the field ("wificonfig.ssid"). */
export class NicError extends make('NICUP_INVALID_NIC') {
  constructor(field: string, rule: string, options?: Omit<NicupErrorOptions, 'field'>) {
    super(`${field}: ${rule}`, { ...options, field });
  }
}
export class ArgumentError extends make('NICUP_INVALID_ARGUMENT') {}
export class InterfaceNotFoundError extends make('NICUP_INTERFACE_NOT_FOUND') {}
export class InterfaceBusyError extends make('NICUP_INTERFACE_BUSY') {}
export class InterfaceManagedError extends make('NICUP_INTERFACE_MANAGED') {}
export class InterfaceNotUpError extends make('NICUP_INTERFACE_NOT_UP') {}
export class NotSupportedError extends make('NICUP_NOT_SUPPORTED') {}
export class ClosedError extends make('NICUP_CLOSED') {}
export class AbortError extends make('NICUP_ABORTED') {}
export class PortInUseError extends make('NICUP_PORT_IN_USE') {}
export class PlatformError extends make('NICUP_PLATFORM') {}
export class PermissionError extends make('NICUP_PERMISSION') {}
export class SealedKeyError extends make('NICUP_SEALED_KEY') {}
export class TimeoutError extends make('NICUP_TIMEOUT') {}

export function isNicupError(e: unknown, code?: ErrorCode): e is NicupError {
  return e instanceof NicupError && (code === undefined || e.code === code);
}
