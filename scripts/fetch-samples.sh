#!/usr/bin/env bash
# Fetches the sample images for the demo: photos that scikit-image's wheel ships (public domain
# or CC0, see scikit-image's data/README), pinned by version and sha256. Nothing is committed.
#   scripts/fetch-samples.sh [DIR]      (default $STYLEFARM_HOME/samples, ~/.cache/stylefarm/samples)
# Prints the directory. Idempotent.
set -euo pipefail

version=0.25.2
wheel=scikit_image-0.25.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
sha256=24cc986e1f4187a12aa319f777b36008764e856e5013666a4a83f8df083c2641
files=(chelsea.png hubble_deep_field.jpg ihc.png)

dir="${1:-${STYLEFARM_HOME:-$HOME/.cache/stylefarm}/samples}"
mkdir -p "$dir"
have_all=1
for f in "${files[@]}"; do [ -s "$dir/$f" ] || have_all=0; done
if ((have_all)); then echo "$dir"; exit 0; fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The platform flags pin one exact wheel whatever the local Python is.
python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
  --python-version 3.11 --implementation cp --abi cp311 -d "$tmp" "scikit-image==$version" >&2
actual="$(sha256sum "$tmp/$wheel" | cut -d' ' -f1)"
if [ "$actual" != "$sha256" ]; then
  echo "fetch-samples: $wheel has sha256 $actual, expected $sha256; refusing it" >&2
  exit 1
fi
python3 - "$tmp/$wheel" "$dir" "${files[@]}" <<'PY'
import sys, zipfile, os
wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for name in names:
        data = z.read("skimage/data/" + name)
        tmp = os.path.join(out, name + ".partial")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(out, name))
PY
echo "$dir"
