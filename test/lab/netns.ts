// The network-namespace lab lives in src/lab (the `nicup demo` and the benchmarks use it too).
export * from '../../src/lab/netns-lab.js';
