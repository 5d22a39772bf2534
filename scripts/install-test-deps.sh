#!/usr/bin/env bash
# Installs what the tests need and a fresh machine lacks: sipp (Debian's
# sip-tester, which also ships the RFC 4733 DTMF pcaps the tests replay),
# and espeak-ng and sox, which the in-band DTMF talk-off test uses to make
# minutes of speech.
set -euo pipefail
missing=()
if ! command -v sipp >/dev/null || [ ! -e /usr/share/sip-tester/dtmf_2833_1.pcap ]; then
  missing+=(sip-tester)
fi
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing ${missing[*]} for the tests..." >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
command -v sipp >/dev/null && command -v espeak-ng >/dev/null && command -v sox >/dev/null
