#!/usr/bin/env bash
# Tiny real captures for the foundation tests (sniffing, provenance, CLI `info`):
# one HTTP request over loopback, captured by tcpdump (pcap) and by dumpcap (pcapng).
# Needs root (capturing on lo), tcpdump and tshark's dumpcap.  Re-run to regenerate.
set -euo pipefail
out="$(cd "$(dirname "$0")/../../basic" && pwd)"
port=58080
tmp=$(mktemp -d /tmp/fx-basic.XXXX)
trap 'kill $srv $cap1 $cap2 2>/dev/null || true; rm -rf "$tmp"' EXIT
echo "hello from the forensics sample server" > "$tmp/index.html"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$tmp" >/dev/null 2>&1 & srv=$!
tcpdump -i lo -n -U -w "$out/loopback_http.pcap" "tcp port $port" 2>/dev/null & cap1=$!
dumpcap -q -i lo -f "tcp port $port" -w "$out/loopback_http.pcapng" 2>/dev/null & cap2=$!
sleep 2
python3 - "$port" <<'PY'
import sys, urllib.request
for _ in range(2):
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/index.html").read()
PY
sleep 1
kill -INT $cap1 $cap2; wait $cap1 $cap2 2>/dev/null || true
ls -l "$out"
