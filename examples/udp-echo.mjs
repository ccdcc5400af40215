// Electric Imp's UDP echo sample, ported: open an interface; once CONNECTED, read the IP
// table and open UDP port 1234; echo back every datagram that arrives.
//
//   node examples/udp-echo.mjs [interface]        (NICUP_PLATFORM=sim to run on the simulator)
//
// The squirrel original:
//   interface <- imp.net.open({"interface":"eth0"}, stateChange);
//   function stateChange(state) { if (state == imp.net.CONNECTED) { udp = interface.openudp(dataReceived, 1234); } }
//   function dataReceived(fromAddress, fromPort, toAddress, toPort, data) { udp.send(fromAddress, fromPort, data); }

/** Starts the echo on `imp` (any impOS-like object). Returns the interface. */
export function startEcho(imp, ifname = 'eth0', log = console.log) {
  let udp = null;
  const iface = imp.net.open({ interface: ifname }, (state) => {
    if (state === imp.net.CONNECTED) {
      const ipTable = iface.getiptable();
      log(`Connected: ${ipTable.ipv4.address}`);
      if (udp === null) udp = iface.openudp(dataReceived, 1234);
    }
  });
  function dataReceived(fromAddress, fromPort, toAddress, toPort, data) {
    log(`Received ${data.length} bytes from ${fromAddress}:${fromPort} to ${toAddress}:${toPort}`);
    const err = udp.send(fromAddress, fromPort, data);
    if (err !== 0) log(`send error ${err}`);
  }
  return iface;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { imp } = await import('nicup/imp');
  const iface = startEcho(imp, process.argv[2] ?? 'eth0');
  process.on('SIGINT', () => {
    iface.close();
    setTimeout(() => process.exit(0), 100);
  });
  // Keep the process alive while the echo runs.
  setInterval(() => {}, 1 << 30);
}
