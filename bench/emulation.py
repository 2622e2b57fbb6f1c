"""Emulated devices: Debian arm64 roots run by qemu-user with a device's CPU and what its kernel
shows about that CPU. Shared by tests/test_devices.py and bench/devices.py.

A root is built once by debootstrap (minbase) and cached under FCLF_DEVICE_CACHE (default
/var/cache/fclf-edge/devices), keyed by its Debian suite and packages; venvs inside it are keyed
by what was installed. Each command runs in its own mount namespace (`unshare --mount`): /proc is
mounted, the profile's /proc/cpuinfo is bound over the real one, /sys is a fake holding only
/sys/devices/system/cpu of a 4-core board (binding the host's /sys crashes onnxruntime's cpuinfo
library, which then reads an x86 topology), and QEMU_CPU picks the core for every arm64 process.
Setup (qemu-user-static, binfmt_misc): .ci/emulation.sh.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("FCLF_DEVICE_CACHE", "/var/cache/fclf-edge/devices"))
MIRROR = "http://deb.debian.org/debian"
LAYOUT = "1"  # bump to rebuild every cached root and venv after changing how they are made
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Profile:
    """One device: its core as qemu names it and as its kernel describes it."""

    name: str
    stands_for: str
    cpu: str  # QEMU_CPU
    suite: str  # Debian suite of its OS; "" for x86-v2, which runs this machine's own Python
    part: int = 0  # MIDR part number: what onnxruntime's cpuinfo reads to name the core
    variant: int = 0
    revision: int = 0
    features: str = ""  # the kernel's Features line on the real board
    bogomips: str = ""
    max_khz: int = 0
    model: str = ""

    def cpuinfo(self) -> str:
        """/proc/cpuinfo as an arm64 kernel on the board prints it (4 cores)."""
        core = (
            "processor\t: {n}\nBogoMIPS\t: {b}\nFeatures\t: {f}\nCPU implementer\t: 0x41\n"
            "CPU architecture: 8\nCPU variant\t: {v:#x}\nCPU part\t: {p:#05x}\n"
            "CPU revision\t: {r}\n\n"
        )
        text = "".join(
            core.format(
                n=n, b=self.bogomips, f=self.features, v=self.variant, p=self.part, r=self.revision
            )
            for n in range(4)
        )
        return text + (f"Model\t\t: {self.model}\n" if self.model else "")


_PI_FEATURES = "fp asimd evtstrm crc32 cpuid"  # BCM2837/BCM2711: no crypto extensions
PROFILES = {
    p.name: p
    for p in (
        Profile(
            "pi3", "Raspberry Pi 3 / Zero 2 W", cpu="cortex-a53", suite="bookworm",
            part=0xD03, variant=0, revision=4, features=_PI_FEATURES, bogomips="38.40",
            max_khz=1_200_000, model="Raspberry Pi 3 Model B Rev 1.2",
        ),
        Profile(
            "jetson-nano", "NVIDIA Jetson Nano", cpu="cortex-a57", suite="bookworm",
            part=0xD07, variant=1, revision=1, bogomips="38.40", max_khz=1_479_000,
            features="fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid",
        ),
        Profile(
            "pi4", "Raspberry Pi 4", cpu="cortex-a72", suite="bookworm",
            part=0xD08, variant=0, revision=3, features=_PI_FEATURES, bogomips="108.00",
            max_khz=1_800_000, model="Raspberry Pi 4 Model B Rev 1.5",
        ),
        Profile(
            "pi5", "Raspberry Pi 5", cpu="cortex-a76", suite="bookworm",
            part=0xD0B, variant=4, revision=1, bogomips="108.00", max_khz=2_400_000,
            features="fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid "
            "asimdrdm lrcpc dcpop asimddp",
            model="Raspberry Pi 5 Model B Rev 1.0",
        ),
    )
}  # fmt: skip
ARM_PROFILES = tuple(PROFILES)
X86_V2 = Profile("x86-v2", "an older x86-64 box without AVX", "Nehalem", "")
NODE_SUITE = "trixie"  # Debian 13: Node 20 from Debian itself

BOOKWORM_PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
TRIXIE_PACKAGES = ("nodejs", "ca-certificates")


class EmulationError(RuntimeError):
    """Emulation cannot be set up here: the device tests fail with this, never skip."""


def check_emulation() -> None:
    """Raise EmulationError unless arm64 binaries run through binfmt_misc (see .ci/emulation.sh)."""
    entry = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
    for tool in ("qemu-aarch64-static", "qemu-x86_64-static", "debootstrap", "unshare", "chroot"):
        if shutil.which(tool) is None:
            raise EmulationError(f"{tool} not found: run `bash .ci/emulation.sh` as root")
    if not entry.exists() or not entry.read_text().startswith("enabled"):
        raise EmulationError("qemu-aarch64 is not enabled in binfmt_misc: run .ci/emulation.sh")
    if os.geteuid() != 0:
        raise EmulationError("device roots need root (debootstrap, mount, chroot)")


def _key(*parts: object) -> str:
    return hashlib.sha256(repr((LAYOUT, *parts)).encode()).hexdigest()[:12]


@contextmanager
def _locked(name: str) -> Iterator[None]:
    """One builder at a time per cache entry (tests and bench may share the cache)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_root(suite: str, packages: Sequence[str] | None = None) -> Path:
    """A Debian `suite` arm64 minbase root with `packages`, built once and cached."""
    check_emulation()
    packages = tuple(packages or (BOOKWORM_PACKAGES if suite == "bookworm" else TRIXIE_PACKAGES))
    path = CACHE / "roots" / f"debian-{suite}-arm64-{_key(suite, packages)}"
    with _locked(path.name):
        if (path / ".complete").exists():
            _host_network(path)
            return path
        shutil.rmtree(path, ignore_errors=True)
        building = path.with_name(path.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        building.parent.mkdir(parents=True, exist_ok=True)
        cmd = ["debootstrap", "--arch=arm64", "--variant=minbase",
               f"--include={','.join(packages)}", suite, str(building), MIRROR]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            log = building / "debootstrap" / "debootstrap.log"
            tail = log.read_text()[-2000:] if log.exists() else proc.stderr[-2000:]
            raise EmulationError(f"debootstrap {suite} failed ({proc.returncode}): {tail}")
        for mount_point in ("src", "work"):
            (building / mount_point).mkdir(exist_ok=True)
        building.rename(path)
        _host_network(path)
        (path / ".complete").write_text(" ".join(packages) + "\n")
    return path


def _host_network(root: Path) -> None:
    """The host's DNS settings and CA bundle (a TLS-inspecting proxy's CA included), so pip and
    apt inside the root reach what the host reaches."""
    for name in ("etc/resolv.conf", "etc/ssl/certs/ca-certificates.crt"):
        host, inside = Path("/") / name, root / name
        if host.exists() and (not inside.exists() or inside.read_bytes() != host.read_bytes()):
            inside.parent.mkdir(parents=True, exist_ok=True)
            inside.unlink(missing_ok=True)
            shutil.copy(host, inside)


def _cpu_view(profile: Profile) -> Path:
    """The profile's /proc/cpuinfo and a /sys with a 4-core /sys/devices/system/cpu."""
    folder = CACHE / "cpu" / f"{profile.name}-{_key(profile)}"
    if (folder / ".complete").exists():
        return folder
    staging = Path(tempfile.mkdtemp(dir=CACHE, prefix=".cpu-"))
    (staging / "cpuinfo").write_text(profile.cpuinfo())
    cpu = staging / "sys" / "devices" / "system" / "cpu"
    cpu.mkdir(parents=True)
    for name in ("possible", "present", "online"):
        (cpu / name).write_text("0-3\n")
    (cpu / "offline").write_text("\n")
    (cpu / "kernel_max").write_text("3\n")
    for n in range(4):
        topology = cpu / f"cpu{n}" / "topology"
        topology.mkdir(parents=True)
        for name, value in (
            ("physical_package_id", "0"),
            ("core_id", str(n)),
            ("core_siblings_list", "0-3"),
            ("thread_siblings_list", str(n)),
            ("package_cpus_list", "0-3"),
            ("core_cpus_list", str(n)),
        ):
            (topology / name).write_text(value + "\n")
        freq = cpu / f"cpu{n}" / "cpufreq"
        freq.mkdir()
        (freq / "cpuinfo_max_freq").write_text(f"{profile.max_khz}\n")
        (freq / "cpuinfo_min_freq").write_text(f"{min(600_000, profile.max_khz)}\n")
    with _locked(folder.name):
        if not (folder / ".complete").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(folder)
            (folder / ".complete").write_text("")
    shutil.rmtree(staging, ignore_errors=True)
    return folder


_ENTER = r"""
set -e
root=$1; view=$2; shift 2
mount -t proc proc "$root/proc"
mount --bind "$view/cpuinfo" "$root/proc/cpuinfo"
mount --rbind /dev "$root/dev"
mount --bind "$view/sys" "$root/sys"
mount -t tmpfs tmpfs "$root/tmp"
while [ "$1" != "--" ]; do
  mkdir -p "$root$2"
  mount --bind "$1" "$root$2"
  if [ "$3" = ro ]; then mount -o remount,bind,ro "$root$2"; fi
  shift 3
done
shift
cd "$root"
exec chroot "$root" "$@"
"""


def command(
    profile: Profile,
    root: Path,
    argv: Sequence[str],
    *,
    binds: Mapping[Path, str] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str = "/",
) -> tuple[list[str], dict[str, str]]:
    """The host command line and environment that run `argv` in `root` as device `profile`.

    Every step execs the next, so the process started becomes the one that runs `argv` (its
    exit status and /proc/PID are argv's). `binds` maps host folders onto paths in the root
    (read-write, except /src: read-only).
    """
    mounts: list[str] = []
    for host, inside in (binds or {}).items():
        mounts += [str(host), inside, "ro" if inside == "/src" else "rw"]
    environment = {
        "PATH": PATH,
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "QEMU_CPU": profile.cpu,  # inherited by every arm64 process started inside
        **(env or {}),
    }
    inner = ["sh", "-c", f'cd "{cwd}" && exec "$@"', "sh", *argv]
    return [
        "unshare", "--mount", "--propagation", "private", "--", "sh", "-c", _ENTER, "enter",
        str(root), str(_cpu_view(profile)), *mounts, "--", *inner,
    ], environment  # fmt: skip


def run(
    profile: Profile,
    root: Path,
    argv: Sequence[str],
    *,
    binds: Mapping[Path, str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    input: str | None = None,
    cwd: str = "/",
) -> subprocess.CompletedProcess[str]:
    """Run `argv` inside `root` as the device `profile` (its core, its /proc/cpuinfo, its /sys);
    stdout and stderr come back as text."""
    cmd, environment = command(profile, root, argv, binds=binds, env=env, cwd=cwd)
    return subprocess.run(
        cmd, capture_output=True, text=True, input=input, env=environment, timeout=timeout
    )


def run_x86_v2(argv: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run this machine's `argv` (argv[0] an x86-64 binary) on qemu's Nehalem: no AVX."""
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        ["qemu-x86_64-static", "-cpu", X86_V2.cpu, *argv], capture_output=True, text=True, **kwargs
    )


def build_wheel(out: Path) -> Path:
    """The project's wheel, built here from a copy of the working tree (pure Python)."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, source / name)
        skip = shutil.ignore_patterns("__pycache__", "node_modules", "*.pyc", "js", "web")
        for name in ("runtime", "train", "export"):
            shutil.copytree(ROOT / name, source / name, ignore=skip)
        pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        proc = subprocess.run(
            [*pip, "-w", str(out), str(source)], capture_output=True, text=True, timeout=300
        )
        if proc.returncode != 0:
            raise EmulationError(f"building the wheel failed: {proc.stderr[-2000:]}")
    (wheel,) = out.glob("fclf_edge-*.whl")
    return wheel


def cross_install(root: Path, name: str, requirements: Sequence[str]) -> str:
    """A venv in `root` holding `requirements`, installed by this machine's pip for the device
    (manylinux aarch64, the root's Python): fast, for the matrix and the known-bad control.
    Returns the venv's path inside the root."""
    inside = f"/opt/venvs/{name}-{_key(requirements)}"
    path = root / inside.lstrip("/")
    with _locked(path.name):
        if (path / ".complete").exists():
            return inside
        shutil.rmtree(path, ignore_errors=True)
        made = run(PROFILES["pi5"], root, ["python3", "-m", "venv", "--without-pip", inside])
        if made.returncode != 0:
            raise EmulationError(f"venv in {root.name} failed: {made.stderr[-1000:]}")
        (site,) = path.glob("lib/python3.*/site-packages")
        version = site.parent.name.removeprefix("python").replace(".", "")
        # This machine's pip, told the device's platform and Python; no pip.conf (its local
        # indexes and constraints are for this machine).
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-compile", "--only-binary=:all:",
             "--platform=manylinux_2_28_aarch64", "--platform=manylinux_2_17_aarch64",
             "--platform=manylinux2014_aarch64", f"--python-version={version}",
             "--implementation=cp", "--target", str(site), "--index-url=https://pypi.org/simple",
             "--cache-dir", str(CACHE / "pip"), *requirements],
            capture_output=True, text=True, timeout=900,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("PIP_")},
                 "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        )  # fmt: skip
        if proc.returncode != 0:
            shutil.rmtree(path, ignore_errors=True)
            raise EmulationError(f"pip install {' '.join(requirements)}: {proc.stderr[-1500:]}")
        (path / ".complete").write_text("\n".join(requirements) + "\n")
    return inside


def wheel_hash(wheel: Path) -> str:
    """sha256 of a wheel's member names and bytes (zip timestamps left out)."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(wheel) as archive:
        for name in sorted(archive.namelist()):
            digest.update(name.encode() + b"\0" + archive.read(name))
    return digest.hexdigest()[:16]


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower()


def _runtime_requirements(wheel: Path) -> dict[str, str]:
    """The wheel's own requirements (no extras), by name: what a device installs."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        lines = archive.read(metadata).decode().splitlines()
    found = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Dist:")]
    return {_name(r): r for r in found if "extra ==" not in r}


def install_project(
    root: Path, profile: Profile, wheel: Path, constraints: Path = ROOT / "constraints.txt"
) -> str:
    """fclf-edge installed as the README tells a device owner: a venv and a plain `pip install`
    of the runtime (no extras), from PyPI inside the device, with the pinned versions.

    The venv is kept per set of pins; when the wheel's content changes, fclf-edge alone is
    reinstalled by the same command (its requirements already met). Returns the venv's path.
    """
    needs = _runtime_requirements(wheel)
    pins = [line for line in constraints.read_text().splitlines() if _name(line) in needs]
    inside = f"/opt/venvs/fclf-edge-{_key(sorted(needs.values()), pins)}"
    path = root / inside.lstrip("/")
    stamp = path / ".installed"
    want = wheel_hash(wheel)
    with _locked(path.name):
        if stamp.exists() and stamp.read_text() == want:
            return inside
        for stale in path.parent.glob("fclf-edge-*"):  # venvs for older pins
            if stale != path:
                shutil.rmtree(stale, ignore_errors=True)
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(wheel, tmp)
            shutil.copy(constraints, Path(tmp) / "constraints.txt")
            steps = [] if path.exists() else [["python3", "-m", "venv", inside]]
            steps += [
                [f"{inside}/bin/pip", "uninstall", "-q", "-y", "fclf-edge"],
                [f"{inside}/bin/pip", "install", "-q", "--disable-pip-version-check",
                 "-c", "/work/constraints.txt", f"/work/{wheel.name}"],
            ]  # fmt: skip
            for step in steps:
                proc = run(profile, root, step, binds={Path(tmp): "/work"}, timeout=1200)
                if proc.returncode != 0 and "uninstall" not in step:
                    raise EmulationError(f"{' '.join(step)} failed: {proc.stderr[-2000:]}")
        stamp.write_text(want)
    return inside


def numpy_for(onnxruntime_version: str) -> str:
    """The numpy an onnxruntime release was built for: numpy 2 from onnxruntime 1.19 on."""
    minor = int(onnxruntime_version.split(".")[1])
    return "numpy==1.26.4" if minor < 19 else "numpy==2.4.6"


def onnxruntime_venv(root: Path, version: str) -> str:
    """A venv in `root` with onnxruntime==`version` and its numpy, and nothing else."""
    requirements = [f"onnxruntime=={version}", numpy_for(version)]
    return cross_install(root, f"onnxruntime-{version}", requirements)
