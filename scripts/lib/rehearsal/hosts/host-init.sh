#!/usr/bin/env bash
# PID 1 of a rehearsal test host. testHosts.ts starts it inside the host's network namespace with
# fresh UTS, IPC, mount and PID namespaces:
#   ip netns exec NS unshare --uts --ipc --mount --pid --fork --propagation private host-init.sh
# It gives the host its own root (an overlay over the shared base), hostname, /proc, /sys, /dev,
# /run and sshd, then stays PID 1 and reaps orphans, as init does on EC2. Every process of the
# host lives in its PID namespace, so killing this process ends them all, and its mounts vanish
# with its mount namespace: nothing is left on the machine.
# Environment (all required):
#   PLONE_AWS_BASE   the base root (the lower layers, never written: an image's, then the base)
#   HOST_DIR         upper/, work/, root/ of this host; identity/ holds the files below
#   HOST_HOSTNAME    the hostname
#   HOST_READY       file to create once sshd listens
# HOST_DIR/identity: hosts, resolv.conf, authorized_keys, apt-proxy.conf (copied into the root),
# volumes (the EBS volumes to show in /dev).
set -euo pipefail

: "${PLONE_AWS_BASE:?}" "${HOST_DIR:?}" "${HOST_HOSTNAME:?}" "${HOST_READY:?}"
root=$HOST_DIR/root
identity=$HOST_DIR/identity

hostname "$HOST_HOSTNAME"
mount -t overlay overlay -o "lowerdir=$PLONE_AWS_BASE,upperdir=$HOST_DIR/upper,workdir=$HOST_DIR/work" "$root"

mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
# Kernel-wide sysctls (vm.*, kernel.*, fs.*) would change the machine: read-only. net.* belongs to
# the host's own network namespace: writable, as on EC2.
mount --bind "$root/proc/sys" "$root/proc/sys"
mount --bind "$root/proc/sys/net" "$root/proc/sys/net"
mount -o remount,bind,ro "$root/proc/sys"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"

# A /dev of its own: the usual nodes bound from the machine, /dev/fuse for GlusterFS clients,
# a private devpts (ssh -t) and /dev/shm.
mount -t tmpfs -o mode=0755,nosuid,size=64k tmpfs "$root/dev"
for node in null zero full random urandom tty fuse; do
  if [ -e "/dev/$node" ]; then
    touch "$root/dev/$node"
    mount --bind "/dev/$node" "$root/dev/$node"
  fi
done
mkdir -m 0755 "$root/dev/pts"
mkdir -m 1777 "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec devpts "$root/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
# The instance's EBS data volumes (loop devices on the machine), as a Nitro instance shows them:
# /dev/nvme<N>n1, and the by-id link udev makes from the volume id (identity/volumes: one
# "<device> <loop device> <volume id>" a line).
if [ -s "$identity/volumes" ]; then
  mkdir -p "$root/dev/disk/by-id"
  while read -r device loop volume; do
    touch "$root/dev/$device"
    mount --bind "$loop" "$root/dev/$device"
    ln -s "../../$device" "$root/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volume/-/}"
  done <"$identity/volumes"
fi
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$root/run"
mkdir -m 0755 "$root/run/sshd"
mkdir -m 1777 "$root/run/lock"

# The instance's identity, made at first boot on EC2: hostname, hosts, resolver, machine-id,
# SSH host keys, the key pair's public half for the default user (and root, for the rehearsal).
printf '%s\n' "$HOST_HOSTNAME" > "$root/etc/hostname"
install -m 0644 "$identity/hosts" "$root/etc/hosts"
rm -f "$root/etc/resolv.conf"
install -m 0644 "$identity/resolv.conf" "$root/etc/resolv.conf"
install -m 0644 "$identity/apt-proxy.conf" "$root/etc/apt/apt.conf.d/00plone-aws-rehearsal-proxy"
if [ ! -s "$root/etc/machine-id" ]; then
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$root/etc/machine-id"
  echo >> "$root/etc/machine-id"
fi
# ed25519 and ECDSA only: an RSA key takes a second or more per host on a small machine.
for type in ed25519 ecdsa; do
  if [ ! -f "$root/etc/ssh/ssh_host_${type}_key" ]; then
    chroot "$root" ssh-keygen -q -t "$type" -N '' -C "root@$HOST_HOSTNAME" -f "/etc/ssh/ssh_host_${type}_key"
  fi
done
for home in /root /home/admin; do
  owner=$(chroot "$root" stat -c %u:%g "$home")
  install -d -m 0700 -o "${owner%:*}" -g "${owner#*:}" "$root$home/.ssh"
  install -m 0600 -o "${owner%:*}" -g "${owner#*:}" "$identity/authorized_keys" "$root$home/.ssh/authorized_keys"
done

chroot "$root" /usr/sbin/sshd
touch "$HOST_READY"

# PID 1 reaps every orphan (daemons that double-fork end up here): without it a dead daemon
# would linger as a zombie and `kill -0 $(cat pidfile)` would still call it alive.
exec chroot "$root" /usr/bin/python3 -c '
import os, time
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(1)
'
