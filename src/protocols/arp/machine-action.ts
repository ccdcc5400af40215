/**
 * What the ARP machines (probe, announce) ask their driver to do, as data: one shape, so one
 * driver runs both (src/platform/linux/arp.ts runMachine).
 */
export type ArpMachineAction<Result, SendInfo extends object = object> =
  /** Send this ARP body to the broadcast MAC (SendInfo: which probe or announcement it is). */
  | ({ type: 'send'; data: Uint8Array } & SendInfo)
  /** Arm the one timer (replacing any armed one) to fire at this monotonic time. */
  | { type: 'setTimer'; atMs: number }
  | { type: 'clearTimer' }
  /** The outcome; nothing follows it. */
  | { type: 'done'; result: Result }
  | { type: 'log'; message: string };
