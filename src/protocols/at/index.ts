/** The sans-I/O side of modem control over AT commands (3GPP TS 27.007 / ITU-T V.250). */
export * from './line-codec.js';
export * from './response-parser.js';
export * from './parsers.js';
export * from './redact.js';
export * from './chat.js';
export * from './modem-machine.js';
