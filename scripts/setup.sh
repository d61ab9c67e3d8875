#!/usr/bin/env bash
# Installs what schedc needs on Debian 12: clang (builds BPF objects) and, for
# the tests and `schedc bench`, QEMU, busybox, stress-ng and rt-tests
# (cyclictest, hackbench): boot sched_ext kernels, load and measure them. Rust comes from rustup. Safe to run again.
set -euo pipefail

packages=(clang-19 llvm-19 libelf-dev zlib1g-dev pkg-config qemu-system-x86 busybox-static stress-ng rt-tests)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi
command -v cargo >/dev/null || {
    echo "cargo not found: install Rust with rustup (https://rustup.rs) and run this again." >&2
    exit 1
}
