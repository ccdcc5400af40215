#!/bin/sh
# /init of the VM lab initramfs (copied there by build.sh; runs under dash).
# Kernel command line (set by run.ts):
#   lab.share=TAG:/path[,TAG:/path...]  9p shares (QEMU -virtfs, read-only) mounted at /path
#   lab.project=/path                   the project (cwd of the tests, LAB_PROJECT)
#   lab.node=/dir                       directory of the node binary, added to PATH
#   lab.run=BASE64                      newline-separated test scripts; none -> interactive shell
#   lab.env=BASE64                      newline-separated NAME=value lines exported to the tests
# Output protocol on the console: LAB-BEGIN: name / LAB-END: name rc=N around each script,
# the scripts' own LAB-PASS: name / LAB-FAIL: name: detail lines, then LAB-DONE.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export HOME=/tmp TMPDIR=/tmp TERM=vt100

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t tmpfs -o mode=755 run /run
# /run/.init is init's own; the rest of /run is emptied between scripts.
mkdir -p /run/.init /run/netns
run_dirs() { mkdir -p /run/lab/misc /run/ppp; }
run_dirs
ip link set lo up
hostname lab

shares='' project='' node_dir='' run_b64='' env_b64=''
for arg in $(cat /proc/cmdline); do
	case $arg in
	lab.share=*) shares=${arg#lab.share=} ;;
	lab.project=*) project=${arg#lab.project=} ;;
	lab.node=*) node_dir=${arg#lab.node=} ;;
	lab.run=*) run_b64=${arg#lab.run=} ;;
	lab.env=*) env_b64=${arg#lab.env=} ;;
	esac
done

# Entropy for hostapd/wpa_supplicant from the host (virtio-rng-pci).
modprobe -a virtio_pci virtio_rng 9pnet_virtio 9p
if [ -n "$shares" ]; then
	IFS=,
	for s in $shares; do
		tag=${s%%:*} path=${s#*:}
		mkdir -p "$path"
		# cache=loose: without it every mmap page fault (node, its .node add-ons) goes over 9p.
		mount -t 9p -o ro,trans=virtio,version=9p2000.L,cache=loose,msize=262144 "$tag" "$path" ||
			echo "LAB-FAIL: lab-share: mount $tag at $path failed"
	done
	unset IFS
fi
[ -n "$node_dir" ] && PATH=$PATH:$node_dir
[ -n "$project" ] && export LAB_PROJECT=$project LAB_GUEST=$project/test/lab/vm/guest
# The tests may write /tmp (and daemons /run); everything else is read-only.
mount -o remount,ro / || echo "lab: warning: could not make / read-only"

if [ -n "$env_b64" ]; then
	echo "$env_b64" | base64 -d >/run/.init/env
	while IFS= read -r line || [ -n "$line" ]; do [ -n "$line" ] && export "$line"; done </run/.init/env
fi

# Between scripts: end every process but init, drop namespaces, radios and /tmp files, so each
# script starts from the same machine.
reset_machine() {
	kill -s TERM -1 2>/dev/null
	sleep 0.1
	kill -s KILL -1 2>/dev/null
	ip -all netns delete 2>/dev/null
	# A radio's last users may still be exiting: retry for up to 2 s.
	tries=40
	while [ -e /sys/module/mac80211_hwsim ] && ! rmmod mac80211_hwsim 2>/dev/null && [ $tries -gt 0 ]; do
		tries=$((tries - 1))
		sleep 0.05
	done
	rm -rf /tmp/* /tmp/.[!.]* 2>/dev/null
	for f in /run/* /run/.[!.]*; do
		case $f in /run/.init | /run/netns) ;; *) rm -rf "$f" ;; esac
	done
	run_dirs
	for link in $(ls /sys/class/net); do
		case $link in lo) ;; *) ip link delete "$link" 2>/dev/null ;; esac
	done
}

if [ -z "$run_b64" ]; then
	echo "lab: interactive shell (poweroff -f or Ctrl-A X to leave)"
	cd /tmp
	ENV=/etc/lab/shrc setsid cttyhack ash -i
	poweroff -f
fi

echo "$run_b64" | base64 -d >/run/.init/plan
echo "LAB-PLAN: $(tr '\n' ' ' </run/.init/plan)"
cd "${project:-/tmp}"
while IFS= read -r script || [ -n "$script" ]; do
	[ -n "$script" ] || continue
	name=${script##*/}
	name=${name%.*}
	start=$(cut -d' ' -f1 /proc/uptime)
	echo "LAB-BEGIN: $name uptime=$start"
	case $script in
	*.sh) sh "$script" </dev/null ;;
	*.ts | *.mts | *.cts) node --import tsx "$script" </dev/null ;;
	*.js | *.mjs | *.cjs) node --enable-source-maps "$script" </dev/null ;; # run.ts bundles .ts to .mjs
	*) "$script" </dev/null ;;
	esac
	rc=$?
	end=$(cut -d' ' -f1 /proc/uptime)
	echo "LAB-END: $name rc=$rc seconds=$(awk "BEGIN { printf \"%.2f\", $end - $start }")"
	reset_machine
done </run/.init/plan
echo "LAB-DONE"
poweroff -f
