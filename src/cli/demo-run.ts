/**
 * What the two demos share (demo-sim.ts in virtual time, demo-lab.ts on a real lab): the
 * tally of state changes, sends and echoes, the lines printed for each, and the final check.
 * Each demo keeps its own clock, world and way of waiting.
 */
import { NetState, SendError, type NetInterface, type NetStateValue, type SendErrorCode, type StateChange, type UdpMessage, type UdpSocket } from '../index.js';
import { CliFailure } from './cli-errors.js';
import { printDatagram, printSend, printState } from './format.js';
import type { Output } from './output.js';

export interface DemoRunOptions {
  /** The interface the demo opens. */
  iface: string;
  /** The echo peer's address and UDP port. */
  address: string;
  port: number;
  /** Milliseconds since the demo started, on the demo's clock. */
  since: () => number;
  /** The origin the state lines' times are given from (printState's sinceMs). */
  stateOriginMs: number;
}

/** Datagrams the demo sends in all: three, one while the cable is out, one after. */
const SENDS = 5;

export class DemoRun {
  readonly changes: StateChange[] = [];
  connectedCount = 0;
  echoed = 0;
  sentOk = 0;
  refused = 0;
  private socket: UdpSocket | undefined;

  constructor(
    private readonly out: Output,
    private readonly o: DemoRunOptions,
  ) {}

  /** A step heading ("== title"). */
  step(title: string): void {
    this.out.emit(`== ${title}`, { type: 'step', timeMs: Math.round(this.o.since()), title });
  }

  /** The open callback: records and prints each state change, counts CONNECTED. */
  readonly onState = (_s: NetStateValue, change: StateChange): void => {
    this.changes.push(change);
    if (change.state === NetState.CONNECTED) this.connectedCount++;
    printState(this.out, change, this.o.stateOriginMs);
  };

  /** The last state change, for a failure message: "NAME, reason" or "none". */
  lastState(): string {
    const last = this.changes.at(-1);
    return last ? `${last.name}, ${last.reason}` : 'none';
  }

  /** Opens the interface's UDP socket; each datagram that comes back is counted and printed. */
  async openUdp(iface: NetInterface): Promise<UdpSocket> {
    const socket = await iface.openUdp();
    this.socket = socket;
    socket.on('message', (m: UdpMessage) => {
      this.echoed++;
      printDatagram(this.out, this.o.iface, m, this.o.since(), false);
    });
    return socket;
  }

  /** Sends "ping n" to the echo peer and prints the result, marked unexpected unless it is `expect`. */
  send(n: number, expect: SendErrorCode): SendErrorCode {
    const { address, port } = this.o;
    const text = `ping ${n}`;
    const code = this.socket!.send(address, port, text);
    if (code === SendError.OK) this.sentOk++;
    else this.refused++;
    const label = code === expect ? JSON.stringify(text) : `${JSON.stringify(text)} (unexpected)`;
    printSend(this.out, { atMs: this.o.since(), seq: n, count: SENDS, address, port, bytes: Buffer.byteLength(text), code, label });
    return code;
  }

  /** The counts every summary gives. */
  counts(): { states: number; sent: number; refusedWhileDown: number; echoed: number } {
    return { states: this.changes.length, sent: this.sentOk, refusedWhileDown: this.refused, echoed: this.echoed };
  }

  /** Throws CliFailure unless four datagrams came back and the one send while the cable was out was refused. */
  checkOutcome(): void {
    if (this.echoed < 4 || this.refused !== 1) throw new CliFailure(`demo: expected 4 echoes and 1 refused send, got ${this.echoed} and ${this.refused}`);
  }
}
