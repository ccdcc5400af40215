#!/usr/bin/env bash
# Builds the VM lab: a Debian kernel as an uncompressed vmlinux (PVH direct boot) and an
# uncompressed initramfs with the 802.11 / PPP userland. See README.md beside this file.
#
#   test/lab/vm/build.sh          build (or reuse) the lab; last stdout line: NICUP_LAB_DIR=<dir>
#
# Cache: ${NICUP_LAB_CACHE:-/var/cache/nicup-lab}, keyed by this file, init.sh, the kernel
# package version and the versions of the host packages copied into the initramfs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${NICUP_LAB_CACHE:-/var/cache/nicup-lab}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

# Host packages the lab needs (binaries copied into the initramfs, qemu, tools used here).
host_packages=(qemu-system-x86 busybox-static hostapd wpasupplicant dnsmasq-base ppp socat iw iproute2
  cpio zstd xz-utils kmod python3 dash libc-bin)
# Kernel modules loaded in the guest (dependencies are added by modprobe --show-depends).
guest_modules=(mac80211_hwsim cfg80211 mac80211 ccm gcm cmac ctr ecb cbc aesni_intel ghash_clmulni_intel
  michael_mic sha256_generic
  ppp_generic ppp_async ppp_synctty ppp_deflate bsd_comp
  veth dummy tun 9p 9pnet_virtio virtio_pci virtio_rng)
# Binaries copied into the initramfs (from the host, with every library ldd lists).
guest_binaries=(hostapd hostapd_cli wpa_supplicant wpa_cli wpa_passphrase iw dnsmasq pppd chat socat ip dash kmod)

t_start=$(date +%s%N)
t_last=$t_start
log() { printf 'build.sh: %s\n' "$*" >&2; }
step() { # step NAME: print the time since the previous step
  local now; now=$(date +%s%N)
  printf 'build.sh: %-34s %6d ms (total %6d ms)\n' "$1" $(((now - t_last) / 1000000)) $(((now - t_start) / 1000000)) >&2
  t_last=$now
}
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # one build at a time per cache

# --- 1. host packages -------------------------------------------------------------------------
apt_updated=0
apt_lock=(-o DPkg::Lock::Timeout=300) # other apt runs on this machine: wait, don't fail
apt_update() { if [ "$apt_updated" = 0 ]; then log "apt-get update"; apt-get "${apt_lock[@]}" update -qq >&2; apt_updated=1; fi; }

declare -A pkg_status=()
while read -r pkg status; do pkg_status[$pkg]=$status; done < <(
  dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${host_packages[@]}" 2>/dev/null || true)
missing=()
for pkg in "${host_packages[@]}"; do
  case ${pkg_status[$pkg]:-} in
    installed | triggers-pending | triggers-awaited) ;; # usable (another apt run may be finishing)
    *) missing+=("$pkg") ;;
  esac
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  [ "$(id -u)" = 0 ] || die "host packages missing (${missing[*]}) and not root: install them with apt-get"
  apt_update
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get "${apt_lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
step "host packages"

# --- 2. which kernel ---------------------------------------------------------------------------
# linux-image-amd64 depends on the current linux-image-<abi>-amd64; read it with one apt-cache
# call (apt here keeps no pkgcache.bin, so each call parses the lists: ~1.5 s) and remember the
# answer until the package lists change.
lists_stamp() { stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* /var/lib/apt/lists/*Release 2>/dev/null | sha256sum | cut -c1-16; }
resolve_kernel() { # prints: kernel-package kernel-version regdb-version
  apt-cache show --no-all-versions linux-image-amd64 wireless-regdb 2>/dev/null | awk '
    $1 == "Package:" { pkg = $2 }
    pkg == "linux-image-amd64" && $1 == "Depends:" {
      for (i = 2; i <= NF; i++) if ($i ~ /^linux-image-[0-9].*-amd64$/) { k = $i; if ($(i + 1) == "(=") { kv = $(i + 2); sub(/[),]+$/, "", kv) } break }
    }
    pkg == "wireless-regdb" && $1 == "Version:" { rv = $2 }
    END { if (k != "" && rv != "") print k, kv, rv }'
}
resolved_file="$cache/apt-resolved"
stamp=$(lists_stamp)
resolved=''
if [ -f "$resolved_file" ] && [ "$(head -n1 "$resolved_file")" = "$stamp" ]; then resolved=$(sed -n 2p "$resolved_file"); fi
if [ -z "$resolved" ]; then
  resolved=$(resolve_kernel)
  if [ -z "$resolved" ]; then apt_update; resolved=$(resolve_kernel); stamp=$(lists_stamp); fi
  [ -n "$resolved" ] || die "apt-cache: linux-image-amd64 depends on no linux-image-<abi>-amd64, or no wireless-regdb"
  printf '%s\n%s\n' "$stamp" "$resolved" >"$resolved_file"
fi
read -r kpkg kdebver regdb_version <<<"$resolved"
if [ -z "$regdb_version" ]; then # Depends without "(= version)": ask for the kernel package itself
  regdb_version=$kdebver
  kdebver=$(apt-cache show --no-all-versions "$kpkg" | awk '$1 == "Version:" { print $2; exit }')
fi
kver=${kpkg#linux-image-}
step "kernel: $kpkg $kdebver"

# --- 3. cache key -------------------------------------------------------------------------------
host_versions=$(dpkg-query -W -f='${Package}=${Version}\n' "${host_packages[@]}" libc6 | sort)
key=$( {
  cat "$here/build.sh" "$here/init.sh"
  printf '%s\n' "$kpkg=$kdebver" "wireless-regdb=$regdb_version" "$host_versions"
} | sha256sum | cut -c1-16)
out="$cache/lab-$key"
if [ -f "$out/ok" ]; then
  step "cached: $out"
  echo "NICUP_LAB_DIR=$out"
  exit 0
fi
log "building $out"

# --- 4. download and unpack (never install) the kernel and wireless-regdb --------------------------
debs="$cache/debs"
mkdir -p "$debs"
fetch_deb() { # fetch_deb PACKAGE VERSION -> path of the .deb in $debs
  local pkg=$1 version=$2 f
  for f in "$debs/${pkg}"_*.deb; do
    [ -f "$f" ] && [ "$(dpkg-deb -f "$f" Package)" = "$pkg" ] && [ "$(dpkg-deb -f "$f" Version)" = "$version" ] && {
      echo "$f"
      return
    }
  done
  # apt-get download as root warns that _apt cannot write here; harmless.
  if ! (cd "$debs" && apt-get download -q "$pkg=$version" >&2); then
    apt_update # stale lists: the mirror dropped that version
    (cd "$debs" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed"
  fi
  for f in "$debs/${pkg}"_*.deb; do
    [ "$(dpkg-deb -f "$f" Package)" = "$pkg" ] && [ "$(dpkg-deb -f "$f" Version)" = "$version" ] && {
      echo "$f"
      return
    }
  done
  ls -t "$debs/${pkg}"_*.deb | head -n1
}
kdeb=$(fetch_deb "$kpkg" "$kdebver")
regdb_deb=$(fetch_deb wireless-regdb "$regdb_version")
step "download debs"

kroot="$cache/kernel-$kver-$(dpkg-deb -f "$kdeb" Version | tr -c 'A-Za-z0-9.+\n' _)"
if [ ! -f "$kroot/ok" ]; then
  rm -rf "$kroot"
  mkdir -p "$kroot/tree"
  dpkg-deb -x "$kdeb" "$kroot/tree"
  depmod -b "$kroot/tree" "$kver"
  step "unpack kernel"

  # PVH direct boot wants the uncompressed ELF; it sits compressed inside the bzImage. The
  # boot protocol header gives the payload's offset/length (Documentation/x86/boot.rst).
  /usr/bin/python3 - "$kroot/tree/boot/vmlinuz-$kver" "$kroot/vmlinux" <<'PY'
import lzma, struct, subprocess, sys, zlib
src, dst = sys.argv[1], sys.argv[2]
data = open(src, 'rb').read()
if data[0x202:0x206] != b'HdrS':
    sys.exit(f'{src}: not a bzImage (no HdrS)')
setup_sects = data[0x1f1] or 4
payload_offset, payload_length = struct.unpack_from('<II', data, 0x248)
start = (setup_sects + 1) * 512 + payload_offset
payload = data[start:start + payload_length]
if payload.startswith(b'\xfd7zXZ\x00'):
    kind, elf = 'xz', lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
elif payload.startswith(b'\x28\xb5\x2f\xfd'):
    # The kernel appends the 4-byte uncompressed size after the zstd frame.
    kind, elf = 'zstd', subprocess.run(['zstd', '-dc'], input=payload[:-4], capture_output=True, check=True).stdout
elif payload.startswith(b'\x1f\x8b'):
    kind, elf = 'gzip', zlib.decompressobj(wbits=31).decompress(payload)
elif payload.startswith(b'\x5d\x00\x00'):
    kind, elf = 'lzma', lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(payload)
else:
    sys.exit(f'{src}: unknown payload compression {payload[:6].hex()}')
if not elf.startswith(b'\x7fELF'):
    sys.exit(f'{src}: {kind} payload is not an ELF')
open(dst, 'wb').write(elf)
print(f'build.sh: vmlinux from {kind} payload: {len(payload) >> 20} MB -> {len(elf) >> 20} MB', file=sys.stderr)
PY
  touch "$kroot/ok"
  step "extract vmlinux"
fi

# --- 5. initramfs tree ------------------------------------------------------------------------------
work="$cache/work-$key"
rm -rf "$work" "$out"
root="$work/root"
mkdir -p "$root"/{bin,sbin,lib,lib64,etc/lab,etc/ppp,proc,sys,dev,tmp,run,usr,var/lib,root,mnt,lib/firmware}
ln -s ../run "$root/var/run"
ln -s ../run "$root/var/lock"
ln -s ../tmp "$root/var/tmp"
ln -s /run/lab/misc "$root/var/lib/misc" # dnsmasq's default lease file lives here
ln -s /run/ppp/resolv.conf "$root/etc/ppp/resolv.conf" # pppd usepeerdns writes it; / is read-only

# Modules with their dependencies, stored uncompressed: the guest then neither needs xz in kmod
# nor spends TCG time decompressing.
kmods="$root/lib/modules/$kver"
mkdir -p "$kmods"
for m in "${guest_modules[@]}"; do # --show-depends takes one module (the rest would be parameters)
  modprobe -d "$kroot/tree" -S "$kver" --show-depends "$m" || die "module $m: not in $kpkg"
done | awk '$1 == "insmod" { print $2 }' | sort -u >"$work/modules.list"
while read -r ko; do
  rel=${ko#"$kroot/tree/lib/modules/$kver/"}
  case $rel in /*) rel=${ko#"$kroot/tree/usr/lib/modules/$kver/"} ;; esac
  dst="$kmods/${rel%.*}"
  mkdir -p "$(dirname "$dst")"
  case $ko in
    *.ko.xz) xz -dc "$ko" >"$dst" ;;
    *.ko.zst) zstd -qdc "$ko" >"$dst" ;;
    *.ko.gz) gzip -dc "$ko" >"$dst" ;;
    *.ko) cp "$ko" "$kmods/$rel" ;;
  esac
done <"$work/modules.list"
ktree_mods="$kroot/tree/lib/modules/$kver"
[ -d "$ktree_mods" ] || ktree_mods="$kroot/tree/usr/lib/modules/$kver"
cp "$ktree_mods"/modules.{order,builtin,builtin.modinfo} "$kmods/"
depmod -b "$root" "$kver"
step "modules: $(wc -l <"$work/modules.list") files"

# Binaries and their libraries. Everything goes to /bin, /sbin, /lib, /lib64 (not merged into
# /usr), because the guest mounts the host's /usr over /usr for node.
copied_libs=()
copy_lib() { # copy_lib HOSTPATH: store under the same path, /usr/lib -> /lib
  local src=$1 dst=${1#/usr}
  [ -e "$root$dst" ] && return
  mkdir -p "$root$(dirname "$dst")"
  cp -L "$src" "$root$dst"
  copied_libs+=("$dst")
}
copy_binary() { # copy_binary NAME
  local name=$1 src dir
  src=$(command -v "$name") || die "binary $name not found on the host"
  case $src in */sbin/*) dir=sbin ;; *) dir=bin ;; esac
  cp -L "$src" "$root/$dir/$name"
  # ldd prints "lib => /path (addr)" and "/lib64/ld-linux-x86-64.so.2 (addr)".
  while read -r lib; do copy_lib "$lib"; done < <(ldd "$src" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
}
for b in "${guest_binaries[@]}"; do copy_binary "$b"; done
ln -sf dash "$root/bin/sh"
for t in modprobe insmod rmmod lsmod modinfo depmod; do ln -sf ../bin/kmod "$root/sbin/$t"; done
mv "$root/bin/ip" "$root/sbin/ip" 2>/dev/null || true
ln -sf ../sbin/ip "$root/bin/ip"

# busybox for everything else. Not its ip (no netns) nor sh (dash is /bin/sh: busybox ash
# runs its ip applet even when /sbin/ip exists).
cp /bin/busybox "$root/bin/busybox"
while read -r applet; do
  name=${applet##*/}
  case $name in ip | sh | modprobe | insmod | rmmod | lsmod | modinfo | depmod | busybox) continue ;; esac
  case $applet in *sbin/*) dir=sbin ;; *) dir=bin ;; esac
  [ -e "$root/bin/$name" ] || [ -e "$root/sbin/$name" ] || ln -s /bin/busybox "$root/$dir/$name"
done < <("$root/bin/busybox" --list-full)
step "binaries + libs: ${#copied_libs[@]} libs"

# Regulatory database: the Debian-signed variant, which the Debian kernel trusts.
dpkg-deb -x "$regdb_deb" "$work/regdb"
regdir="$work/regdb/lib/firmware"
[ -d "$regdir" ] || regdir="$work/regdb/usr/lib/firmware"
cp "$regdir/regulatory.db-debian" "$root/lib/firmware/regulatory.db"
cp "$regdir/regulatory.db.p7s-debian" "$root/lib/firmware/regulatory.db.p7s"

# /etc: just enough for getpwnam (dnsmasq --user=root), hostnames and services.
printf 'root:x:0:0:root:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\ndip:x:30:\n' >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost lab\n::1 localhost\n' >"$root/etc/hosts"
cp /etc/protocols /etc/services "$root/etc/"
: >"$root/etc/ppp/options"
# Interactive ash: its ip applet would shadow iproute2.
printf 'ip() { /sbin/ip "$@"; }\nPS1="lab# "\n' >"$root/etc/lab/shrc"
cp "$here/init.sh" "$root/init"
chmod 755 "$root/init"
printf '%s\n' "$kver" >"$root/etc/lab/kernel-version"

# --- 6. archive -----------------------------------------------------------------------------------
mkdir -p "$out"
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --quiet -o -0 -H newc -R 0:0) >"$out/initrd.cpio"
ln -f "$kroot/vmlinux" "$out/vmlinux" 2>/dev/null || cp "$kroot/vmlinux" "$out/vmlinux"
cat >"$out/lab.json" <<EOF
{ "key": "$key", "kernelPackage": "$kpkg", "kernelVersion": "$kver", "kernelDebVersion": "$kdebver",
  "vmlinux": "$out/vmlinux", "initrd": "$out/initrd.cpio" }
EOF
touch "$out/ok"
rm -rf "$work"
step "initrd.cpio: $(($(stat -c %s "$out/initrd.cpio") >> 20)) MB"

# Keep the two newest builds; each is ~100 MB.
ls -dt "$cache"/lab-* 2>/dev/null | tail -n +3 | while read -r old; do rm -rf "$old"; done
echo "NICUP_LAB_DIR=$out"
