/** wpa_supplicant control interface, sans I/O: command encoder, reply and event decoders, station machine. */
export {
  addNetwork,
  attach,
  detach,
  disableNetwork,
  disconnect,
  enableNetwork,
  networkSetupCommands,
  ping,
  reassociate,
  reconnect,
  removeNetwork,
  renderSupplicantConf,
  scan,
  scanResults,
  selectNetwork,
  setCountry,
  setGlobal,
  setGlobalFreqList,
  setNetworkFreqList,
  setNetworkKey,
  setNetworkKeyMgmt,
  setNetworkPassphrase,
  setNetworkRawPsk,
  setNetworkScanFreq,
  setNetworkScanSsid,
  setNetworkSsid,
  ssidBytes,
  status,
  wpsCancel,
  wpsPbc,
} from './command-encoder.js';
export type { ControlCommand, KeyMgmt, NetworkSetupOptions, NetworkTarget, SupplicantConfOptions } from './command-encoder.js';
export { decodeEventLine, describeEvent, redactEventLine, WpaLevel } from './event-decoder.js';
export type { WpaEvent, WpaEventType } from './event-decoder.js';
export {
  decodeNetworkIdReply,
  decodeScanResults,
  decodeSimpleReply,
  decodeStatus,
  isJoiningState,
  isWpaState,
  parseInteger,
  parseMac,
  WPA_STATES,
  wpaStateFromCode,
} from './status-decoder.js';
export type { ReplyResult, ScanResult, ScanResults, SimpleReply, SupplicantStatus, WpaState } from './status-decoder.js';
export { decodePrintfEscaped, encodePrintfEscaped, ssidBytesToText } from './escaped-text.js';
export { createStation, DEFAULT_NOT_FOUND_LIMIT, DEFAULT_WRONG_KEY_LIMIT, step } from './station-machine.js';
export type {
  ResolvedStationConfig,
  StationAction,
  StationConfig,
  StationInput,
  StationPhase,
  StationState,
  StationStats,
  StationStepResult,
} from './station-machine.js';
