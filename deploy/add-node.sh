#!/usr/bin/env bash
# Adds a bare Debian 12 machine to the farm over ssh, or takes it out again. Run it on the head
# (the coordinator's machine), from the source checkout.
#
#   deploy/add-node.sh USER@HOST --join tcp://HEAD:5555 --keys DIR --data DIR [--name NAME]
#                      [--threads N] [--deb FILE] [--env NAME=VALUE]... [--ssh-config FILE]
#   deploy/add-node.sh USER@HOST --join tcp://HEAD:5555 --insecure [...]
#   deploy/add-node.sh USER@HOST --remove --data DIR [--name NAME] [--ssh-config FILE]
#
#   --keys DIR     the coordinator's keys folder (its coordinator.key is copied to the node)
#   --data DIR     the coordinator's data folder (the node's public key is authorised there)
#   --insecure     no CURVE keys (the coordinator runs without --keys; trusted networks only)
#   --name NAME    the node's name in `stylefarm status` and its key's name (default: HOST)
#   --threads N    render threads (default: the node's cores)
#   --deb FILE     the package (default: the newest dist/stylefarm_*_amd64.deb, from scripts/package.sh)
#   --env N=V      another variable for the worker's environment (repeatable)
#   --ssh-config F passed to ssh and scp as -F
#   --remove       stop the node's worker (it hands its task back), revoke its key, purge the package
#
# What it does: copies the .deb over scp and installs it with `apt-get install ./stylefarm_….deb`,
# which brings the runtime libraries (OpenBLAS, libpng, TurboJPEG, ZeroMQ, SQLite) from the node's
# apt sources (it runs `apt-get update` first only if the node has no package lists, or again if
# the install fails without it); generates the node's CURVE key pair on the node (the secret
# never leaves it), fetches the public key and authorises it as a worker in --data; copies the
# coordinator's public key; writes /etc/stylefarm/worker.env; starts the worker — with
# `systemctl enable --now stylefarm-worker` where systemd is PID 1, otherwise (containers,
# chroots, minimal hosts) under /usr/lib/stylefarm/supervise-worker, which restarts it after a
# crash but does not start it at boot. The worker fetches the VGG19 weights from its coordinator.
#
# Running it again changes nothing that is already right: the same package version is not
# reinstalled, the node's key is kept, an authorised key is left alone, and a running worker is
# not restarted unless its package or settings changed. Each step says what it found.
# USER is root or has sudo without a password prompt.
set -euo pipefail

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
(($# >= 1)) || usage
case "$1" in -h|--help) usage ;; -*) echo "add-node: the first argument is USER@HOST" >&2; usage ;; esac
target="$1"; shift
join="" threads="" name="" keys="" data="" deb="" ssh_config="" insecure=0 remove=0 extra_env=()
while (($#)); do
  case "$1" in
    --join) join="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --name) name="$2"; shift 2 ;;
    --keys) keys="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --deb) deb="$2"; shift 2 ;;
    --env) extra_env+=("$2"); shift 2 ;;
    --ssh-config) ssh_config="$2"; shift 2 ;;
    --insecure) insecure=1; shift ;;
    --remove) remove=1; shift ;;
    -h|--help) usage ;;
    *) echo "add-node: unknown argument $1" >&2; usage ;;
  esac
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
host="${target#*@}"
user="${target%@*}"; [ "$user" != "$target" ] || user="$(id -un)"
name="${name:-$host}"
say() { echo "add-node: $name: $*" >&2; }
die() { echo "add-node: $name: $*" >&2; exit 1; }
[[ "$name" =~ ^[A-Za-z0-9_-][A-Za-z0-9._-]*$ ]] || die "node names use letters, digits, '.', '_' and '-', not starting with '.' (give --name)"
# The node keeps its key pair beside the coordinator's public key, so that name is taken.
[ "$name" != coordinator ] || die "a node cannot be called 'coordinator' (give --name)"
[ -z "$threads" ] || [[ "$threads" =~ ^[1-9][0-9]*$ ]] || die "--threads takes a positive number"
for kv in "${extra_env[@]}"; do [[ "$kv" =~ ^[A-Za-z_][A-Za-z0-9_]*=[^\"\$\`\\\ ]*$ ]] || die "--env takes NAME=VALUE without spaces or quotes (got '$kv')"; done

ssh_opts=(); [ -z "$ssh_config" ] || ssh_opts=(-F "$ssh_config")
sudo=""; [ "$user" = root ] || sudo="sudo -n"
# Runs a script (stdin) on the node as root, with VAR=value settings before it (expanded here on
# purpose: the values are quoted with q before they are passed).
# shellcheck disable=SC2029
remote_root() { ssh "${ssh_opts[@]}" "$target" "$sudo env $* bash -s"; }
q() { printf '%q' "$1"; }

# The head's stylefarm, for `keys authorize` and `keys revoke`.
head_bin() {
  local candidate
  for candidate in "${STYLEFARM_BIN:-}" "$(command -v stylefarm || true)" "$here/../.build/release/stylefarm" "$here/../.build/debug/stylefarm"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  die "no stylefarm binary on this machine for 'keys authorize' (install the .deb here too, or set STYLEFARM_BIN)"
}

# --- taking a node out -----------------------------------------------------------------------
if ((remove)); then
  ((insecure)) || [ -n "$data" ] || die "--remove needs --data DIR (to revoke the node's key) or --insecure"
  reached=1
  remote_root "NAME=$(q "$name")" <<'REMOTE' || { reached=0; say "could not reach $target or the removal failed there (above): revoking its key anyway"; }
set -euo pipefail
say() { echo "add-node: $NAME: $*" >&2; }
if ! dpkg-query -W -f '${Status}' stylefarm 2>/dev/null | grep -q 'install ok installed'; then
  say "stylefarm is not installed here"
else
  # Stop the worker: SIGTERM, it hands its current task back to the coordinator and says goodbye.
  if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -d /run/systemd/system ]; then
    if systemctl is-active --quiet stylefarm-worker; then
      say "stopping the worker (systemctl stop: SIGTERM, it hands its task back)"
      systemctl disable --now stylefarm-worker >/dev/null 2>&1
    else
      say "the worker is not running"; systemctl disable stylefarm-worker >/dev/null 2>&1 || true
    fi
  elif /usr/lib/stylefarm/supervise-worker status >/dev/null 2>&1; then
    say "stopping the supervised worker (SIGTERM, it hands its task back)"
    /usr/lib/stylefarm/supervise-worker stop >&2
    tail -n 3 /var/log/stylefarm-worker.log 2>/dev/null | sed 's/^/    /' >&2 || true
  else
    say "the worker is not running"
  fi
fi
# The node's own key pair and the coordinator's public key: this node is out of the farm.
rm -f "/etc/stylefarm/keys/$NAME.key" "/etc/stylefarm/keys/$NAME.key_secret" /etc/stylefarm/keys/coordinator.key
if dpkg-query -W -f '${Status}' stylefarm 2>/dev/null | grep -q 'ok'; then
  # purge: the package, its settings, the worker's state (weights, blobs) and log. The runtime
  # libraries stay (apt-get autoremove would take them, and anything else nobody needs).
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq stylefarm >/dev/null
  say "purged the stylefarm package (worker.env, /var/lib/stylefarm-worker, the log; its keys deleted)"
fi
REMOTE
  if ((insecure == 0)); then
    bin="$(head_bin)"
    if "$bin" keys --help 2>&1 | grep -qE "^ +revoke "; then
      # Revoking is idempotent; a coordinator that still has a session for the key ends it.
      say "$("$bin" keys revoke "$name" --data "$data")"
    else
      # A stylefarm from before `keys revoke`: the allow-list is the files in this folder.
      if rm "$data/authorized_keys/workers/$name.key" 2>/dev/null; then
        say "revoked its key: removed $data/authorized_keys/workers/$name.key (this stylefarm has no 'keys revoke')"
      else
        say "its key is not authorised in $data: nothing to revoke"
      fi
    fi
  fi
  ((reached)) || exit 1
  say "removed"
  exit 0
fi

# --- adding a node ---------------------------------------------------------------------------
[ -n "$join" ] || die "--join tcp://HEAD:PORT is required"
if ((insecure)); then
  [ -z "$keys" ] || die "--insecure and --keys contradict each other"
else
  { [ -n "$keys" ] && [ -n "$data" ]; } || die "give --keys DIR --data DIR (the coordinator's keys and data folders), or --insecure"
  [ -f "$keys/coordinator.key" ] || die "no $keys/coordinator.key (stylefarm keys generate coordinator --dir $keys)"
  [ -d "$data" ] || die "no coordinator data folder $data"
fi
if [ -z "$deb" ]; then
  # The newest package in dist/ (package.sh names them stylefarm_<version>_amd64.deb: no spaces).
  # shellcheck disable=SC2012
  deb="$(ls -t "$here"/../dist/stylefarm_*_amd64.deb 2>/dev/null | head -1 || true)"
  [ -n "$deb" ] || die "no package in dist/ (scripts/package.sh builds it) and no --deb"
fi
[ -f "$deb" ] || die "no package at $deb"
version="$(dpkg-deb -f "$deb" Version)"

# 1. What the node has.
probe="$(remote_root "NAME=$(q "$name")" <<'REMOTE'
arch="$(dpkg --print-architecture 2>/dev/null || echo unknown)"
echo "arch=$arch"
echo "debian=$(cat /etc/debian_version 2>/dev/null || echo none)"
echo "installed=$(dpkg-query -W -f '${Version}' stylefarm 2>/dev/null | grep . || echo none)"
echo "pid1=$(cat /proc/1/comm 2>/dev/null || echo unknown)"
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -d /run/systemd/system ]; then echo "init=systemd"; else echo "init=none"; fi
echo "nproc=$(nproc)"
REMOTE
)" || die "cannot run commands on $target as root over ssh (is USER root, or has sudo without a password?)"
get() { sed -n "s/^$1=//p" <<<"$probe"; }
[ "$(get arch)" = amd64 ] || die "the node's architecture is $(get arch); the package is for amd64"
say "found: Debian $(get debian), stylefarm $(get installed), PID 1 is $(get pid1), $(get nproc) cores"
installed="$(get installed)"
threads="${threads:-$(get nproc)}"

# 2. The files it needs from here: the package only if it lacks this version.
staging="$(ssh "${ssh_opts[@]}" "$target" 'd="$(mktemp -d /tmp/stylefarm-add-node.XXXXXX)" && chmod 0755 "$d" && echo "$d"')"
# shellcheck disable=SC2029  # the staging folder's name is known here, quoted with q
cleanup_remote() { ssh "${ssh_opts[@]}" "$target" "rm -rf $(q "$staging")" 2>/dev/null || true; }
trap cleanup_remote EXIT
if [ "$installed" = "$version" ]; then
  say "stylefarm $version is already installed: not copying or reinstalling it"
else
  say "copying $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
  scp -q "${ssh_opts[@]}" "$deb" "$target:$staging/"
fi
((insecure)) || scp -q "${ssh_opts[@]}" "$keys/coordinator.key" "$target:$staging/coordinator.key"

# 3. On the node: the package, its key pair, the coordinator's key, worker.env. Prints the
#    node's public key (never the secret) and what changed.
if ((insecure)); then key_args="--insecure"; else
  key_args="--key /etc/stylefarm/keys/$name.key_secret --server-key /etc/stylefarm/keys/coordinator.key"
fi
env_file="$(
  echo "# Written by deploy/add-node.sh; read by stylefarm-worker.service and /usr/lib/stylefarm/supervise-worker."
  echo "STYLEFARM_JOIN=$join"
  echo "STYLEFARM_THREADS=$threads"
  echo "STYLEFARM_NAME=$name"
  echo "STYLEFARM_KEY_ARGS=\"$key_args\""
  for kv in "${extra_env[@]}"; do echo "$kv"; done
)"
configured="$(remote_root "NAME=$(q "$name")" "STAGING=$(q "$staging")" "VERSION=$(q "$version")" \
  "DEB=$(q "$(basename "$deb")")" "INSECURE=$insecure" "ENV_B64=$(base64 -w0 <<<"$env_file")" <<'REMOTE'
set -euo pipefail
ENV_FILE="$(base64 -d <<<"$ENV_B64")"
say() { echo "add-node: $NAME: $*" >&2; }
changed=()
export DEBIAN_FRONTEND=noninteractive
if [ "$(dpkg-query -W -f '${Version}' stylefarm 2>/dev/null || true)" != "$VERSION" ]; then
  # The package brings its runtime libraries from the node's apt sources. Package lists are
  # fetched only when there are none, or when the install fails without fresh ones.
  if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
    say "no apt package lists here: apt-get update"
    apt-get update -qq >&2
  fi
  say "apt-get install ./$DEB"
  if ! apt-get install -y -qq --allow-downgrades "$STAGING/$DEB" >"$STAGING/apt.log" 2>&1; then
    say "apt-get install failed (above); apt-get update and again"
    tail -n 5 "$STAGING/apt.log" >&2
    apt-get update -qq >&2
    apt-get install -y -qq --allow-downgrades "$STAGING/$DEB" >"$STAGING/apt.log" 2>&1 || { tail -n 20 "$STAGING/apt.log" >&2; exit 1; }
  fi
  say "installed stylefarm $VERSION (packages set up: $(grep -c "^Setting up" "$STAGING/apt.log"))"
  changed+=(package)
fi
install -d -m 0755 /etc/stylefarm
install -d -m 0750 -o root -g stylefarm /etc/stylefarm/keys
if [ "$INSECURE" = 0 ]; then
  if [ -f "/etc/stylefarm/keys/$NAME.key" ] && [ -f "/etc/stylefarm/keys/$NAME.key_secret" ]; then
    say "its key pair exists: kept"
  else
    stylefarm keys generate "$NAME" --dir /etc/stylefarm/keys >/dev/null
    say "generated its key pair in /etc/stylefarm/keys ($NAME.key_secret stays here)"
    changed+=(key)
  fi
  chown stylefarm:stylefarm "/etc/stylefarm/keys/$NAME.key_secret"; chmod 0600 "/etc/stylefarm/keys/$NAME.key_secret"
  chmod 0644 "/etc/stylefarm/keys/$NAME.key"
  if cmp -s "$STAGING/coordinator.key" /etc/stylefarm/keys/coordinator.key; then
    say "the coordinator's public key is in place"
  else
    install -m 0644 "$STAGING/coordinator.key" /etc/stylefarm/keys/coordinator.key
    say "installed the coordinator's public key"; changed+=(server-key)
  fi
fi
if [ "$(cat /etc/stylefarm/worker.env 2>/dev/null)" = "$ENV_FILE" ]; then
  say "/etc/stylefarm/worker.env is as it should be"
else
  printf '%s\n' "$ENV_FILE" >/etc/stylefarm/worker.env.new && chmod 0644 /etc/stylefarm/worker.env.new
  mv /etc/stylefarm/worker.env.new /etc/stylefarm/worker.env
  say "wrote /etc/stylefarm/worker.env"; changed+=(settings)
fi
echo "changed=${changed[*]:-}"
[ "$INSECURE" = 1 ] || echo "public_key=$(base64 -w0 "/etc/stylefarm/keys/$NAME.key")"
REMOTE
)" || die "setting up the node failed (above)"
changed="$(sed -n 's/^changed=//p' <<<"$configured")"

# 4. Authorise the node's public key here.
if ((insecure == 0)); then
  tmp="$(mktemp -d)"; trap 'cleanup_remote; rm -rf "$tmp"' EXIT
  sed -n 's/^public_key=//p' <<<"$configured" | base64 -d >"$tmp/$name.key"
  [ -s "$tmp/$name.key" ] || die "did not get the node's public key back"
  if cmp -s "$tmp/$name.key" "$data/authorized_keys/workers/$name.key"; then
    say "its public key is already authorised as a worker in $data"
  else
    [ ! -e "$data/authorized_keys/workers/$name.key" ] || say "replacing the key authorised for $name (the node has a new key pair)"
    "$(head_bin)" keys authorize "$tmp/$name.key" --data "$data" --role worker >/dev/null
    say "authorised its public key as a worker in $data"
    changed="${changed:+$changed }authorised"
  fi
fi

# 5. Start the worker, or leave a running one alone when nothing changed.
remote_root "NAME=$(q "$name")" "CHANGED=$(q "$changed")" <<'REMOTE' || die "starting the worker failed (above)"
set -euo pipefail
say() { echo "add-node: $NAME: $*" >&2; }
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if systemctl is-active --quiet stylefarm-worker; then
    if [ -n "$CHANGED" ]; then
      say "restarting the worker (changed: $CHANGED; SIGTERM hands its task back first)"
      systemctl restart stylefarm-worker
    else
      say "the worker is running (systemd): not restarted"
    fi
    systemctl enable --quiet stylefarm-worker
  else
    systemctl enable --now --quiet stylefarm-worker
    say "started the worker: systemctl enable --now stylefarm-worker (journalctl -u stylefarm-worker)"
  fi
  if [ -n "$CHANGED" ] || [ "$(systemctl show -p NRestarts --value stylefarm-worker)" != 0 ]; then
    sleep 3
    systemctl is-active --quiet stylefarm-worker || { say "the worker does not stay up:"; journalctl -u stylefarm-worker -n 20 --no-pager >&2; exit 1; }
  fi
else
  sup=/usr/lib/stylefarm/supervise-worker log=/var/log/stylefarm-worker.log
  # Started or restarted: make sure the worker stays up for a few seconds.
  check_up() {
    local before="$1"; sleep 3
    if tail -n +"$((before + 1))" "$log" 2>/dev/null | grep -q 'worker exited'; then
      say "the worker exited right after starting (the supervisor keeps retrying); its log:"
      tail -n 20 "$log" | sed 's/^/    /' >&2; exit 1
    fi
  }
  lines=0; [ ! -f "$log" ] || lines="$(wc -l <"$log")"
  if $sup status >/dev/null 2>&1; then
    if [ -n "$CHANGED" ]; then
      say "restarting the supervised worker (changed: $CHANGED; SIGTERM hands its task back first)"
      $sup restart >&2; check_up "$(wc -l <"$log")"
    elif tail -n 50 "$log" 2>/dev/null | grep 'supervise-worker\[' | tail -n 1 | grep -q 'worker exited'; then
      say "the supervisor is running but the worker keeps exiting; its log:"
      tail -n 20 "$log" | sed 's/^/    /' >&2; exit 1
    else
      say "the supervised worker is running: not restarted ($($sup status))"
    fi
  else
    say "systemd is not PID 1 here (PID 1 is $(cat /proc/1/comm 2>/dev/null || echo unknown)): starting the worker under $sup, which restarts it after a crash; it does not start again at boot (run '$sup start' from the host's boot scripts)"
    $sup start >&2; check_up "$lines"
  fi
fi
REMOTE
if [ -z "$changed" ]; then
  say "nothing changed: it was already set up and running"
else
  say "done (changed: $changed); the worker joins $join as '$name'"
fi
