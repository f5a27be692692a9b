// Pieces shared by the host scripts plone-aws renders (setup, volumes, blobs): quoting, the bash
// preamble with its helper functions, and embedding a file in a script. The scripts are
// self-contained on purpose: setup runs before any other file is installed on a fresh host.
import { createHash } from "crypto";
import type { RenderedFile } from "./context";
import { shellArray, shellQuote } from "./shell";

/**
 * A template tag for bash text: raw (backslashes stay as written) and with shell parameter
 * expansions written `$\{name}`, so that `${value}` stays a TypeScript interpolation.
 */
export function sh(strings: TemplateStringsArray, ...values: unknown[]): string {
    return String.raw({ raw: strings.raw.map((s) => s.replace(/\$\\\{/g, "$" + "{")) }, ...values);
}

export { shellArray, shellQuote };

/**
 * Helper functions the plone-aws host scripts start with, by section (every script gets "base").
 * Each change a script makes is announced with note_change; a run that changed nothing ends with
 * "<script>: no change".
 */
const KIT = {
    base: sh`changed=0
say() { printf '%s: %s\n' "$SCRIPT_NAME" "$*"; }
warn() { printf '%s: WARNING: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() { printf '%s: ERROR: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }
note_change() { changed=1; say "$*"; }
finish() { if [ "$changed" -eq 0 ]; then say "no change"; fi; }
`,
    services: sh`# systemd on EC2; plain init scripts (or none) in containers and test hosts.
is_systemd() { [ -d /run/systemd/system ]; }
# service_running SYSTEMD_UNIT INIT_SCRIPT
service_running() {
  if is_systemd; then systemctl is-active --quiet "$1"; else service "$2" status >/dev/null 2>&1; fi
}
# service_ensure SYSTEMD_UNIT INIT_SCRIPT: running (and enabled under systemd).
service_ensure() {
  if is_systemd; then
    systemctl is-enabled --quiet "$1" 2>/dev/null || systemctl enable --quiet "$1" || die "systemctl enable $1 failed"
  fi
  service_running "$1" "$2" && return 0
  if is_systemd; then systemctl start "$1" || die "systemctl start $1 failed"
  else service "$2" start >/dev/null || die "service $2 start failed"; fi
  note_change "started $1"
}
service_restart() {
  if is_systemd; then systemctl restart "$1" || die "systemctl restart $1 failed"
  else service "$2" restart >/dev/null || die "service $2 restart failed"; fi
  note_change "restarted $1"
}
`,
    files: sh`# put_file PATH MODE OWNER:GROUP < content: installs the content when it or the mode/owner differ.
# Status 0 when it changed the file, 1 when it was already right.
put_file() {
  local path=$1 mode=$2 owner=$3 tmp
  mkdir -p "$(dirname "$path")"
  tmp=$(mktemp "$(dirname "$path")/.plone-aws.XXXXXX")
  cat >"$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c '%a %U:%G' "$path")" = "$\{mode#0} $owner" ]; then
    rm -f "$tmp"
    return 1
  fi
  chmod "$mode" "$tmp"
  chown "$owner" "$tmp"
  mv -f "$tmp" "$path"
  note_change "installed $path"
}
# ensure_dir PATH OWNER:GROUP MODE: the directory exists with that owner and mode.
ensure_dir() {
  local path=$1 owner=$2 mode=$3 current
  if [ ! -d "$path" ]; then
    mkdir -p "$path"
    chown "$owner" "$path" || die "cannot set the owner of $path to $owner"
    chmod "$mode" "$path"
    note_change "created $path ($owner, mode $mode)"
    return 0
  fi
  current=$(stat -c '%U:%G %a' "$path")
  if [ "$current" != "$owner $\{mode#0}" ]; then
    chown "$owner" "$path" || die "cannot set the owner of $path to $owner"
    chmod "$mode" "$path"
    note_change "$path: owner $owner, mode $mode (was $current)"
  fi
}
`,
    fstab: sh`# fstab_replace MOUNT_POINT FSTYPE [LINE]: drops the entries of MOUNT_POINT (only those of FSTYPE
# unless it is "*"), then appends LINE. The file is replaced in one rename.
fstab_replace() {
  local tmp
  tmp=$(mktemp "$(dirname "$FSTAB")/.fstab.XXXXXX")
  awk -v mp="$1" -v type="$2" '$1 ~ /^#/ || $2 != mp || (type != "*" && $3 != type)' "$FSTAB" >"$tmp"
  if [ $# -ge 3 ]; then printf '%s\n' "$3" >>"$tmp"; fi
  chmod 0644 "$tmp"
  mv -f "$tmp" "$FSTAB"
}
# fstab_set MOUNT_POINT LINE: LINE is the only entry for MOUNT_POINT. Status 0 when it changed.
FSTAB=$\{PLONE_FSTAB:-/etc/fstab}
fstab_set() {
  local mount_point=$1 line=$2
  if grep -qxF -- "$line" "$FSTAB" && [ "$(awk -v mp="$mount_point" '$1 !~ /^#/ && $2 == mp' "$FSTAB" | wc -l)" -eq 1 ]; then
    return 1
  fi
  fstab_replace "$mount_point" "*" "$line"
  note_change "$FSTAB: $line"
}
`,
};
export type KitSection = Exclude<keyof typeof KIT, "base">;

/** The start of a host script: shebang, what it does, strict mode and the helper functions. */
export function scriptHeader(name: string, description: string[], sections: KitSection[] = ["services", "files", "fstab"]): string {
    return [
        "#!/bin/bash",
        `# ${name}: ${description[0]}`,
        ...description.slice(1).map((l) => (l ? `# ${l}` : "#")),
        "# Written by plone-aws: changes are overwritten.",
        "set -euo pipefail",
        `SCRIPT_NAME=${shellQuote(name)}`,
        KIT.base + sections.map((section) => KIT[section]).join(""),
    ].join("\n");
}

/** A heredoc delimiter that cannot occur in `content` (scripts embed scripts that embed files). */
function delimiterFor(content: string): string {
    const delimiter = `PLONE_AWS_EOF_${createHash("sha256").update(content).digest("hex").slice(0, 12)}`;
    if (content.split("\n").includes(delimiter)) throw new Error(`file content contains its own heredoc delimiter ${delimiter}`);
    return delimiter;
}

/**
 * Shell that installs `file` with put_file (see scriptHeader), followed by `onChange` when the
 * content, mode or owner changed.
 */
export function putFileCommand(file: RenderedFile, onChange?: string): string {
    if (!file.content.endsWith("\n")) throw new Error(`${file.path}: rendered files end with a newline`);
    const delimiter = delimiterFor(file.content);
    const put = `put_file ${shellQuote(file.path)} ${file.mode} ${shellQuote(`${file.owner}:${file.group}`)}`;
    const head = onChange ? `if ${put} <<'${delimiter}'; then` : `${put} <<'${delimiter}' || true`;
    return [head, file.content + delimiter, ...(onChange ? [`  ${onChange}`, "fi"] : [])].join("\n");
}

/** A root-owned file. */
export function rootFile(path: string, content: string, mode = "0644"): RenderedFile {
    return { path, content, mode, owner: "root", group: "root" };
}
