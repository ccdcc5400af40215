/**
 * The peer DHCP clients, each started the way a system would start it for one interface,
 * with everything it writes redirected: private lease/pid/config files, and a configuring
 * script that only puts the address and default route on the interface (the distributions'
 * scripts also rewrite resolv.conf and run hooks; ours is the least work a script can do,
 * which favours the peer). They all run inside the PeerJail.
 *
 * Each ends when the kernel has the address AND the default route on the link; the
 * benchmark then stops it.
 */
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from '../../test/lab/netns.js';

export interface PeerRun {
  ns: string;
  ifname: string;
  /** A directory private to this run. */
  dir: string;
}

export interface PeerSpec {
  id: string;
  label: string;
  /** What it is and how it was run, for the report. */
  notes: string;
  /** The command line (run inside the jail and the client namespace). */
  argv(run: PeerRun): string[];
  /** Fewer runs for a peer whose bring-up is seconds of protocol timers. */
  slow?: boolean;
  /**
   * 'netns-exec' (default): `ip netns exec NS` (private resolv.conf bound, fresh /sys);
   * 'net-only': only the network namespace is entered (systemd-networkd: see PeerJail.sysfsFor).
   */
  launch?: 'netns-exec' | 'net-only';
  env?: Record<string, string>;
}

/** systemd-networkd's configuration for the benchmark link: DHCPv4 only, nothing IPv6. */
export const NETWORKD_FILE = '/etc/systemd/network/10-nicup-bench.network';
export function networkdConfig(ifname: string): string {
  return `[Match]\nName=${ifname}\n\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`;
}

function script(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  chmodSync(p, 0o755);
  return p;
}

/** Writes the configuring scripts into `dir` (once per benchmark) and returns the peers. */
export function makePeers(dir: string, options: { networkd: boolean }): PeerSpec[] {
  const ip = findBinary('ip');
  // busybox udhcpc: $1 is the event; $ip, $mask (prefix length), $broadcast, $router.
  const udhcpcScript = script(
    dir,
    'udhcpc.script',
    `#!/bin/sh
case "$1" in
  deconfig) ${ip} link set dev "$interface" up; ${ip} -4 addr flush dev "$interface" ;;
  bound|renew)
    ${ip} -4 addr add "$ip/$mask" broadcast "\${broadcast:-+}" dev "$interface"
    for r in $router; do ${ip} -4 route add default via "$r" dev "$interface"; done ;;
esac
exit 0
`,
  );
  // ISC dhclient: $reason, $interface, $new_ip_address, $new_subnet_mask, $new_routers.
  const dhclientScript = script(
    dir,
    'dhclient.script',
    `#!/bin/sh
case "$reason" in
  PREINIT) ${ip} link set dev "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    ${ip} -4 addr add "$new_ip_address/$new_subnet_mask" broadcast "$new_broadcast_address" dev "$interface"
    for r in $new_routers; do ${ip} -4 route add default via "$r" dev "$interface"; done ;;
esac
exit 0
`,
  );
  const dhclientConf = join(dir, 'dhclient.conf');
  writeFileSync(dhclientConf, '# nicup bench: dhclient defaults\n');
  // dhcpcd's own configuration file as installed (it asks for rapid commit); hooks that
  // would write resolv.conf or set the hostname are switched off on the command line.
  const dhcpcdConf = join(dir, 'dhcpcd.conf');
  if (existsSync('/etc/dhcpcd.conf')) copyFileSync('/etc/dhcpcd.conf', dhcpcdConf);
  else writeFileSync(dhcpcdConf, 'option rapid_commit\n');
  const dhcpcdConfNoDelay = join(dir, 'dhcpcd-nodelay.conf');
  writeFileSync(dhcpcdConfNoDelay, `${readFileSync(dhcpcdConf, 'utf8')}\n# nicup bench: no initial random delay (RFC 2131 4.4.1)\nnodelay\n`);

  const busybox = findBinary('busybox');
  const dhclient = findBinary('dhclient');
  const dhcpcd = findBinary('dhcpcd');
  const dhcpcdArgs = (r: PeerRun, conf = dhcpcdConf) => ['-B', '-4', '--noipv6rs', '-f', conf, '--nohook', 'resolv.conf', '--nohook', 'hostname', r.ifname];
  const networkd: PeerSpec[] = options.networkd
    ? [
        {
          id: 'networkd',
          label: 'systemd-networkd',
          notes: `systemd-networkd 252 started for each run, one .network file (DHCP=ipv4, no IPv6); no D-Bus, read-only /sys so it does not wait for udev`,
          argv: () => ['/lib/systemd/systemd-networkd'],
          launch: 'net-only',
          env: { SYSTEMD_LOG_TARGET: 'console', SYSTEMD_LOG_LEVEL: 'warning' },
        },
      ]
    : [];
  return [
    ...networkd,
    {
      id: 'udhcpc',
      label: 'udhcpc (busybox)',
      notes: `busybox udhcpc -f -q -i IF -s SCRIPT; the script sets the link up on deconfig and adds address + default route on bound (${busybox})`,
      argv: (r) => [busybox, 'udhcpc', '-f', '-q', '-i', r.ifname, '-s', udhcpcScript],
    },
    {
      id: 'dhclient',
      label: 'dhclient (ISC)',
      notes: 'dhclient -d -4 -1 -cf PRIVATE -lf PRIVATE -pf PRIVATE -sf SCRIPT IF; the script sets the link up on PREINIT and adds address + default route on BOUND',
      argv: (r) => [dhclient, '-d', '-4', '-1', '-cf', dhclientConf, '-lf', join(r.dir, 'dhclient.leases'), '-pf', join(r.dir, 'dhclient.pid'), '-sf', dhclientScript, r.ifname],
    },
    {
      id: 'dhcpcd',
      label: 'dhcpcd (default, ARP probe)',
      notes: 'dhcpcd -B -4 --noipv6rs -f COPY-OF-/etc/dhcpcd.conf --nohook resolv.conf --nohook hostname IF (default: probes the offered address with ARP, RFC 5227)',
      argv: (r) => [dhcpcd, ...dhcpcdArgs(r)],
      slow: true,
    },
    {
      id: 'dhcpcd-noarp',
      label: 'dhcpcd --noarp',
      notes: 'as dhcpcd, plus --noarp (no RFC 5227 probe: the like-for-like comparison, nicup does not probe)',
      argv: (r) => [dhcpcd, '--noarp', ...dhcpcdArgs(r)],
    },
    {
      id: 'dhcpcd-fast',
      label: 'dhcpcd --noarp, nodelay',
      notes: 'as dhcpcd --noarp, with `nodelay` added to its configuration: no initial random delay of up to 1 s before DISCOVER (dhcpcd at its fastest)',
      argv: (r) => [dhcpcd, '--noarp', ...dhcpcdArgs(r, dhcpcdConfNoDelay)],
    },
  ];
}
