// The setup of a host (what the OpsWorks Setup event and its built-in recipes did): packages, the
// deploy user with the same UID/GID everywhere, time zone, /tmp on tmpfs, unattended security
// upgrades, directories, then the data volumes and the blob storage of the host's layers.
import { DEPLOY_USER, PATHS, type HostPlan } from "../../topology";
import type { RenderContext, RenderedFile } from "../context";
import { BLOBS_SCRIPT, BLOB_SERVER_SCRIPT, renderStorageFiles } from "../storage/blobs";
import { renderCronFiles } from "../operations/cron";
import { renderLogrotateFiles } from "./logrotate";
import { appLayout } from "../app/layout";
import { putFileCommand, rootFile, scriptHeader, sh, shellArray, shellQuote } from "../scriptKit";
import { VOLUMES_SCRIPT } from "../storage/volumes";
import { monitoringPackages, monitoringSetupCommands, monitoringSetupFiles } from "../monitoring";
import { operationsPackages, operationsSetupCommands, operationsSetupFiles } from "../operations";
import { runsBuild } from "../../layers";

/** Security updates daily (the 50unattended-upgrades of Debian selects the security origin). */
export const AUTO_UPGRADES = 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n';

/** Upgrades keep the configuration files plone-aws wrote instead of asking (they run unattended). */
export const APT_KEEP_CONFIG = [
    "// plone-aws: package upgrades keep the configuration files plone-aws wrote, without asking.",
    'Dpkg::Options { "--force-confdef"; "--force-confold"; };',
    "",
].join("\n");

/** The runtime directory, recreated at boot by systemd-tmpfiles (it is on a tmpfs). */
export function renderTmpfiles(): string {
    return `# plone-aws runtime state (rotation flags of the clients).\nd ${PATHS.runtimeDir} 0775 root ${DEPLOY_USER} -\n`;
}

/**
 * The apt packages setup installs: the host's packages from the topology (which include
 * app.osPackages on the buildout hosts), plus what the system pieces here rely on.
 */
export function setupPackages(ctx: RenderContext, host: HostPlan): string[] {
    const packages = new Set(host.packages);
    // cron runs the jobs and, without systemd timers, logrotate; tzdata has the zones.
    packages.add("cron");
    packages.add("tzdata");
    // nvme-cli reads the attachment name of an NVMe volume when no volume id is passed.
    if (host.volumes.length > 0) ["xfsprogs", "nvme-cli"].forEach((p) => packages.add(p));
    for (const p of [...operationsPackages(ctx, host), ...monitoringPackages(ctx)]) packages.add(p);
    return [...packages].sort();
}

/** Every system file of one host except the storage scripts: apt, tmpfiles, logrotate, cron. */
/**
 * The keys SSH accepts for the login user (access.sshUser): access.publicKey and
 * access.additionalPublicKeys, nothing else. The key pair only seeds this at launch; managing it
 * here lets a key be rotated without replacing the instances (docs/operations.md, "Rotate the SSH
 * key"). Owned by root, which sshd accepts and the user cannot change.
 */
export function authorizedKeysFile(spec: Pick<RenderContext["spec"], "access">): RenderedFile {
    const user = spec.access.sshUser;
    const home = user === "root" ? "/root" : `/home/${user}`;
    const keys = [spec.access.publicKey, ...spec.access.additionalPublicKeys];
    return rootFile(`${home}/.ssh/authorized_keys`, `# Written by plone-aws from access.publicKey and access.additionalPublicKeys.\n${keys.join("\n")}\n`);
}

export function renderSystemFiles(ctx: RenderContext, host: HostPlan): RenderedFile[] {
    return [
        authorizedKeysFile(ctx.spec),
        rootFile("/etc/apt/apt.conf.d/20auto-upgrades", AUTO_UPGRADES),
        rootFile("/etc/apt/apt.conf.d/90plone-aws", APT_KEEP_CONFIG),
        rootFile("/etc/tmpfiles.d/plone-aws.conf", renderTmpfiles()),
        ...renderLogrotateFiles(ctx, host),
        ...renderCronFiles(ctx, host),
        ...monitoringSetupFiles(ctx),
        ...operationsSetupFiles(ctx, host),
    ];
}

/**
 * `plone-setup [MOUNT_POINT=VOLUME_ID ...]` of one host, run as root. It installs every file of
 * renderSystemFiles and renderStorageFiles that holds no secret (those come with the configure
 * step), then runs plone-volumes (with the arguments), plone-blob-server and plone-blobs.
 * A second run skips apt and changes nothing.
 */
export function renderSetupScript(ctx: RenderContext, host: HostPlan): string {
    const { spec } = ctx;
    const buildout = runsBuild(host);
    const layout = appLayout(spec);
    const files = [...renderSystemFiles(ctx, host), ...renderStorageFiles(ctx, host)].filter((f) => !f.secret);
    const storageSteps = [VOLUMES_SCRIPT, BLOB_SERVER_SCRIPT, BLOBS_SCRIPT].filter((s) => files.some((f) => f.path === s));
    const tmpfs = host.layers.includes("plone_instances") ? (spec.plone.tmpfsSize ?? "") : "";
    return `${scriptHeader("plone-setup", [
        `the setup of ${host.name} (${host.layers.join(", ")}): packages, the deploy user, time zone,`,
        "/tmp, unattended upgrades, directories, then the data volumes and the blob storage.",
        "",
        "Usage: plone-setup [MOUNT_POINT=VOLUME_ID ...] (the EBS volume ids of this host's data volumes).",
    ])}
[ "$(id -u)" -eq 0 ] || die "run as root"
PACKAGES=${shellArray(setupPackages(ctx, host))}
DEPLOY_USER=${DEPLOY_USER}
DEPLOY_UID=${spec.app.deployUserUid}
TIMEZONE=${shellQuote(spec.plone.timezone)}
TMPFS_SIZE=${shellQuote(tmpfs)}
RELEASE=${shellQuote(buildout ? layout.current : "")}
${SETUP_LOGIC}
# Files (the storage scripts carry the daemon settings they apply).
${files.map((f) => putFileCommand(f)).join("\n")}

# Directories
ensure_dir ${PATHS.configDir} root:root 0755
ensure_dir ${layout.configDir} root:${DEPLOY_USER} 0750
ensure_dir ${PATHS.logDir} root:${DEPLOY_USER} 2775
if is_systemd; then systemd-tmpfiles --create /etc/tmpfiles.d/plone-aws.conf; fi
ensure_dir ${PATHS.runtimeDir} root:${DEPLOY_USER} 0775
${buildout ? `ensure_dir ${PATHS.deployRoot} root:root 0755\nensure_dir ${layout.deployTo} ${DEPLOY_USER}:${DEPLOY_USER} 0755\n` : ""}
if [ "$timezone_changed" -eq 1 ] && service_running cron cron; then service_restart cron cron; else service_ensure cron cron; fi
finish
${[...operationsSetupCommands(ctx, host), ...monitoringSetupCommands(ctx)].map((c) => `${c}\n`).join("")}
# Storage, in order: volumes, then the blob server, then the blob mount.
${storageSteps.map((s) => (s === VOLUMES_SCRIPT ? `${s} "$@"` : s)).join("\n")}
`;
}

/**
 * Set (to 1) by the boot script of a scaled instance (render/scaling/instance.ts), which is the
 * launch template's user data: cloud-init runs it and is not done until it ends, so a step it runs
 * must not wait for cloud-init to be done (`cloud-init status --wait` would never return).
 */
export const IN_BOOT_VAR = "PLONE_AWS_IN_BOOT";

/**
 * The packages of PACKAGES (a bash array of "name" or "name=version"), installed when any is missing
 * or at another version: the setup's first part, and all of a scaled group's image recipe
 * (render/scaling/image.ts), so an instance of a baked image finds every package and skips apt.
 */
export const PACKAGES_LOGIC = sh`
# Packages: skip apt when everything is there (a second run is quick).
# On a fresh instance cloud-init may still be running apt: wait for it, and for the dpkg lock;
# not inside cloud-init itself (the boot of a scaled instance), which waits for this script.
if [ -z "$\{${IN_BOOT_VAR}:-}" ] && command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null 2>&1 || true; fi
apt_get() {
  local log
  log=$(mktemp)
  if ! DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --no-install-recommends "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "apt-get $1 failed (the lines above are its output)"
  fi
  rm -f "$log"
}
missing=()
for package in "$\{PACKAGES[@]}"; do
  name=$\{package%%=*}
  version=$\{package#"$name"}
  version=$\{version#=}
  status=$(dpkg-query -W -f='$\{db:Status-Abbrev}$\{Version}' "$name" 2>/dev/null || true)
  if [[ $status != "ii "* ]] || { [ -n "$version" ] && [ "$\{status#ii }" != "$version" ]; }; then missing+=("$package"); fi
done
if [ "$\{#missing[@]}" -gt 0 ]; then
  say "installing $\{missing[*]}"
  apt_get update
  apt_get install "$\{missing[@]}"
  note_change "installed $\{missing[*]}"
fi
`;

const SETUP_LOGIC =
    PACKAGES_LOGIC +
    sh`
# The deploy user: the same UID and GID on every host, so NFS and GlusterFS ownership matches.
gid=$(getent group "$DEPLOY_USER" | cut -d: -f3 || true)
if [ -z "$gid" ]; then
  taken=$(getent group "$DEPLOY_UID" | cut -d: -f1 || true)
  [ -z "$taken" ] || die "GID $DEPLOY_UID (app.deployUserUid) belongs to group $taken: pick another app.deployUserUid"
  groupadd -g "$DEPLOY_UID" "$DEPLOY_USER"
  note_change "created group $DEPLOY_USER (GID $DEPLOY_UID)"
elif [ "$gid" != "$DEPLOY_UID" ]; then
  die "group $DEPLOY_USER has GID $gid, not $DEPLOY_UID (app.deployUserUid): shared blob ownership would not match; change it by hand (groupmod -g) or set app.deployUserUid"
fi
uid=$(id -u "$DEPLOY_USER" 2>/dev/null || true)
if [ -z "$uid" ]; then
  taken=$(getent passwd "$DEPLOY_UID" | cut -d: -f1 || true)
  [ -z "$taken" ] || die "UID $DEPLOY_UID (app.deployUserUid) belongs to user $taken: pick another app.deployUserUid"
  useradd -u "$DEPLOY_UID" -g "$DEPLOY_USER" -m -d "/home/$DEPLOY_USER" -s /bin/bash -c "Plone deploy user (plone-aws)" "$DEPLOY_USER"
  note_change "created user $DEPLOY_USER (UID $DEPLOY_UID)"
elif [ "$uid" != "$DEPLOY_UID" ] || [ "$(id -g "$DEPLOY_USER")" != "$DEPLOY_UID" ]; then
  die "user $DEPLOY_USER has UID:GID $uid:$(id -g "$DEPLOY_USER"), not $DEPLOY_UID:$DEPLOY_UID (app.deployUserUid): shared blob ownership would not match; change it by hand (usermod -u -g) or set app.deployUserUid"
fi

# Time zone (cron reads it when it starts: restarted below when it changed).
timezone_changed=0
zone=/usr/share/zoneinfo/$TIMEZONE
[ -f "$zone" ] || die "time zone $TIMEZONE (plone.timezone) is not in /usr/share/zoneinfo"
if [ "$(readlink -f /etc/localtime)" != "$(readlink -f "$zone")" ] || [ "$(cat /etc/timezone 2>/dev/null || true)" != "$TIMEZONE" ]; then
  ln -sfn "$zone" /etc/localtime
  printf '%s\n' "$TIMEZONE" >/etc/timezone
  timezone_changed=1
  note_change "time zone $TIMEZONE"
fi

# /tmp on a tmpfs (plone.tmpfsSize, app hosts).
if [ -n "$TMPFS_SIZE" ]; then
  tmp_changed=0
  if fstab_set /tmp "tmpfs /tmp tmpfs rw,nodev,nosuid,noatime,mode=1777,size=$TMPFS_SIZE 0 0"; then tmp_changed=1; fi
  if [ "$(findmnt -rn -o FSTYPE --mountpoint /tmp || true)" = tmpfs ]; then
    if [ "$tmp_changed" -eq 1 ]; then
      mount -o "remount,size=$TMPFS_SIZE" /tmp || die "resizing the /tmp tmpfs to $TMPFS_SIZE failed (more in use?)"
      note_change "/tmp tmpfs resized to $TMPFS_SIZE"
    fi
  elif [ -n "$RELEASE" ] && [ -e "$RELEASE" ]; then
    # Mounting over /tmp now would hide the files of the running clients (uploads in progress).
    warn "/tmp becomes a $TMPFS_SIZE tmpfs at the next reboot"
  else
    mount --fstab "$FSTAB" /tmp || die "mounting the /tmp tmpfs failed"
    note_change "mounted a $TMPFS_SIZE tmpfs on /tmp"
  fi
elif awk '$1 == "tmpfs" && $2 == "/tmp" { found = 1 } END { exit !found }' "$FSTAB"; then
  fstab_replace /tmp tmpfs
  note_change "removed the /tmp tmpfs from $FSTAB (plone.tmpfsSize is unset); it stays mounted until the next reboot"
fi
`;
