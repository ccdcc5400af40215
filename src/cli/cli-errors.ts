/**
 * Exit codes and the one error line. 0 success; 1 a runtime failure (the network did not
 * come up, the platform failed); 2 a usage error (bad command line, bad NIC).
 */
import { isNicupError } from '../index.js';
import type { Output } from './output.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A bad command line, found by nicup rather than by commander. Message: "<what>: <rule>". */
export class UsageError extends Error {
  override get name(): string {
    return 'UsageError';
  }
}

/** A runtime failure already described (e.g. "eth0: ETHERNET_STOPPED_UNHAPPY (dhcp-timeout)"). */
export class CliFailure extends Error {
  override get name(): string {
    return 'CliFailure';
  }
}

/** NIC fields and the options that fill them, so an error can point at the flag to fix. */
const OPTION_OF_FIELD: [prefix: string, option: string][] = [
  ['wificonfig.ssid', '--ssid'],
  ['wificonfig.key', '--key-file'],
  ['wificonfig.wps', '--wps'],
  ['wificonfig', '--ssid'],
  ['staticconfig.ip', '--static'],
  ['staticconfig.netmask', '--static'],
  ['staticconfig.prefixLength', '--static'],
  ['staticconfig.gateway', '--gateway'],
  ['staticconfig.dns', '--dns'],
  ['staticconfig', '--static'],
  ['proxyconfig.username', '--proxy-user'],
  ['proxyconfig.password', '--proxy-password-file'],
  ['proxyconfig', '--proxy'],
  ['cellconfig.pin', '--pin-file'],
  ['cellconfig.device', '--device'],
  ['cellconfig', '--apn'],
  ['interface', 'IFACE'],
];

function optionFor(field: string): string | undefined {
  return OPTION_OF_FIELD.find(([prefix]) => field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`))?.[1];
}

/** Writes the one error line (and the stack with NICUP_DEBUG=1); returns the exit code. */
export function reportError(err: unknown, out: Output, debug: boolean): number {
  const code = exitCodeOf(err);
  out.error(describeError(err));
  if (debug && err instanceof Error && err.stack) out.debug(err.stack);
  return code;
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return EXIT_USAGE;
  if (isNicupError(err, 'NICUP_INVALID_NIC') || isNicupError(err, 'NICUP_INVALID_ARGUMENT')) return EXIT_USAGE;
  return EXIT_FAILURE;
}

export function describeError(err: unknown): string {
  if (err instanceof UsageError || err instanceof CliFailure) return err.message;
  if (isNicupError(err, 'NICUP_INVALID_NIC')) {
    // NicError's message is already "<field>: <rule>".
    const option = err.field === undefined ? undefined : optionFor(err.field);
    return option ? `${err.message} [${option}]` : err.message;
  }
  if (isNicupError(err)) return err.message;
  const message = err instanceof Error ? err.message : String(err);
  return `internal error: ${message} (NICUP_DEBUG=1 shows the stack)`;
}
