#!/usr/bin/env bash
# Device emulation for tests/test_devices.py and bench/devices.py: qemu-user runs arm64 (and
# x86-64 on an older CPU model) binaries, debootstrap builds the devices' Debian roots.
# Idempotent: installs what is missing, mounts binfmt_misc, enables qemu-aarch64. Needs root.
# Fails loudly: the device tests must fail, never skip, where emulation cannot be set up.
set -euo pipefail

die() { echo "emulation: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (apt-get, mount, chroot)"

need=()
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
command -v qemu-x86_64-static >/dev/null || need+=(qemu-user-static)
command -v update-binfmts >/dev/null || need+=(binfmt-support)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  echo "emulation: apt-get install ${need[*]}"
  apt-get update -q >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    $(printf '%s\n' "${need[@]}" | sort -u) >/dev/null || die "apt-get install ${need[*]} failed"
fi

misc=/proc/sys/fs/binfmt_misc
if [ ! -e "$misc/register" ]; then
  mount -t binfmt_misc binfmt_misc "$misc" || die "cannot mount binfmt_misc on $misc"
fi
if [ ! -e "$misc/qemu-aarch64" ]; then
  update-binfmts --enable qemu-aarch64 || die "update-binfmts --enable qemu-aarch64 failed"
fi
# The kernel must open the interpreter at registration (flag F): a chroot has no qemu of its own.
grep -q '^flags:.*F' "$misc/qemu-aarch64" || die "qemu-aarch64 is registered without flag F"
grep -q '^enabled' "$misc/qemu-aarch64" || die "qemu-aarch64 is registered but disabled"

unshare --mount --propagation private true || die "cannot create a mount namespace (unshare -m)"
echo "emulation: qemu-aarch64 enabled ($(qemu-aarch64-static --version | head -1))"
