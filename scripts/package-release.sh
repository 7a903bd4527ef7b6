#!/usr/bin/env bash
# Packs one release asset: OUT_DIR/meshform-TAG-TARGET.tar.gz and its .sha256 (sha256sum's
# format, so `sha256sum -c` checks it from OUT_DIR). .github/workflows/release.yml runs it for
# each target; it runs the same on any Linux machine with GNU tar:
#
#   scripts/package-release.sh BINARY TAG TARGET [OUT_DIR]
#   scripts/package-release.sh target/release/meshform v0.1.0 x86_64-unknown-linux-musl dist
#
# The archive holds, at its top level (no enclosing directory):
#   meshform                  the binary
#   README.md
#   completions/              meshform.bash, _meshform (zsh), meshform.fish, meshform.elv,
#                             _meshform.ps1
#   man/                      meshform.1 and one page per subcommand (meshform-render.1, …)
# Completions and man pages are written by BINARY itself, so it must run on this machine.
# The archive is reproducible: names sorted, owner and group 0, every mtime SOURCE_DATE_EPOCH
# (default: the last commit's time), gzip without a timestamp. PACKAGE_GZIP_LEVEL (1-9,
# default 9) trades size for time, for tests that pack a debug binary.
set -euo pipefail

usage() {
  echo "usage: $0 BINARY TAG TARGET [OUT_DIR]" >&2
  exit 2
}
if [ "$#" -lt 3 ] || [ "$#" -gt 4 ]; then usage; fi
bin=$1 tag=$2 target=$3 out=${4:-dist}
[ -x "$bin" ] || { echo "error: $bin is not an executable file" >&2; exit 2; }
case "${PACKAGE_GZIP_LEVEL:-9}" in
  [1-9]) ;;
  *) echo "error: PACKAGE_GZIP_LEVEL must be 1 to 9" >&2; exit 2 ;;
esac
case "$tag$target" in
  */* | *' '* | '') echo "error: TAG and TARGET must be plain names" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
name="meshform-$tag-$target"
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/completions" "$stage/man"
cp "$bin" "$stage/meshform"
chmod 0755 "$stage/meshform"
cp "$root/README.md" "$stage/README.md"
"$bin" completions bash >"$stage/completions/meshform.bash"
"$bin" completions zsh >"$stage/completions/_meshform"
"$bin" completions fish >"$stage/completions/meshform.fish"
"$bin" completions elvish >"$stage/completions/meshform.elv"
"$bin" completions powershell >"$stage/completions/_meshform.ps1"
"$bin" man --dir "$stage/man"

mkdir -p "$out"
out=$(cd "$out" && pwd)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  --mode='u+rwX,go+rX,go-w' -C "$stage" -cf - README.md completions man meshform \
  | gzip "-${PACKAGE_GZIP_LEVEL:-9}" -n >"$out/$name.tar.gz"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
echo "$out/$name.tar.gz"
