#!/usr/bin/env bash
# Builds the Debian 12 root every rehearsal test host starts from (an overlay over it per host):
# what a fresh EC2 Debian 12 image offers our host scripts, without systemd as init.
#   build-base.sh BASE_DIR RECIPE_ID PACKAGES
# Builds into BASE_DIR.tmp and renames, so BASE_DIR only ever holds a complete root; the stamp
# file BASE_DIR/.plone-aws-base holds RECIPE_ID. Two runs starting at once build it once (flock).
set -euo pipefail

base=$1
recipe=$2
packages=$3
mirror=${PLONE_AWS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${PLONE_AWS_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
stamp=.plone-aws-base

mkdir -p "$(dirname "$base")"
exec 9>"$base.lock"
flock 9
if [ -f "$base/$stamp" ] && [ "$(head -n1 "$base/$stamp")" = "$recipe" ]; then
  echo "base root $base is up to date ($recipe)"
  exit 0
fi

tmp=$base.tmp
rm -rf "$tmp"
started=$(date +%s)
phase() { echo "== $(date -u +%T) +$(( $(date +%s) - started ))s $*"; }
phase "debootstrap bookworm (minbase + $packages) into $tmp"
debootstrap --variant=minbase --include="$packages" bookworm "$tmp" "$mirror"

# The rest runs in a private mount namespace: /proc and /dev/pts for the chroot's maintainer
# scripts must not appear in the machine's mount table, and vanish with this process.
phase "configure: sources, dist-upgrade, the admin user"
unshare --mount --propagation private bash -euo pipefail -s "$tmp" "$mirror" "$security_mirror" <<'CONFIGURE'
root=$1; mirror=$2; security_mirror=$3
mount -t proc proc "$root/proc"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"

# The sources of Debian's cloud images: point releases, updates, backports and security.
cat > "$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $mirror bookworm-backports main
deb $security_mirror bookworm-security main
SOURCES
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
chroot "$root" apt-get update -qq
chroot "$root" apt-get -y -qq -o Dpkg::Options::=--force-confold dist-upgrade >/dev/null

# The image's default user, as cloud-init creates it on Debian's AMIs: `admin`, passwordless sudo.
groups=
for g in adm dialout cdrom floppy sudo audio dip video plugdev netdev; do
  if chroot "$root" getent group "$g" >/dev/null; then groups=${groups:+$groups,}$g; fi
done
chroot "$root" useradd --create-home --shell /bin/bash --groups "$groups" --comment "Debian" admin
printf 'admin ALL=(ALL) NOPASSWD:ALL\n' > "$root/etc/sudoers.d/90-cloud-init-users"
chmod 0440 "$root/etc/sudoers.d/90-cloud-init-users"
chroot "$root" visudo -c -q

# Per-instance identity is made when a host starts (host keys, hostname, machine-id), as on EC2.
rm -f "$root"/etc/ssh/ssh_host_*_key "$root"/etc/ssh/ssh_host_*_key.pub
: > "$root/etc/machine-id"
: > "$root/etc/hostname"
printf 'HostKey /etc/ssh/ssh_host_ed25519_key\nHostKey /etc/ssh/ssh_host_ecdsa_key\n' > "$root/etc/ssh/sshd_config.d/plone-aws-rehearsal.conf"
# On EC2, systemd starts a daemon when its package is installed. Without an init, invoke-rc.d
# would block every maintainer-script start ("No init system and policy-rc.d missing"); Debian's
# policy-rc.d hook allowing all actions makes it run the init.d scripts instead.
printf '#!/bin/sh\n# plone-aws rehearsal: allow maintainer scripts to start daemons, as systemd does on EC2.\nexit 0\n' > "$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
# As on the AMI, cloud-init has finished by the time SSH answers; the test hosts have no
# cloud-init, so `cloud-init status --wait` (a common "is the host ready" probe) answers so.
cat > "$root/usr/bin/cloud-init" <<'SHIM'
#!/bin/sh
# plone-aws rehearsal stand-in: the test hosts have no cloud-init; boot is complete at start.
case "$1" in
  status) echo "status: done"; exit 0 ;;
  *) echo "cloud-init is not installed on plone-aws rehearsal test hosts (only 'cloud-init status' is answered)" >&2; exit 1 ;;
esac
SHIM
chmod 0755 "$root/usr/bin/cloud-init"
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/*
umount "$root/dev/pts" "$root/proc"
CONFIGURE

printf '%s\nbuilt %s in %ss\n' "$recipe" "$(date -u +%FT%TZ)" "$(( $(date +%s) - started ))" > "$tmp/$stamp"
rm -rf "$base"
mv "$tmp" "$base"
echo "base root $base built in $(( $(date +%s) - started ))s"
