#!/usr/bin/env bash
# Installs what the tests need and a fresh machine lacks: sipp (Debian's
# sip-tester, which also ships the RFC 4733 DTMF pcaps the tests replay).
set -euo pipefail
if command -v sipp >/dev/null && [ -e /usr/share/sip-tester/dtmf_2833_1.pcap ]; then
  exit 0
fi
echo "installing sip-tester (sipp) for the tests..." >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq sip-tester >/dev/null
command -v sipp >/dev/null
