#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages nicup's tests, lab and demo use, when they are
# missing. Runs as part of `npm test` and .ci/run; does nothing when all are present.
#   bash scripts/system-deps.sh            install what is missing (needs root)
#   bash scripts/system-deps.sh --check    list what is missing, exit 1 if anything is
set -euo pipefail

packages=(
  iproute2        # ip netns / veth for the lab
  dnsmasq-base    # DHCP server of the lab
  kea-dhcp4-server # DHCP server for short-lease tests
  socat           # UDP peer of the lab
  isc-dhcp-client # dhclient (benchmark peer)
  dhcpcd-base     # dhcpcd (benchmark peer)
  tcpdump         # captures in tests
  tinyproxy       # HTTP proxy for proxy tests
  openssl         # certificates for the proxy tests
  qemu-system-x86 # the VM lab (WiFi, PPP)
  busybox-static  # udhcpc (benchmark peer) and the VM lab's tools; conflicts with 'busybox'
  hostapd wpasupplicant ppp iw cpio zstd kmod python3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${1:-}" = "--check" ]; then
  [ ${#missing[@]} -eq 0 ] && exit 0
  echo "missing Debian packages: ${missing[*]}"
  exit 1
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "nicup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
  echo "nicup: run: sudo bash scripts/system-deps.sh" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "nicup: no apt-get here; install the equivalents of: ${missing[*]}" >&2
  exit 1
fi
echo "nicup: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# tinyproxy and kea ship services: never start them on the host (policy-rc.d 101 = "don't").
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1; fi
trap '[ $created_policy = 1 ] && rm -f "$policy"' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "nicup: installed."
