#!/usr/bin/env bash
# Regenerates docs/images/pr-comment.png, the picture of the pull-request comment in docs/ci.md:
# commits examples/pr-comment/base as main, lays examples/pr-comment/head over it, runs
# `meshform diff --format markdown` there and renders the comment as GitHub shows it with
# scripts/render-comment.mjs (headless Chromium).
#
#   scripts/render-comment.sh [OUT.png]
#
# MESHFORM names the binary (target/debug/meshform by default), HEIGHT the height of the crop
# in pixels (1500), COMMENT a file to keep the markdown in.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
meshform=${MESHFORM:-$root/target/debug/meshform}
out=${1:-$root/docs/images/pr-comment.png}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

repo=$tmp/repo
mkdir -p "$repo"
cp -R "$root/examples/pr-comment/base/." "$repo/"
git -C "$repo" init -q -b main
git -C "$repo" add -A
GIT_AUTHOR_DATE=2026-01-05T10:00:00Z GIT_COMMITTER_DATE=2026-01-05T10:00:00Z \
  git -C "$repo" -c user.name=example -c user.email=example@example.com \
  commit -q -m base
cp -R "$root/examples/pr-comment/head/." "$repo/"

comment=${COMMENT:-$tmp/comment.md}
(cd "$repo" && "$meshform" diff --format markdown --color never) > "$comment"
node "$root/scripts/render-comment.mjs" "$comment" "$out" "${HEIGHT:-1500}"
