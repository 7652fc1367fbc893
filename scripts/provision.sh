#!/usr/bin/env bash
# The system tools the test suite needs, checked before `npm test` (its pretest) and by .ci/run:
#   - an ffmpeg 5 or newer with its ffprobe (FFMPEG_PATH / FFPROBE_PATH, else the ones on PATH);
#     `npm start` alone runs on the npm-shipped 4.1 build, but the suite compares against a full one
#   - Debian's Chromium at /usr/bin/chromium, for the browser tests (never a downloaded browser)
# What is missing is installed with apt-get when this runs as root; otherwise it stops at once
# and prints the exact command. When everything is present it answers from a stamp of the
# binaries (path, size, mtime, inode) without starting them, so a repeated run costs a few ms.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
MIN_FFMPEG=5
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STAMP="${VIDEOFORGE_PROVISION_STAMP:-$ROOT/node_modules/.cache/videoforge/provision.stamp}"

say() { printf 'provision: %s\n' "$*" >&2; }

ffmpeg_bin() { if [[ -n "${FFMPEG_PATH:-}" ]]; then printf '%s' "$FFMPEG_PATH"; else command -v ffmpeg || true; fi; }
ffprobe_bin() {
  if [[ -n "${FFPROBE_PATH:-}" ]]; then printf '%s' "$FFPROBE_PATH"
  elif [[ -n "${FFMPEG_PATH:-}" ]]; then printf '%s' "${FFMPEG_PATH%ffmpeg}ffprobe"
  else command -v ffprobe || true; fi
}

# One line per binary; any change (an upgrade, a removal, another PATH) misses the stamp.
stamp_of() {
  local bin
  for bin in "$(ffmpeg_bin)" "$(ffprobe_bin)" "$CHROMIUM"; do
    [[ -n "$bin" && -x "$bin" ]] || return 1
    stat -L -c '%n %s %Y %i' "$bin" || return 1
  done
}

# Sets `missing` (Debian package names) and `problems` (what is wrong, for a person).
# An ffmpeg named by FFMPEG_PATH is the user's choice: apt-get cannot fix it, so it is only reported.
check() {
  missing=()
  problems=()
  chosen=0
  local ffmpeg ffprobe version major
  ffmpeg="$(ffmpeg_bin)"
  ffprobe="$(ffprobe_bin)"
  if [[ -z "$ffmpeg" ]] || ! version="$("$ffmpeg" -version 2>/dev/null | head -n1)"; then
    missing+=(ffmpeg)
    problems+=("no ffmpeg${FFMPEG_PATH:+ at FFMPEG_PATH=$FFMPEG_PATH} (5 or newer, with ffprobe)")
  else
    major="$(sed -nE 's/^ffmpeg version n?([0-9]+)\..*/\1/p' <<<"$version")"
    # a git build says no version number: trust it, unless it is the npm fallback (a 2018 build)
    if [[ "$ffmpeg" == *@ffmpeg-installer* ]]; then
      missing+=(ffmpeg)
      problems+=("$ffmpeg is the npm-shipped ffmpeg (4.1, 2018): enough for npm start, not for the suite")
    elif [[ -n "$major" && "$major" -lt "$MIN_FFMPEG" ]]; then
      missing+=(ffmpeg)
      problems+=("$ffmpeg is ffmpeg $major; $MIN_FFMPEG or newer is needed")
    elif [[ -z "$ffprobe" ]] || ! "$ffprobe" -version >/dev/null 2>&1; then
      missing+=(ffmpeg)
      problems+=("no ffprobe${ffprobe:+ at $ffprobe} for $ffmpeg")
    fi
  fi
  if [[ -n "${FFMPEG_PATH:-}${FFPROBE_PATH:-}" && " ${missing[*]} " == *" ffmpeg "* ]]; then
    chosen=1
    problems+=("FFMPEG_PATH/FFPROBE_PATH choose the ffmpeg: point them at an ffmpeg $MIN_FFMPEG or newer and its ffprobe, or unset them")
  fi
  if [[ ! -x "$CHROMIUM" ]] || ! "$CHROMIUM" --version >/dev/null 2>&1; then
    missing+=(chromium)
    problems+=("no Chromium at $CHROMIUM")
  fi
}

# fast path: nothing changed since the last full check passed
if now="$(stamp_of 2>/dev/null)" && [[ -f "$STAMP" && "$(cat "$STAMP")" == "$now" ]]; then
  exit 0
fi

check
if ((chosen)); then
  for problem in "${problems[@]}"; do say "$problem"; done
  exit 1
fi
if ((${#missing[@]})); then
  install_cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    for problem in "${problems[@]}"; do say "$problem"; done
    if command -v apt-get >/dev/null 2>&1; then
      say "install with:  sudo sh -c '$install_cmd'"
    else
      say "install ffmpeg $MIN_FFMPEG or newer (with ffprobe) and Chromium at $CHROMIUM with your system's package manager"
    fi
    say "then run npm test again"
    exit 1
  fi
  say "installing ${missing[*]} with apt-get (root)…"
  log="$(mktemp)"
  apt-get update -qq >"$log" 2>&1 || say "apt-get update failed; trying the package lists already here"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -f "$log"
    say "apt-get could not install ${missing[*]}; run:  $install_cmd"
    exit 1
  fi
  rm -f "$log"
  check
  if ((${#missing[@]})); then
    say "still missing after apt-get: ${problems[*]}"
    exit 1
  fi
  say "installed: $("$(ffmpeg_bin)" -version | head -n1 | cut -d' ' -f1-3); $("$CHROMIUM" --version 2>/dev/null)"
fi

mkdir -p "$(dirname "$STAMP")"
stamp_of >"$STAMP"
