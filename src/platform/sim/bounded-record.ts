/**
 * The simulator's records (DHCP messages a server received, AT commands a modem received)
 * keep only their latest entries, so a simulated device that runs for days stays bounded;
 * a counter beside each record keeps the total.
 */
import { ArgumentError } from '../../errors.js';

/** Default length of a record: enough for any test, bounded for a long run. */
export const DEFAULT_RECORD_LIMIT = 1000;

/** Checks a record limit option: an integer >= 0 (0 keeps nothing, the counter still counts). */
export function checkRecordLimit(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0) throw new ArgumentError(`${field}: must be an integer >= 0`, { field });
  return value;
}

/** Appends `entry`, then drops the oldest entries beyond `limit`. */
export function appendBounded<T>(record: T[], entry: T, limit: number): void {
  record.push(entry);
  if (record.length > limit) record.splice(0, record.length - limit);
}
