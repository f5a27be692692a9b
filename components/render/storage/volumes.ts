// The EBS data volumes of a host: the `plone-volumes` script that finds each volume's device,
// makes an XFS file system on it only when it is blank, and mounts it by UUID (fstab, nofail).
import type { VolumeKind } from "../../config/schema";
import { DEPLOY_USER, PATHS, type HostPlan } from "../../topology";
import type { RenderedFile } from "../context";
import { scriptHeader, sh, shellArray } from "../scriptKit";

export const VOLUMES_SCRIPT = `${PATHS.sbinDir}/plone-volumes`;

/** Owner and mode of a mounted volume's root, by what runs on it. */
export const VOLUME_OWNERSHIP: Record<VolumeKind, { owner: string; mode: string }> = {
    // The ZEO server, the clients (local blobs), bin/backup and Solr run as the deploy user.
    filestorage: { owner: `${DEPLOY_USER}:${DEPLOY_USER}`, mode: "0750" },
    blobs: { owner: `${DEPLOY_USER}:${DEPLOY_USER}`, mode: "0750" },
    backups: { owner: `${DEPLOY_USER}:${DEPLOY_USER}`, mode: "0750" },
    solr: { owner: `${DEPLOY_USER}:${DEPLOY_USER}`, mode: "0750" },
    // The NFS export root: clients write as the deploy user (same UID everywhere); 0755 so that a
    // squashed root on a client can still see the blob directory in it.
    exports: { owner: `${DEPLOY_USER}:${DEPLOY_USER}`, mode: "0755" },
    // glusterfsd runs as root; ownership inside the volume is set through the client mount.
    bricks: { owner: "root:root", mode: "0755" },
    redis: { owner: "redis:redis", mode: "0750" },
};

/** fstab options of the data volumes: a missing volume must not stop the boot. */
export const VOLUME_MOUNT_OPTIONS = "defaults,noatime,nofail,x-systemd.device-timeout=30s";

/**
 * `plone-volumes [MOUNT_POINT=VOLUME_ID ...]` for one host, its volumes baked in. The volume ids
 * (known once the volumes exist) let Nitro hosts find each NVMe device by its serial; without
 * them the attachment name is matched (Xen /dev/xvdX or /dev/sdX, or the NVMe vendor data).
 */
export function renderVolumeScript(host: HostPlan): string {
    const table = host.volumes.map((v) => {
        const { owner, mode } = VOLUME_OWNERSHIP[v.kind];
        return [v.mountPoint, v.deviceName, v.kind, owner, mode].join("|");
    });
    return `${scriptHeader(
        "plone-volumes",
        [
            `the EBS data volumes of ${host.name}: find each device, make an XFS file system only`,
            "when the device is blank, mount it by UUID (fstab, nofail) and set the owner of its root.",
            "A device that holds anything (a file system, a partition table) is never formatted.",
            "",
            "Usage: plone-volumes [MOUNT_POINT=VOLUME_ID ...], e.g. /srv/exports=vol-0123456789abcdef0",
            "Inputs tests override: PLONE_DEV_DIR (/dev), PLONE_SYS_DIR (/sys), PLONE_BLKID (blkid),",
            "PLONE_MKFS (mkfs.xfs), PLONE_NVME (nvme), PLONE_FSTAB (/etc/fstab), PLONE_VOLUME_WAIT (60 s).",
        ],
        ["files", "fstab"],
    )}
# mount point | attachment name | kind | owner | mode of its root
VOLUMES=${shellArray(table)}
MOUNT_OPTIONS=${VOLUME_MOUNT_OPTIONS}
${VOLUME_LOGIC}`;
}

export function volumeScriptFile(host: HostPlan): RenderedFile {
    return { path: VOLUMES_SCRIPT, content: renderVolumeScript(host), mode: "0755", owner: "root", group: "root" };
}

const VOLUME_LOGIC = sh`DEV_DIR=$\{PLONE_DEV_DIR:-/dev}
SYS_DIR=$\{PLONE_SYS_DIR:-/sys}
BLKID=$\{PLONE_BLKID:-blkid}
MKFS=$\{PLONE_MKFS:-mkfs.xfs}
NVME=$\{PLONE_NVME:-nvme}
WAIT=$\{PLONE_VOLUME_WAIT:-60}

[ "$(id -u)" -eq 0 ] || die "run as root"

declare -A VOLUME_IDS=()
known_mount_points() { local v; for v in "$\{VOLUMES[@]}"; do printf '%s ' "$\{v%%|*}"; done; }
for arg in "$@"; do
  case $arg in
    /*=*) mount_point=$\{arg%%=*}; volume_id=$\{arg#*=} ;;
    *) die "bad argument '$arg': expected MOUNT_POINT=VOLUME_ID, e.g. /srv/exports=vol-0123456789abcdef0" ;;
  esac
  [[ $volume_id =~ ^vol-[0-9a-f]{8,17}$ ]] || die "bad volume id '$volume_id' for $mount_point: expected vol- and 8 to 17 hex digits"
  case " $(known_mount_points)" in
    *" $mount_point "*) VOLUME_IDS[$mount_point]=$volume_id ;;
    *) die "$mount_point is not a data volume of this host (its volumes: $(known_mount_points))" ;;
  esac
done

# The NVMe controllers of EBS volumes (Nitro instances), one sysfs directory a line.
ebs_controllers() {
  local c
  for c in "$SYS_DIR"/class/nvme/nvme*; do
    [ -r "$c/model" ] || continue
    if [ "$(tr -d ' \n' <"$c/model")" = AmazonElasticBlockStore ]; then printf '%s\n' "$c"; fi
  done
}

# The block device of a controller's namespace: .../nvme1 -> /dev/nvme1n1 (nvme1c1n1 with multipath).
controller_disk() {
  local ns
  for ns in "$1"/nvme*n[0-9]*; do
    [ -e "$ns" ] || continue
    ns=$\{ns##*/}
    if [[ $ns =~ ^(nvme[0-9]+)c[0-9]+(n[0-9]+)$ ]]; then ns=$\{BASH_REMATCH[1]}$\{BASH_REMATCH[2]}; fi
    printf '%s/%s\n' "$DEV_DIR" "$ns"
    return 0
  done
  return 1
}

# On Nitro the serial of an EBS controller is the volume id without its dash.
device_by_volume_id() {
  local serial=$\{1/-/} link c
  for link in "$DEV_DIR/disk/by-id/nvme-Amazon_Elastic_Block_Store_$serial" "$DEV_DIR/disk/by-id/nvme-Amazon_Elastic_Block_Store_$\{serial}_1"; do
    if [ -e "$link" ]; then readlink -f "$link"; return 0; fi
  done
  while read -r c; do
    if [ "$(tr -d ' \n' <"$c/serial")" = "$serial" ]; then controller_disk "$c" && return 0; fi
  done < <(ebs_controllers)
  return 1
}

# /dev/sdf is /dev/xvdf on Xen; on Nitro the controller's vendor data (bytes 3072-3103 of
# id-ctrl, as ebsnvme-id reads them) holds the attachment name.
device_by_attachment_name() {
  local short=$\{1#/dev/} candidate c disk name
  for candidate in "$DEV_DIR/xvd$\{short#sd}" "$DEV_DIR/$short"; do
    if [ -e "$candidate" ]; then readlink -f "$candidate"; return 0; fi
  done
  command -v "$NVME" >/dev/null 2>&1 || return 1
  while read -r c; do
    disk=$(controller_disk "$c") || continue
    name=$("$NVME" id-ctrl --raw-binary "$disk" 2>/dev/null | dd bs=1 skip=3072 count=32 2>/dev/null | tr -d '\0 ') || continue
    name=$\{name#/dev/}
    if [ "$name" = "$short" ] || [ "$name" = "xvd$\{short#sd}" ]; then printf '%s\n' "$disk"; return 0; fi
  done < <(ebs_controllers)
  return 1
}

# find_device MOUNT_POINT ATTACHMENT_NAME: the device, waiting up to $WAIT s for the attachment.
find_device() {
  local mount_point=$1 attachment=$2 volume_id=$\{VOLUME_IDS[$1]:-} deadline=$((SECONDS + WAIT))
  while :; do
    if [ -n "$volume_id" ]; then
      device_by_volume_id "$volume_id" && return 0
      # Xen hosts do not show volume ids: there the attachment name is all there is.
      if [ -z "$(ebs_controllers)" ]; then device_by_attachment_name "$attachment" && return 0; fi
    else
      device_by_attachment_name "$attachment" && return 0
    fi
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 2
  done
}

# probe DEVICE: sets TYPE, PTTYPE and UUID from blkid's low-level probe (no cache).
probe() {
  local output status=0
  TYPE='' PTTYPE='' UUID=''
  output=$("$BLKID" -p -o export "$1" 2>&1) || status=$?
  case $status in
    0) ;;
    2) return 0 ;;  # nothing found: blank
    *) die "blkid could not probe $1 (exit $status): $output" ;;
  esac
  TYPE=$(sed -n 's/^TYPE=//p' <<<"$output")
  PTTYPE=$(sed -n 's/^PTTYPE=//p' <<<"$output")
  UUID=$(sed -n 's/^UUID=//p' <<<"$output")
}

setup_volume() {
  local mount_point=$1 attachment=$2 kind=$3 owner=$4 mode=$5 volume_id=$\{VOLUME_IDS[$1]:-} device source source_uuid where
  if ! device=$(find_device "$mount_point" "$attachment"); then
    if [ -n "$volume_id" ]; then
      where="$DEV_DIR/disk/by-id/nvme-Amazon_Elastic_Block_Store_$\{volume_id/-/}, an NVMe controller with serial $\{volume_id/-/} in $SYS_DIR/class/nvme"
      [ -n "$(ebs_controllers)" ] || where="$where, $DEV_DIR/xvd$\{attachment#/dev/sd}, $DEV_DIR/$\{attachment#/dev/}"
      die "no device for $mount_point ($kind volume $volume_id, attached as $attachment): looked for $where. Is the volume attached to this instance?"
    fi
    die "no device for $mount_point ($kind volume attached as $attachment): looked for $DEV_DIR/xvd$\{attachment#/dev/sd}, $DEV_DIR/$\{attachment#/dev/} and NVMe vendor data. Pass MOUNT_POINT=VOLUME_ID on Nitro instances."
  fi
  where=$(findmnt -rn -o TARGET --source "$device" 2>/dev/null | grep -vxF -- "$mount_point" | head -n 1 || true)
  [ -z "$where" ] || die "$device (for $mount_point) is mounted on $where: refusing to use it"

  probe "$device"
  if [ -z "$TYPE" ] && [ -n "$PTTYPE" ]; then
    die "$device (for $mount_point) has a $PTTYPE partition table: plone-aws never formats a device that holds data. Attach a blank volume, or mount it by hand."
  fi
  if [ -z "$TYPE" ]; then
    "$MKFS" -q -L "$kind" "$device" || die "$MKFS failed on $device (for $mount_point)"
    note_change "made an XFS file system on the blank device $device for $mount_point"
    probe "$device"
    [ -n "$UUID" ] || die "no UUID on $device after $MKFS"
  else
    case $TYPE in
      xfs | ext4 | ext3 | ext2 | btrfs) ;;
      *) die "$device (for $mount_point) holds $TYPE, not a file system plone-aws mounts: refusing to touch it" ;;
    esac
  fi

  fstab_set "$mount_point" "UUID=$UUID $mount_point $TYPE $MOUNT_OPTIONS 0 2" || true

  if mountpoint -q "$mount_point"; then
    source=$(findmnt -rn -o SOURCE --mountpoint "$mount_point")
    source_uuid=$("$BLKID" -p -o value -s UUID "$source" 2>/dev/null || true)
    [ "$source_uuid" = "$UUID" ] || die "$mount_point has $source (UUID $\{source_uuid:-none}) mounted, not $device (UUID $UUID): unmount it by hand if the volume was replaced"
  else
    mkdir -p "$mount_point"
    # Unmounted, the directory stays root's: nothing can write to the root disk by mistake.
    chown root:root "$mount_point"
    chmod 0755 "$mount_point"
    # By device, not UUID: right after mkfs /dev/disk/by-uuid may not exist yet.
    mount -t "$TYPE" -o "$MOUNT_OPTIONS" "$device" "$mount_point" || die "mounting $device on $mount_point failed"
    note_change "mounted $device ($TYPE, UUID $UUID) on $mount_point"
  fi
  ensure_dir "$mount_point" "$owner" "$mode"
}

for volume in "$\{VOLUMES[@]}"; do
  IFS='|' read -r mount_point attachment kind owner mode <<<"$volume"
  setup_volume "$mount_point" "$attachment" "$kind" "$owner" "$mode"
done
finish
`;
