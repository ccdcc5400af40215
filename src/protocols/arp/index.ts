/** ARP for address conflict detection (RFC 5227), sans I/O: packet codec, the probe machine and the announce machine. */
export {
  ARP_HTYPE_ETHERNET,
  ARP_PACKET_LENGTH,
  ARP_PTYPE_IPV4,
  ArpOperation,
  BROADCAST_MAC,
  ETHERTYPE_ARP,
  decodeArp,
  encodeAnnouncement,
  encodeArp,
  encodeProbe,
  encodeReply,
  formatMac,
  ipv4Bytes,
  isConflict,
  isProbe,
  macBytes,
} from './packet-codec.js';
export type { ArpDecodeResult, ArpOperationName, ArpPacket } from './packet-codec.js';
export {
  DEFAULT_PROBES,
  DEFAULT_PROBE_TIMEOUT_MS,
  MAX_PROBES,
  RFC_ANNOUNCE_WAIT_MS,
  RFC_PROBE_MAX_MS,
  RFC_PROBE_MIN_MS,
  RFC_PROBE_NUM,
  RFC_PROBE_WAIT_MS,
  createProbe,
  probeOffsetsMs,
  step,
} from './probe-machine.js';
export type {
  ProbeAction,
  ProbeConfig,
  ProbeDropReason,
  ProbeInput,
  ProbeResult,
  ProbeState,
  ProbeStateName,
  ProbeStats,
  ProbeStepResult,
  ResolvedProbeConfig,
} from './probe-machine.js';
export {
  MAX_ANNOUNCEMENTS,
  RFC_ANNOUNCE_INTERVAL_MS,
  RFC_ANNOUNCE_NUM,
  createAnnouncer,
  stepAnnouncer,
} from './announce-machine.js';
export type {
  AnnounceAction,
  AnnounceConfig,
  AnnounceInput,
  AnnounceResult,
  AnnounceState,
  AnnounceStateName,
  AnnounceStepResult,
  ResolvedAnnounceConfig,
} from './announce-machine.js';
export type { ArpMachineAction } from './machine-action.js';
