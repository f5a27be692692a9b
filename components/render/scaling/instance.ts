// What an instance of a scaled group (plone-aws:scaling) runs that a fixed host does not: the boot
// script (the launch template's user data), the bundle it downloads, the watch that notices the
// group ending the instance, and the drain it then runs. Pure: the ScaledGroup component stores
// them (S3, SSM, the launch template).
//
// Build once, deploy many: a fixed app host builds the release (git clone, buildout: downloads and
// compiled eggs) at `pulumi up`, and publishes its build cache (shared/eggs, downloads, extends,
// the git mirror) to S3 after each build. A scaled instance downloads the bundle (the rendered
// setup/configure/build/activate scripts of its host, no secret in it), its secret files from SSM
// Parameter Store, and that build cache, so its own build finds every egg locally: no download, no
// compiler run, only the buildout's scripts and parts for its own deploy.cfg. A pip app (app.builder
// pip) publishes pip's cache of wheels instead: the instance's build makes its own virtual
// environment from it (pip still asks the index which versions exist, as a fixed host does).
import * as crypto from "crypto";
import type { StackSpec } from "../../config/spec";
import { appLayout, PIP_CACHE_DIR, REPOSITORY_MIRROR } from "../app/layout";
import type { RenderContext, RenderedFile } from "../context";
import { PATHS } from "../../topology/ports";
import { DISCOVERY_TTL_SECONDS, LOAD_METRIC, type DiscoveredKind } from "../../topology/scaling";
import { base64Lines, shellQuote } from "../shell";
import { hostScript } from "../hostScripts/frame";
import { IN_BOOT_VAR } from "../host/system";
import { RELEASE_MARKER } from "../hostScripts/common";

/** Where a scaled instance keeps what its boot brought. */
export const SCALED_PATHS = {
    /** The boot's output: never the console (EC2's console output is readable by more people than the host). */
    bootLog: `${PATHS.logDir}/boot.log`,
    /** The group, hook, Cloud Map services and instance id the drain and the watch read (written at boot). */
    instanceEnv: `${PATHS.configDir}/scaled-instance.env`,
    bundleDir: "/var/lib/plone-aws/bundle",
    /** The secret files as fetched from SSM (tmpfs), removed once the configure step installed them. */
    secretFiles: `${PATHS.runtimeDir}/secret-files`,
    drain: `${PATHS.sbinDir}/plone-drain-instance`,
    watch: `${PATHS.sbinDir}/plone-instance-watch`,
    watchUnit: "/etc/systemd/system/plone-instance-watch.service",
    /** The watch's output where there is no systemd (its journal on EC2). */
    watchLog: `${PATHS.logDir}/instance-watch.log`,
} as const;

/** The instance metadata service's address (EC2's, link-local): the boot script and the watch ask it. */
export const IMDS_ADDRESS = "169.254.169.254";

/** Where the first fixed app host publishes its build cache, and the scaled instances read it. */
export function buildCacheKey(spec: Pick<StackSpec, "app">): string {
    return `build-cache/${spec.app.name}.tar.gz`;
}

/**
 * What of a build the cache holds, under the app's deploy directory: a buildout's venv, eggs and
 * downloads; pip's cache of wheels (app.builder pip); the git mirror. Those a builder does not make are absent.
 */
export const BUILD_CACHE_DIRS = ["shared/env", "shared/eggs", "shared/downloads", "shared/extends", `shared/${PIP_CACHE_DIR}`, REPOSITORY_MIRROR] as const;

/**
 * The lines the build step of the first fixed app host ends with when the stack has a scaled
 * group: its build cache to S3 (build once, deploy many). A failed upload only warns: the scaled
 * instances then build from scratch, slower but the same.
 */
export function publishBuildCacheLines(ctx: Pick<RenderContext, "spec" | "topology" | "scalingBucket">, host: { name: string }): string[] {
    const groupsBuild = ctx.topology.scaledGroups.some((g) => g.host.clients.length > 0);
    if (!ctx.scalingBucket || !groupsBuild || ctx.topology.roles.appHosts[0] !== host.name) return [];
    const deployTo = appLayout(ctx.spec).deployTo.replace(/^\//, "");
    const target = `s3://${ctx.scalingBucket}/${buildCacheKey(ctx.spec)}`;
    return [
        "# The build cache of the scaled groups (plone-aws:scaling): what this build downloaded and compiled.",
        "cache=()",
        `for d in ${BUILD_CACHE_DIRS.join(" ")}; do if [ -e ${shellQuote(`/${deployTo}`)}/"$d" ]; then cache+=(${shellQuote(deployTo)}/"$d"); fi; done`,
        `if tar -czf - -C / "\${cache[@]}" | aws --region ${shellQuote(ctx.spec.region)} s3 cp --only-show-errors --sse aws:kms - ${shellQuote(target)}; then`,
        `  echo "plone-aws: published the build cache to ${target}"`,
        "else",
        `  echo "plone-aws: WARNING: publishing the build cache to ${target} failed; scaled instances build from scratch" >&2`,
        "fi",
    ];
}

/** Where the first fixed volto host publishes the frontend's build cache, and the scaled instances with volto read it. */
export function frontendCacheKey(spec: Pick<StackSpec, "app">): string {
    return `build-cache/${spec.app.name}-frontend.tar.gz`;
}

/** Whether a scaled group carries volto: its instances then read the frontend's build cache. */
export function groupRunsVolto(group: { host: { voltoProcesses: unknown[] } }): boolean {
    return group.host.voltoProcesses.length > 0;
}

/**
 * The lines the build step of the first fixed volto host ends with when a scaled group carries
 * volto: the frontend's build cache to S3. Its newest built release (node_modules and the build
 * included: a Volto build does not depend on the host), the Node.js it was built with, corepack's
 * cache (pnpm for the processes) and the git mirror: an instance unpacks them and its own build
 * finds nothing to build. pnpm's store is left out (the release has its packages); an instance
 * whose revision moved on builds as a fixed host does. A failed upload only warns.
 */
export function publishFrontendCacheLines(ctx: Pick<RenderContext, "spec" | "topology" | "scalingBucket">, host: { name: string }): string[] {
    if (!ctx.scalingBucket || !ctx.topology.scaledGroups.some(groupRunsVolto) || ctx.topology.roles.voltoHosts[0] !== host.name) return [];
    const { volto } = appLayout(ctx.spec);
    const target = `s3://${ctx.scalingBucket}/${frontendCacheKey(ctx.spec)}`;
    return [
        "# The frontend's build cache of the scaled groups with Volto (plone-aws:scaling): the newest built release and what runs it.",
        "newest=''",
        `for r in ${shellQuote(volto.deployTo)}/releases/*/; do if [ -f "$r${RELEASE_MARKER}" ]; then newest=\${r%/}; fi; done`,
        'if [ -n "$newest" ]; then',
        `  node=$(sed -n 's/^node=//p' "$newest/${RELEASE_MARKER}")`,
        `  cache=("\${newest#/}" ${shellQuote(volto.corepackHome.replace(/^\//, ""))} ${shellQuote(`${volto.deployTo.replace(/^\//, "")}/${REPOSITORY_MIRROR}`)})`,
        '  if [ -n "$node" ] && [ -d "$node" ]; then cache+=("${node#/}"); fi',
        `  if tar -czf - -C / "\${cache[@]}" | aws --region ${shellQuote(ctx.spec.region)} s3 cp --only-show-errors --sse aws:kms - ${shellQuote(target)}; then`,
        `    echo "plone-aws: published the frontend's build cache ($\{newest##*/}) to ${target}"`,
        "  else",
        `    echo "plone-aws: WARNING: publishing the frontend's build cache to ${target} failed; scaled instances build their frontend" >&2`,
        "  fi",
        "fi",
    ];
}

/** The environment variable the configure step of a scaled host reads its secret files from. */
export const SECRET_FILES_VAR = "PLONE_AWS_SECRET_FILES";

/** SSM takes up to 8192 characters in a parameter (advanced tier): longer files are split over several. */
export const SSM_CHUNK = 8192;

/** The id of a secret file in the bundle and in SSM (a hash of its path: any path, a fixed form). */
export function secretFileId(path: string): string {
    return crypto.createHash("sha256").update(path).digest("hex").slice(0, 16);
}

/** The configure step's stand-in for a secret file's content: the file the boot fetched from SSM. */
export function stagedSecretFile(file: RenderedFile): string {
    return `"\${${SECRET_FILES_VAR}:?the secret files of a scaled host come from SSM at boot}/${secretFileId(file.path)}"`;
}

/** The SSM parameters of a group: /plone-aws/<stack>/<group>/... */
export function parameterPrefix(stackName: string, group: string): string {
    return `/plone-aws/${stackName}/${group}`;
}

/** One secret file of a scaled host as SSM parameters: its base64 content in chunks, in order. */
export interface SecretFileParameters {
    path: string;
    id: string;
    parameters: { name: string; value: string }[];
}

/** The secret files of a scaled host (rendered with the real secrets) as SSM SecureString parameters. */
export function secretFileParameters(prefix: string, files: RenderedFile[]): SecretFileParameters[] {
    return files
        .filter((f) => f.secret)
        .sort((a, b) => a.path.localeCompare(b.path))
        .map((f) => {
            const id = secretFileId(f.path);
            const data = Buffer.from(f.content, "utf8").toString("base64");
            const chunks = Math.max(1, Math.ceil(data.length / SSM_CHUNK));
            return {
                path: f.path,
                id,
                parameters: Array.from({ length: chunks }, (_, i) => ({
                    name: `${prefix}/files/${id}/${i}`,
                    value: data.slice(i * SSM_CHUNK, (i + 1) * SSM_CHUNK),
                })),
            };
        });
}

/** The bundle's list of secret files: "<id> <parameter>..." per line (names only, never values). */
export function secretFilesList(files: Pick<SecretFileParameters, "id" | "parameters">[]): string {
    return files.map((f) => [f.id, ...f.parameters.map((p) => p.name)].join(" ")).join("\n") + (files.length ? "\n" : "");
}

/**
 * The bundle: a shell archive that writes the host's step scripts, the drain, the watch and the
 * list of secret files into the directory it is given. It holds no secret (the configure step
 * reads the secret files from SSM), so S3 encryption guards it from the world, not from the host.
 */
export function renderBundle(files: Record<string, string>): string {
    const lines = [
        "#!/bin/bash",
        "# plone-aws: the bundle of a scaled app host (what its boot script runs). Written by `pulumi up`.",
        "set -euo pipefail",
        "dir=${1:?usage: bundle.sh DIR}",
        'mkdir -p "$dir"',
    ];
    for (const [name, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
        if (!/^[a-z][a-z0-9.-]*$/.test(name)) throw new Error(`bundle file name ${name}: lower-case letters, digits, '.' and '-'`);
        const data = base64Lines(content);
        lines.push(`base64 -d >"$dir/${name}" <<'PLONE_AWS_BUNDLE_EOF'`, data, "PLONE_AWS_BUNDLE_EOF");
    }
    lines.push('chmod 0700 "$dir"/*', "");
    return lines.join("\n");
}

/** A Cloud Map service the instance registers one of its Zope clients or Volto processes in. */
export interface BootService {
    /** The Cloud Map service id (srv-...). */
    id: string;
    kind: DiscoveredKind;
    /** client1 .., volto1 .. */
    process: string;
    port: number;
}

/** What the boot script is told (no secret: user data is readable by anyone who may describe the instance). */
export interface BootSettings {
    stackName: string;
    group: string;
    region: string;
    bucket: string;
    bundleKey: string;
    bundleVersion: string;
    bundleSha256: string;
    /** The build cache a fixed app host publishes (absent until its first build). */
    buildCacheKey: string;
    /** The frontend's build cache the first fixed volto host publishes; "" for a group without volto. */
    frontendCacheKey: string;
    lifecycleHook: string;
    services: BootService[];
    /** Plone's health check path (plone.healthCheckPath). */
    healthPath: string;
    /** Volto's health check path (volto.healthPath): what a Volto process must answer before it is registered. */
    voltoHealthPath: string;
    /** Seconds the clients have to answer after activate (the group's health check grace period). */
    bootTimeout: number;
}

const assignment = (name: string, value: string | number) => `${name}=${shellQuote(String(value))}`;

/** SERVICES=('<Cloud Map service id>:<kind>:<process>:<port>' ...). */
const servicesLine = (s: BootSettings) => `SERVICES=(${s.services.map((sv) => shellQuote(`${sv.id}:${sv.kind}:${sv.process}:${sv.port}`)).join(" ")})`;

/** The instance's settings file, as the boot script writes it (the drain and the watch source it). */
function instanceEnvLines(s: BootSettings): string[] {
    return [
        assignment("REGION", s.region),
        assignment("GROUP", s.group),
        assignment("LIFECYCLE_HOOK", s.lifecycleHook),
        assignment("HEALTH_PATH", s.healthPath),
        assignment("VOLTO_HEALTH_PATH", s.voltoHealthPath),
        servicesLine(s),
    ];
}

/**
 * The launch template's user data. It runs as root on first boot (cloud-init), and on a test host
 * with stand-ins: PLONE_AWS_IMDS (the metadata service) and PLONE_AWS_CLI (the aws command).
 */
export function renderBootScript(s: BootSettings): string {
    return `#!/bin/bash
# plone-aws: the boot of an instance of the scaled group ${s.group} (stack ${s.stackName}): the
# launch template's user data. It holds no secret. It provisions this instance from the bundle
# \`pulumi up\` wrote to S3 (the setup, configure, build and activate scripts a fixed app host runs),
# with the secret files from SSM Parameter Store and the build cache of the fixed app hosts;
# registers each Zope client and Volto process in AWS Cloud Map once it answers; and starts the
# watch that drains them when the group ends this instance. Output: ${SCALED_PATHS.bootLog} (root only).
set -euo pipefail
umask 077
mkdir -p ${PATHS.logDir}
exec >>${SCALED_PATHS.bootLog} 2>&1
echo "== plone-aws boot $(date -u +%Y-%m-%dT%H:%M:%SZ)"

${assignment("BUCKET", s.bucket)}
${assignment("BUNDLE_KEY", s.bundleKey)}
${assignment("BUNDLE_VERSION", s.bundleVersion)}
${assignment("BUNDLE_SHA256", s.bundleSha256)}
${assignment("BUILD_CACHE_KEY", s.buildCacheKey)}
${assignment("FRONTEND_CACHE_KEY", s.frontendCacheKey)}
${assignment("BOOT_TIMEOUT", s.bootTimeout)}
${assignment("REGION", s.region)}
${assignment("GROUP", s.group)}
${assignment("HEALTH_PATH", s.healthPath)}
${assignment("VOLTO_HEALTH_PATH", s.voltoHealthPath)}
${servicesLine(s)}
IMDS=\${PLONE_AWS_IMDS:-http://${IMDS_ADDRESS}}
AWS=\${PLONE_AWS_CLI:-aws}
# cloud-init runs this script and is not done until it ends: the steps must not wait for it.
export ${IN_BOOT_VAR}=1
work=${SCALED_PATHS.bundleDir}
secrets=${SCALED_PATHS.secretFiles}

say() { printf '%s plone-aws boot: %s\\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { say "ERROR: $*"; exit 1; }
# imds PATH: a value of the instance metadata service, IMDSv2 (a session token first).
imds() {
  local token
  token=$(curl -fsS -m 5 -X PUT "$IMDS/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300") || return 1
  curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/meta-data/$1"
}
# retry TRIES COMMAND...: AWS's APIs and the metadata service may be slow right after launch.
retry() {
  local tries=$1 i
  shift
  for ((i = 1; ; i++)); do
    "$@" && return 0
    ((i < tries)) || return 1
    sleep $((i * 2))
  done
}
aws_() { "$AWS" --region "$REGION" "$@"; }

instance_id=$(retry 10 imds instance-id) || die "no instance id from the metadata service"
address=$(retry 10 imds local-ipv4) || die "no private address from the metadata service"
say "instance $instance_id ($address) of group $GROUP"

if ! command -v "$AWS" >/dev/null 2>&1; then
  say "installing the AWS CLI (Debian's awscli)"
  retry 3 apt-get update -q
  DEBIAN_FRONTEND=noninteractive retry 3 apt-get install -yq awscli
fi

# The bundle: exactly the version this launch template names, checked against its hash.
rm -rf "$work" "$secrets"
mkdir -p "$work" "$secrets"
chmod 0700 "$work" "$secrets"
retry 5 aws_ s3api get-object --bucket "$BUCKET" --key "$BUNDLE_KEY" --version-id "$BUNDLE_VERSION" "$work/bundle.sh" >/dev/null ||
  die "cannot download s3://$BUCKET/$BUNDLE_KEY (version $BUNDLE_VERSION)"
printf '%s  %s\\n' "$BUNDLE_SHA256" "$work/bundle.sh" | sha256sum -c --quiet - || die "the bundle does not match its hash: not running it"
bash "$work/bundle.sh" "$work"

# The secret files: base64 chunks from SSM SecureString parameters, in order; never printed.
while read -r -a entry; do
  ((\${#entry[@]} > 1)) || continue
  : >"$secrets/\${entry[0]}"
  for name in "\${entry[@]:1}"; do
    retry 5 aws_ ssm get-parameter --with-decryption --name "$name" --query Parameter.Value --output text >>"$secrets/\${entry[0]}" ||
      die "cannot read the SSM parameter $name"
  done
done <"$work/secret-files.list"

# A fresh instance has no ${PATHS.configDir} yet (the setup makes it, with these owner and mode).
install -d -m 0755 ${PATHS.configDir}
{
  printf '# The scaled instance (plone-aws boot). Read by plone-drain-instance and plone-instance-watch.\\n'
  printf 'INSTANCE_ID=%q\\n' "$instance_id"
  cat <<'PLONE_AWS_ENV'
${instanceEnvLines(s).join("\n")}
PLONE_AWS_ENV
} >${SCALED_PATHS.instanceEnv}
chmod 0600 ${SCALED_PATHS.instanceEnv}
install -m 0755 "$work/drain.sh" ${SCALED_PATHS.drain}
install -m 0755 "$work/watch.sh" ${SCALED_PATHS.watch}

# The steps, and the watch and drain started below, run with the umask a fixed host's steps get
# (an SSH session's): what they make for the daemons must be readable by them (the haproxy agent,
# as the deploy user, reads the rotation files the restart and the drain write as root).
umask 022
say "setup"
bash "$work/setup.sh"
say "configure"
${SECRET_FILES_VAR}=$secrets bash "$work/configure.sh"
rm -rf "$secrets"

# The build cache of the fixed app hosts: every egg and download their build made.
if aws_ s3api head-object --bucket "$BUCKET" --key "$BUILD_CACHE_KEY" >/dev/null 2>&1; then
  say "unpacking the build cache s3://$BUCKET/$BUILD_CACHE_KEY"
  aws_ s3 cp --only-show-errors "s3://$BUCKET/$BUILD_CACHE_KEY" - | tar -xzf - -C /
else
  say "no build cache yet (no fixed app host has published one): this build downloads and compiles"
fi
# The frontend's build cache of the first fixed volto host: its newest release, built.
if [[ -n $FRONTEND_CACHE_KEY ]]; then
  if aws_ s3api head-object --bucket "$BUCKET" --key "$FRONTEND_CACHE_KEY" >/dev/null 2>&1; then
    say "unpacking the frontend's build cache s3://$BUCKET/$FRONTEND_CACHE_KEY"
    aws_ s3 cp --only-show-errors "s3://$BUCKET/$FRONTEND_CACHE_KEY" - | tar -xzf - -C /
  else
    say "no frontend build cache yet (no fixed volto host has published one): this build builds the frontend"
  fi
fi
say "build"
bash "$work/build.sh"
say "activate"
bash "$work/activate.sh"

# Registered only once every process answers its health check (Plone's, or Volto's): the front
# ends fill a slot only with a live process.
for service in "\${SERVICES[@]}"; do
  IFS=: read -r _ kind process port <<<"$service"
  path=$HEALTH_PATH
  if [[ $kind == volto ]]; then path=$VOLTO_HEALTH_PATH; fi
  deadline=$((SECONDS + BOOT_TIMEOUT))
  until curl -fsS -o /dev/null -m 5 "http://127.0.0.1:$port$path"; do
    ((SECONDS < deadline)) || die "$process on port $port does not answer $path after \${BOOT_TIMEOUT}s: not registering it"
    sleep 2
  done
done
# Registrations of instances the group no longer has (ended without their drain): removed.
in_group=" $(aws_ autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$GROUP" --query 'AutoScalingGroups[0].Instances[].InstanceId' --output text | tr '\\t' ' ') "
for service in "\${SERVICES[@]}"; do
  id=\${service%%:*}
  for registered in $(aws_ servicediscovery list-instances --service-id "$id" --query 'Instances[].Id' --output text); do
    if [[ $registered != "None" && $in_group != *" $registered "* ]]; then
      say "removing the stale registration $registered from $id"
      aws_ servicediscovery deregister-instance --service-id "$id" --instance-id "$registered" >/dev/null || true
    fi
  done
done
for service in "\${SERVICES[@]}"; do
  id=\${service%%:*}
  port=\${service##*:}
  retry 5 aws_ servicediscovery register-instance --service-id "$id" --instance-id "$instance_id" \\
    --attributes "AWS_INSTANCE_IPV4=$address,AWS_INSTANCE_PORT=$port" >/dev/null || die "cannot register port $port in $id"
  say "registered $address:$port in $id"
done

# The watch: under systemd on EC2, in the background elsewhere (a test host).
if [ -d /run/systemd/system ]; then
  cat >${SCALED_PATHS.watchUnit} <<'PLONE_AWS_UNIT'
[Unit]
Description=plone-aws: drain this scaled instance when its group ends it
After=network-online.target

[Service]
ExecStart=${SCALED_PATHS.watch}
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
PLONE_AWS_UNIT
  systemctl daemon-reload
  systemctl enable --now plone-instance-watch.service
else
  nohup ${SCALED_PATHS.watch} >>${SCALED_PATHS.watchLog} 2>&1 &
fi
say "serving: boot took \${SECONDS}s"
`;
}

/**
 * plone-drain-instance: what the termination lifecycle hook waits for. Every Zope client and Volto
 * process drained in haproxy through the agent (all front ends see it within their agent
 * interval), its open requests finished, the instance taken out of Cloud Map (the front ends drop
 * its slots once the record's TTL and haproxy's hold have passed), then the group is told to go on.
 */
export function renderDrainScript(): string {
    return hostScript(
        `plone-drain-instance: drain this scaled instance before its group terminates it.
  Every Zope client and Volto process out of rotation (the haproxy agent answers "drain"), its
  open requests finished (DRAIN_TIMEOUT each), the instance deregistered from AWS Cloud Map, then
  the termination lifecycle action completed. Run by plone-instance-watch; by hand only to end it.`,
        `main() {
  local entry id waited processes
  VOLTO_PROCESSES=()
  read_deploy_env
  # shellcheck source=/dev/null
  source ${SCALED_PATHS.instanceEnv}
  need ss curl
  mkdir -p "$RUNTIME_DIR/rotation"
  # name:port of every process the front ends send requests to: the Zope clients, the Volto processes.
  processes=("\${CLIENTS[@]}" "\${VOLTO_PROCESSES[@]}")
  step "draining $INSTANCE_ID: every client and Volto process out of rotation"
  for entry in "\${processes[@]}"; do printf 'drain\\n' >"$RUNTIME_DIR/rotation/\${entry%%:*}"; done
  # Every front end's haproxy asks the agent every few seconds: let them all see the drain.
  sleep "$DRAIN_GRACE"
  for entry in "\${processes[@]}"; do
    if ! wait_idle "\${entry##*:}" "$DRAIN_TIMEOUT"; then
      warn "\${entry%%:*}: $(connections "\${entry##*:}") request(s) still open after \${DRAIN_TIMEOUT}s"
    fi
    aws_ autoscaling record-lifecycle-action-heartbeat --lifecycle-hook-name "$LIFECYCLE_HOOK" --auto-scaling-group-name "$GROUP" --instance-id "$INSTANCE_ID" >/dev/null 2>&1 || true
  done
  for entry in "\${SERVICES[@]}"; do
    id=\${entry%%:*}
    aws_ servicediscovery deregister-instance --service-id "$id" --instance-id "$INSTANCE_ID" >/dev/null || warn "deregistering from $id failed"
  done
  # The record's TTL and haproxy's hold: the front ends empty the slots before the instance goes.
  waited=$((${DISCOVERY_TTL_SECONDS} * 2 + 5))
  log "deregistered; waiting \${waited}s for the front ends to drop the slots"
  sleep "$waited"
  aws_ autoscaling complete-lifecycle-action --lifecycle-hook-name "$LIFECYCLE_HOOK" --auto-scaling-group-name "$GROUP" \\
    --instance-id "$INSTANCE_ID" --lifecycle-action-result CONTINUE >/dev/null
  log "drained; the group may terminate $INSTANCE_ID"
}
aws_() { "\${PLONE_AWS_CLI:-aws}" --region "$REGION" "$@"; }

main "$@"
`,
    );
}

/**
 * plone-instance-watch: every 5 s, asks the metadata service whether the group is ending this
 * instance (then drains it, once); every minute publishes the load average (the step rules on
 * load) and checks the processes: none answering for 5 minutes marks the instance unhealthy, and the
 * group replaces it (running the drain first).
 */
export function renderWatchScript(): string {
    return `#!/bin/bash
# plone-instance-watch: the watch of a scaled instance (plone-aws). Drains it when its group ends
# it (the metadata service's autoscaling/target-lifecycle-state turns Terminated), publishes its
# load average, and marks it unhealthy when no client or Volto process answered for 5 minutes (the
# group replaces it).
set -uo pipefail
# shellcheck source=/dev/null
source ${SCALED_PATHS.instanceEnv}
IMDS=\${PLONE_AWS_IMDS:-http://${IMDS_ADDRESS}}
AWS=\${PLONE_AWS_CLI:-aws}
INTERVAL=\${PLONE_AWS_WATCH_INTERVAL:-5}
aws_() { "$AWS" --region "$REGION" "$@"; }
imds() {
  local token
  token=$(curl -fsS -m 5 -X PUT "$IMDS/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300") || return 1
  curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/meta-data/$1"
}
# Whether a Zope client or Volto process of this instance answers its health check.
any_process_answers() {
  local service kind port path
  for service in "\${SERVICES[@]}"; do
    IFS=: read -r _ kind _ port <<<"$service"
    path=$HEALTH_PATH
    if [[ $kind == volto ]]; then path=$VOLTO_HEALTH_PATH; fi
    curl -fsS -o /dev/null -m 10 "http://127.0.0.1:$port$path" && return 0
  done
  return 1
}
last_minute=-1
failing_since=""
while true; do
  if [[ $(imds autoscaling/target-lifecycle-state 2>/dev/null) == Terminated ]]; then
    echo "$(date -u +%H:%M:%S) the group ends this instance: draining it"
    ${SCALED_PATHS.drain}
    exit $?
  fi
  minute=$((SECONDS / 60))
  if ((minute != last_minute)); then
    last_minute=$minute
    read -r load _ </proc/loadavg
    aws_ cloudwatch put-metric-data --namespace ${LOAD_METRIC.namespace} --metric-name ${LOAD_METRIC.name} --dimensions "AutoScalingGroupName=$GROUP" --value "$load" >/dev/null 2>&1 || true
    if any_process_answers; then
      failing_since=""
    elif [[ -z $failing_since ]]; then
      failing_since=$SECONDS
    elif ((SECONDS - failing_since >= 300)); then
      echo "$(date -u +%H:%M:%S) no client or Volto process answered its health check for 5 minutes: marking $INSTANCE_ID unhealthy"
      aws_ autoscaling set-instance-health --instance-id "$INSTANCE_ID" --health-status Unhealthy >/dev/null || true
      failing_since=$SECONDS
    fi
  fi
  sleep "$INTERVAL"
done
`;
}
