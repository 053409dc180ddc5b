#!/usr/bin/env bash
# Debian packages the workbench and its tests use: tshark (the TCP-analysis reference and the
# `tshark` engine) and chromium (the report test opens the HTML in a headless browser).
# Installed only when we are root with apt-get; otherwise a one-line note. Never fails the build:
# the workbench works without them (tests that need them skip with a reason).
# With arguments, installs those packages instead (the Makefile asks for python3-venv when Debian's
# python3 cannot make a venv).
set -u
want=()
if [ $# -gt 0 ]; then
  want=("$@")
else
  command -v tshark   >/dev/null 2>&1 || want+=(tshark)
  command -v chromium >/dev/null 2>&1 || want+=(chromium)
fi
[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "forensics: installing Debian packages: ${want[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # wireshark-common asks whether non-root users may capture; answer it up front.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${want[@]}"; } >/tmp/forensics-apt.log 2>&1; then
    echo "forensics: note: could not install ${want[*]} (see /tmp/forensics-apt.log); tests that need them will be skipped" >&2
  fi
else
  echo "forensics: note: ${want[*]} not found; install with: sudo apt-get install ${want[*]} (the workbench works without; tshark cross-checks are skipped)" >&2
fi
exit 0
