#!/usr/bin/env bash
# Proves scripts/provision.sh on a machine without ffmpeg and Chromium, without changing this
# one. As root, in a private mount namespace, /usr, /etc and /var get an overlay whose writes
# land in a tmpfs that vanishes with the namespace; there ffmpeg and chromium are removed with
# dpkg. Then:
#   1. provision.sh as a user that is not root stops at once, exit 1, printing the exact command;
#   2. provision.sh as root installs both with apt-get (ffmpeg ≥ 5 with ffprobe, /usr/bin/chromium);
#   3. a second run passes from its stamp in well under a second.
# Arguments after `--` run afterwards in the same namespace, on the freshly installed tools:
#   scripts/provision-fresh.sh -- npm test
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "$(id -u)" != 0 ]]; then
  echo "provision-fresh: needs root (a mount namespace with overlays)" >&2
  exit 1
fi
if [[ -z "${VIDEOFORGE_FRESH_NS:-}" ]]; then
  exec env VIDEOFORGE_FRESH_NS=1 unshare --mount --propagation private "$0" "$@"
fi

step() { printf '\nprovision-fresh: %s\n' "$*"; }
fail() {
  printf 'provision-fresh: FAIL: %s\n' "$*" >&2
  exit 1
}

scratch="$(mktemp -d /tmp/provision-fresh.XXXXXX)"
trap 'cd /; umount -R "$scratch" 2>/dev/null || true; rmdir "$scratch" 2>/dev/null || true' EXIT
mount -t tmpfs -o size=4g tmpfs "$scratch"
for dir in usr etc var; do
  # mounts below the directory (a container's /etc/resolv.conf) would be hidden by the overlay: keep them
  mapfile -t submounts < <(findmnt -rn -o TARGET | grep "^/$dir/" || true)
  for i in "${!submounts[@]}"; do
    keep="$scratch/keep-$dir-$i"
    if [[ -d "${submounts[$i]}" ]]; then mkdir -p "$keep"; else touch "$keep"; fi
    mount --bind "${submounts[$i]}" "$keep"
  done
  mkdir -p "$scratch/$dir/upper" "$scratch/$dir/work"
  mount -t overlay overlay -o "lowerdir=/$dir,upperdir=$scratch/$dir/upper,workdir=$scratch/$dir/work" "/$dir"
  for i in "${!submounts[@]}"; do mount --bind "$scratch/keep-$dir-$i" "${submounts[$i]}"; done
done

step "removing ffmpeg and chromium (inside the namespace only)"
DEBIAN_FRONTEND=noninteractive dpkg --remove --force-depends ffmpeg chromium >/dev/null
hash -r
for tool in ffmpeg ffprobe; do
  if command -v "$tool" >/dev/null; then fail "$tool is still on PATH: $(command -v "$tool")"; fi
done
[[ ! -e /usr/bin/chromium ]] || fail "/usr/bin/chromium is still there"
echo "ffmpeg, ffprobe and /usr/bin/chromium are gone"

stamp="$scratch/provision.stamp"
export VIDEOFORGE_PROVISION_STAMP="$stamp"
unset FFMPEG_PATH FFPROBE_PATH

step "1. as a user that is not root: stops at once with the exact command"
set +e
out="$(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp bash scripts/provision.sh 2>&1)"
code=$?
set -e
printf '%s\n' "$out"
[[ $code == 1 ]] || fail "exit $code, expected 1"
expected="sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends ffmpeg chromium'"
grep -qF "$expected" <<<"$out" || fail "the output does not name the command: $expected"

step "2. as root: installs what is missing"
started=$(date +%s)
bash scripts/provision.sh || fail "provision.sh as root exited $?"
echo "took $(($(date +%s) - started)) s"
hash -r
version="$(ffmpeg -version | head -n1)"
major="$(sed -nE 's/^ffmpeg version n?([0-9]+)\..*/\1/p' <<<"$version")"
[[ -n "$major" && "$major" -ge 5 ]] || fail "ffmpeg after provisioning: $version"
ffprobe -version >/dev/null || fail "no ffprobe after provisioning"
/usr/bin/chromium --version || fail "no chromium after provisioning"
echo "$version"

step "3. again: idempotent and fast"
started=$(date +%s%N)
bash scripts/provision.sh || fail "the second run exited $?"
ms=$((($(date +%s%N) - started) / 1000000))
echo "second run: ${ms} ms"
((ms < 1000)) || fail "the second run took ${ms} ms"

step "PASS"
if [[ "${1:-}" == "--" ]]; then
  shift
  (($#)) || exit 0
  unset VIDEOFORGE_PROVISION_STAMP
  step "running on the provisioned machine: $*"
  "$@"
fi
