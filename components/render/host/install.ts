// The configure step's script: install a host's rendered files, validate every service whose files
// changed, and only then reload those services. A file that fails validation puts every changed
// file back as it was, so a host never runs half of a change.
import type { RenderedFile } from "../context";
import { base64Lines, shellQuote } from "../shell";

/** A service whose configuration files the configure step may change. */
export interface ServiceReload {
    /** Short name, for messages. */
    name: string;
    /** Files (exact paths, or directory prefixes ending in "/") whose change needs a reload. */
    paths: string[];
    /** Files whose change needs a restart instead (daemon parameters a reload cannot apply). */
    restartPaths?: string[];
    /** Checks the installed configuration; non-zero means it must not be loaded. */
    validate?: string;
    /** Applies the configuration without dropping requests. */
    reload: string;
    /** Restarts the service, for restartPaths. */
    restart?: string;
}

/** Marker the installer prints for each changed file, and tests read. */
export const CHANGED_MARKER = "plone-aws: changed";

function heredocDelimiter(content: string): string {
    let tag = "PLONE_AWS_EOF";
    while (content.includes(tag)) tag += "_";
    return tag;
}

/** redact and restore: only rendered when a service validates (shellcheck flags unused functions). */
function failureFunctions(redact: string[]): string[] {
    const secrets = redact.filter((r) => r.length > 0);
    return [
        "# redact: a validator's message without the secret values the new files hold",
        ...(secrets.length
            ? [
                  "redact() {",
                  `  local text=$1 secret secrets=(${secrets.map(shellQuote).join(" ")})`,
                  '  for secret in "${secrets[@]}"; do text=${text//"$secret"/[secret]}; done',
                  '  printf "%s\\n" "$text"',
                  "}",
              ]
            : ['redact() { printf "%s\\n" "$1"; }']),
        "",
        "# restore: puts every changed file back as it was before this run",
        "restore() {",
        "  local f new",
        '  for f in "${changed[@]}"; do',
        '    new="$work/$(printf %s "$f" | sha256sum | cut -c1-16)"',
        '    if [ -e "$new.old" ]; then cp -p "$new.old" "$root$f"; else rm -f "$root$f"; fi',
        '    echo "plone-aws: restored $f" >&2',
        "  done",
        "}",
        "",
    ];
}

/**
 * Renders the install script. It runs as root; PLONE_AWS_ROOT (tests only) prefixes every path.
 * Contents travel base64-encoded in heredocs so any byte survives, and the whole script goes to
 * the host on stdin, never on a command line.
 */
export function renderInstallScript(
    files: RenderedFile[],
    services: ServiceReload[],
    removeFiles: string[] = [],
    after: string[] = [],
    /** Secret values to blank out of validator messages (a failing step's output is shown). */
    redact: string[] = [],
    /**
     * Where the content of each secret file is read at run time instead of being embedded (the
     * scaled hosts: their script is stored in S3, the secret files come from SSM at boot): a shell
     * word naming a file of base64 content. Undefined: every file is embedded.
     */
    stagedSecret?: (file: RenderedFile) => string,
): string {
    const duplicates = files.map((f) => f.path).filter((p, i, all) => all.indexOf(p) !== i);
    if (duplicates.length) throw new Error(`two renderers write ${duplicates[0]}`);
    const lines: string[] = [
        "#!/bin/bash",
        "# Installs the files plone-aws renders for this host; validates and reloads what changed.",
        "set -euo pipefail",
        'root="${PLONE_AWS_ROOT:-}"',
        "work=$(mktemp -d)",
        "changed=()",
        "trap 'rm -rf \"$work\"' EXIT",
        "",
        "# stage <path> <mode> <owner> <group>: reads base64 content on stdin",
        "stage() {",
        '  local path="$root$1" mode=$2 owner=$3 group=$4 new',
        '  new="$work/$(printf %s "$1" | sha256sum | cut -c1-16)"',
        '  base64 -d > "$new"',
        '  if [ -f "$path" ] && cmp -s "$new" "$path" && [ "$(stat -c %a "$path")" = "${mode#0}" ] \\',
        '     && [ "$(stat -c %U:%G "$path")" = "$owner:$group" ]; then',
        "    return 0",
        "  fi",
        '  getent passwd "$owner" >/dev/null || { echo "plone-aws: user $owner does not exist (setup must run first): cannot install $1" >&2; exit 1; }',
        '  mkdir -p "$(dirname "$path")"',
        '  if [ -e "$path" ]; then cp -p "$path" "$work/$(basename "$new").old"; fi',
        '  install -m "$mode" -o "$owner" -g "$group" "$new" "$path.plone-aws-new"',
        '  mv -f "$path.plone-aws-new" "$path"',
        '  changed+=("$1")',
        `  echo "${CHANGED_MARKER} $1"`,
        "}",
        "",
        ...(services.some((sv) => sv.validate) ? failureFunctions(redact) : []),
    ];
    for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
        if (f.secret && stagedSecret) {
            lines.push(`stage ${shellQuote(f.path)} ${f.mode} ${f.owner} ${f.group} <${stagedSecret(f)}`);
            continue;
        }
        const data = base64Lines(f.content);
        const tag = heredocDelimiter(data);
        lines.push(`stage ${shellQuote(f.path)} ${f.mode} ${f.owner} ${f.group} <<'${tag}'`, data, tag);
    }
    for (const path of removeFiles) {
        lines.push(
            `if [ -e "$root"${shellQuote(path)} ] || [ -L "$root"${shellQuote(path)} ]; then rm -f "$root"${shellQuote(path)}; changed+=(${shellQuote(path)}); echo "${CHANGED_MARKER} ${path} (removed)"; fi`,
        );
    }
    lines.push(
        "",
        `if [ \${#changed[@]} -eq 0 ]; then echo "plone-aws: configuration unchanged"; ${after.length ? `${after.join("; ")}; ` : ""}exit 0; fi`,
        "",
    );
    if (services.length > 0) {
        lines.push(
            "# affected <path prefix>...: true when a changed file is one of them",
            "affected() {",
            "  local f p",
            '  for f in "${changed[@]}"; do for p in "$@"; do',
            '    case "$p" in */) [[ "$f" == "$p"* ]] && return 0 ;; *) [ "$f" = "$p" ] && return 0 ;; esac',
            "  done; done",
            "  return 1",
            "}",
            "",
        );
    }
    const quoted = (paths: string[]) => paths.map(shellQuote).join(" ");
    for (const s of services) {
        if (!s.validate) continue;
        lines.push(
            `if affected ${quoted([...s.paths, ...(s.restartPaths ?? [])])}; then`,
            `  if ! out=$( ( ${s.validate} ) 2>&1 ); then`,
            `    echo "plone-aws: the new ${s.name} configuration is invalid, nothing was changed:" >&2`,
            '    redact "$out" >&2',
            "    restore",
            "    exit 1",
            "  fi",
            "fi",
        );
    }
    for (const s of services) {
        if (s.restartPaths?.length && s.restart) {
            lines.push(
                `if affected ${quoted(s.restartPaths)}; then`,
                `  echo "plone-aws: restarting ${s.name}"`,
                `  ( ${s.restart} )`,
                `elif affected ${quoted(s.paths)}; then`,
            );
        } else {
            lines.push(`if affected ${quoted(s.paths)}; then`);
        }
        lines.push(`  echo "plone-aws: reloading ${s.name}"`, `  ( ${s.reload} )`, "fi");
    }
    lines.push('echo "plone-aws: ${#changed[@]} file(s) changed"');
    lines.push(...after, "");
    return lines.join("\n");
}
