// GlusterFS blobs: glusterd's settings (brick ports pinned to the security groups' range), the
// peer script (every shared_blobs host) that on the primary creates, starts and grows the volume,
// and the clients' fstab line.
import { posix } from "path";
import { PORTS, type HostPlan } from "../../topology";
import { addressOf, type RenderContext } from "../context";
import { putFileCommand, rootFile, scriptHeader, sh, shellArray } from "../scriptKit";

type GlusterBlobs = { mode: "gluster"; primary: string; replicas: string[]; volume: string; brickPath: string; mountPoint: string };

export function glusterBlobs(ctx: RenderContext): GlusterBlobs {
    const blobs = ctx.topology.endpoints.blobs;
    if (blobs.mode !== "gluster") throw new Error(`blobs are ${blobs.mode}, not gluster`);
    return blobs;
}

/**
 * /etc/glusterfs/glusterd.vol: Debian's, with the brick ports limited to the range the security
 * groups open (glusterd 10 picks brick ports anywhere up to 60999 otherwise).
 */
export function renderGlusterdVol(): string {
    return [
        "# Written by plone-aws: Debian's glusterd.vol with the brick ports the security groups allow.",
        "volume management",
        "    type mgmt/glusterd",
        "    option working-directory /var/lib/glusterd",
        "    option transport-type socket",
        "    option transport.socket.keepalive-time 10",
        "    option transport.socket.keepalive-interval 2",
        "    option transport.socket.read-fail-log off",
        `    option transport.socket.listen-port ${PORTS.glusterdFirst}`,
        "    option ping-timeout 0",
        "    option event-threads 1",
        `    option base-port ${PORTS.glusterBricksFirst}`,
        `    option max-port ${PORTS.glusterBricksLast}`,
        "end-volume",
        "",
    ].join("\n");
}

/**
 * `plone-blob-server` of a GlusterFS peer. Every peer starts glusterd and creates its brick
 * directory on the bricks volume. The primary then probes the other peers, creates the volume
 * (`replica N` over all peers) when it does not exist, starts it, sets the cache size, and adds
 * the bricks of peers that joined later (`add-brick replica N`, then a full heal). Every step
 * checks the state first, so a second run changes nothing.
 */
export function renderGlusterScript(ctx: RenderContext, host: HostPlan): string {
    const blobs = glusterBlobs(ctx);
    const peers = [blobs.primary, ...blobs.replicas];
    if (!peers.includes(host.name)) throw new Error(`${host.name} is not a GlusterFS peer (${peers.join(", ")})`);
    const role = host.name === blobs.primary ? "the primary: it creates and grows the volume" : `a replica: ${blobs.primary} (the primary) adds its brick`;
    return `${scriptHeader(
        "plone-blob-server",
        [
            `GlusterFS peer ${host.name} of the blob volume ${blobs.volume}, ${role}.`,
            "Order across hosts: the replicas first (glusterd running), then the primary, then the clients.",
            "Peers that leave the stack are not removed: the primary warns with the commands that remove",
            "their bricks (remove-brick, peer detach), to run by hand once the data is safe.",
        ],
        ["services", "files"],
    )}
[ "$(id -u)" -eq 0 ] || die "run as root"
VOLUME=${blobs.volume}
BRICK_ROOT=${posix.dirname(blobs.brickPath)}
BRICK=${blobs.brickPath}
SELF=${addressOf(host.name, ctx.addresses)}
PRIMARY=${addressOf(blobs.primary, ctx.addresses)}
# primary first, then the replicas in the order of the stack file
PEERS=${shellArray(peers.map((p) => addressOf(p, ctx.addresses)))}
CACHE_SIZE=${ctx.spec.plone.glusterCacheSize}
GLUSTER=(gluster --mode=script)

config_changed=0
${putFileCommand(rootFile("/etc/glusterfs/glusterd.vol", renderGlusterdVol()), "config_changed=1")}
${GLUSTER_LOGIC}`;
}

const GLUSTER_LOGIC = sh`
command -v glusterd >/dev/null 2>&1 || die "glusterd is missing: plone-setup installs glusterfs-server"
ip -o addr show | awk '{ sub(/\/.*/, "", $4); print $4 }' | grep -qxF "$SELF" ||
  die "this host has no address $SELF, the one plone-aws gave its brick: check the host's private IP"
mountpoint -q "$BRICK_ROOT" || die "the bricks volume is not mounted on $BRICK_ROOT (plone-volumes mounts it): a brick on the root disk would fill it"
ensure_dir "$BRICK" root:root 0755

glusterd_answers() { "$\{GLUSTER[@]}" pool list >/dev/null 2>&1; }
# glusterd under systemd, or as a daemon with a pid file where there is no init system for it.
start_glusterd() {
  local pidfile=/run/glusterd.pid pid
  if is_systemd; then
    if [ "$config_changed" -eq 1 ]; then service_restart glusterd glusterd; else service_ensure glusterd glusterd; fi
  else
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      if [ "$config_changed" -eq 1 ]; then
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        pid=''
      fi
    elif glusterd_answers; then
      [ "$config_changed" -eq 0 ] || warn "glusterd runs without $pidfile: restart it to apply /etc/glusterfs/glusterd.vol"
      pid=running
    else
      pid=''
    fi
    if [ -z "$pid" ]; then
      glusterd -p "$pidfile" || die "glusterd did not start (see /var/log/glusterfs/glusterd.log)"
      note_change "started glusterd"
    fi
  fi
  for _ in $(seq 60); do glusterd_answers && return 0; sleep 0.5; done
  die "glusterd does not answer after 30 s (see /var/log/glusterfs/glusterd.log)"
}
start_glusterd

if [ "$SELF" != "$PRIMARY" ]; then
  say "peer ready; the primary $PRIMARY adds the brick $SELF:$BRICK to $VOLUME"
  finish
  exit 0
fi

# peer_state ADDRESS: e.g. "Peer in Cluster (Connected)", empty when it is not a peer.
peer_state() {
  "$\{GLUSTER[@]}" peer status 2>/dev/null |
    awk -v h="$1" '/^Hostname: / { current = $2 } /^State: / && current == h { sub(/^State: /, ""); print; exit }'
}
volume_bricks() { "$\{GLUSTER[@]}" volume info "$VOLUME" 2>/dev/null | awk '/^Brick[0-9]+: / { print $2 }'; }
for peer in "$\{PEERS[@]}"; do
  [ "$peer" != "$SELF" ] || continue
  if [ -z "$(peer_state "$peer")" ]; then
    output=$("$\{GLUSTER[@]}" peer probe "$peer" 2>&1) ||
      die "gluster peer probe $peer failed ($output): is glusterd running there (its setup runs first) and are ports ${PORTS.glusterdFirst}-${PORTS.glusterdLast} open?"
    note_change "probed peer $peer"
  fi
  # A replica that is down only matters when its brick still has to be added: then wait longer.
  has_brick=0
  if volume_bricks | grep -qxF "$peer:$BRICK"; then has_brick=1; fi
  wait=60
  [ "$has_brick" -eq 0 ] || wait=10
  for _ in $(seq "$wait"); do [ "$(peer_state "$peer")" != "Peer in Cluster (Connected)" ] || break; sleep 1; done
  state=$(peer_state "$peer")
  [ "$state" != "Peer in Cluster (Connected)" ] || continue
  [ "$has_brick" -eq 1 ] ||
    die "peer $peer is '$\{state:-unknown}', not 'Peer in Cluster (Connected)' after $wait s: its brick cannot be added"
  warn "peer $peer is '$\{state:-unknown}': its brick is offline until it is back (the other bricks serve the blobs)"
done

if ! "$\{GLUSTER[@]}" volume info "$VOLUME" >/dev/null 2>&1; then
  bricks=()
  for peer in "$\{PEERS[@]}"; do bricks+=("$peer:$BRICK"); done
  replica=()
  # "replica 1" is not a thing: one peer makes a plain volume that add-brick turns into a replica.
  if [ "$\{#bricks[@]}" -gt 1 ]; then replica=(replica "$\{#bricks[@]}"); fi
  output=$("$\{GLUSTER[@]}" volume create "$VOLUME" "$\{replica[@]}" "$\{bricks[@]}" 2>&1) ||
    die "gluster volume create $VOLUME failed: $output"
  note_change "created volume $VOLUME from $\{bricks[*]}"
fi

status=$("$\{GLUSTER[@]}" volume info "$VOLUME" | awk -F': ' '$1 == "Status" { print $2 }')
if [ "$status" != Started ]; then
  output=$("$\{GLUSTER[@]}" volume start "$VOLUME" 2>&1) || die "gluster volume start $VOLUME failed: $output"
  note_change "started volume $VOLUME"
fi

cache_size=$("$\{GLUSTER[@]}" volume get "$VOLUME" performance.cache-size | awk '$1 == "performance.cache-size" { print $2 }')
if [ "$cache_size" != "$CACHE_SIZE" ]; then
  output=$("$\{GLUSTER[@]}" volume set "$VOLUME" performance.cache-size "$CACHE_SIZE" 2>&1) ||
    die "gluster volume set $VOLUME performance.cache-size $CACHE_SIZE failed: $output"
  note_change "set performance.cache-size of $VOLUME to $CACHE_SIZE (was $cache_size)"
fi

mapfile -t existing < <(volume_bricks)
missing=()
for peer in "$\{PEERS[@]}"; do
  printf '%s\n' "$\{existing[@]}" | grep -qxF "$peer:$BRICK" || missing+=("$peer:$BRICK")
done
if [ "$\{#missing[@]}" -gt 0 ]; then
  replicas=$(($\{#existing[@]} + $\{#missing[@]}))
  output=$("$\{GLUSTER[@]}" volume add-brick "$VOLUME" replica "$replicas" "$\{missing[@]}" 2>&1) ||
    die "gluster volume add-brick $VOLUME replica $replicas $\{missing[*]} failed: $output"
  note_change "added $\{missing[*]} to $VOLUME (replica $replicas)"
  "$\{GLUSTER[@]}" volume heal "$VOLUME" full >/dev/null 2>&1 ||
    warn "gluster volume heal $VOLUME full did not start; the self-heal daemon copies the files to the new bricks anyway"
fi
for brick in "$\{existing[@]}"; do
  case " $\{PEERS[*]} " in
    *" $\{brick%%:*} "*) ;;
    *) warn "brick $brick belongs to a host that left the stack; remove it by hand: gluster volume remove-brick $VOLUME replica $(($\{#existing[@]} - 1)) $brick force, then gluster peer detach $\{brick%%:*}" ;;
  esac
done
finish
`;

/** fstab options of the GlusterFS blob mount; the replicas serve the volume file when the primary is down. */
export function glusterFstabLine(ctx: RenderContext): string {
    const { primary, replicas, volume, mountPoint } = glusterBlobs(ctx);
    const backups = replicas.map((r) => addressOf(r, ctx.addresses));
    const options = ["defaults", "_netdev", "nofail", ...(backups.length ? [`backup-volfile-servers=${backups.join(":")}`] : [])];
    return `${addressOf(primary, ctx.addresses)}:/${volume} ${mountPoint} glusterfs ${options.join(",")} 0 0`;
}
