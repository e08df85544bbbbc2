"""The Debian sid chroot of the test bench (scripts/sid-chroot.sh builds it):
Samba 4.25's smbtorture and smbd, and the Linux 7.2 UML kernel client.

A program of the chroot runs as
    unshare --mount -- sh -c '<bind the scratch dir; mount /proc>; exec chroot ROOT PROG ...'
so the chroot sees the host's scratch directory (server configs, share
folders, smbtorture --basedir) at the same path.  The mounts live in a private
mount namespace that the kernel tears down with its last process, so they
cannot outlive the run even when the runner is killed; the host's mount table
never changes.

Selection (environment):
  SMB3D_SID_CHROOT   the chroot directory (default /var/cache/smb3d-sid)
  SMB3D_SMBTORTURE   which smbtorture the integration runner drives:
                     "smbtorture" or a PATH (default: the host's, Debian 12's 4.17),
                     "chroot" or "chroot:DIR" (sid's 4.25)
  SMB3D_SAMBA        "chroot" or "chroot:DIR": run Samba's smbd from the chroot
                     for --target samba (default: the host's)
  SMB3D_TORTURE_NETNS  0 = run smbtorture 4.25 in the host's network namespace
                     (default: a private one, see private_netns)
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import tempfile

DEFAULT_ROOT = "/var/cache/smb3d-sid"
MARK = ".smb3d-sid-ok"
ROOT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_SCRIPT = os.path.join(ROOT_DIR, "scripts", "sid-chroot.sh")


def default_root():
    return os.environ.get("SMB3D_SID_CHROOT") or DEFAULT_ROOT


def parse_choice(value):
    """'chroot' / 'chroot:DIR' -> the chroot dir; anything else -> None."""
    if value == "chroot":
        return default_root()
    if value and value.startswith("chroot:"):
        return value[len("chroot:"):] or default_root()
    return None


def missing_reason(root=None):
    """None when the chroot at root is complete, else why it is not usable
    (with the last build failure when there was one)."""
    root = root or default_root()
    if os.geteuid() != 0:
        return "the sid chroot needs root (chroot, mount namespaces)"
    if os.path.isfile(os.path.join(root, MARK)):
        return None
    why = "sid chroot %s is not built (scripts/sid-chroot.sh)" % root
    try:
        with open(root + ".failed") as f:
            why += "; last build: " + f.read().strip()
    except OSError:
        pass
    return why


def info(root=None):
    """The chroot's build record (MARK file) as a dict: smbtorture, uml, built..."""
    out = {}
    try:
        with open(os.path.join(root or default_root(), MARK)) as f:
            for line in f:
                k, _, v = line.strip().partition(" ")
                out[k] = v
    except OSError:
        pass
    return out


def scratch_dir():
    return os.path.realpath(tempfile.gettempdir())


def wrap(argv, root=None, binds=(), proc=True, shm=False):
    """argv of a command that runs argv inside the chroot, with the scratch
    dir (and each dir of binds) visible at the same path.  The caller's
    process-group handling is unaffected: unshare and sh exec into chroot
    and then into the program, so the PID stays the same.  shm: a fresh
    tmpfs on /dev/shm (user-mode Linux keeps its memory file there)."""
    root = os.path.realpath(root or default_root())
    dirs = [scratch_dir()] + [os.path.realpath(b) for b in binds]
    for d in dirs:  # mount points inside the chroot (empty dirs)
        os.makedirs(root + d, exist_ok=True)
    script = 'set -e; r=$1; shift; n=$1; shift\n' \
             'while [ "$n" -gt 0 ]; do mount --bind "$1" "$r$1"; shift; n=$((n-1)); done\n'
    if proc:
        script += 'mount -t proc proc "$r/proc"\n'
    if shm:
        script += 'mount -t tmpfs -o size=4g,mode=1777 tmpfs "$r/dev/shm"\n'
    script += 'exec chroot "$r" "$@"\n'
    return (["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script,
             "sid-chroot", root, str(len(dirs))] + dirs + list(argv))


def run(argv, root=None, **kw):
    return subprocess.run(wrap(argv, root), **kw)


def ensure_user(name, uid, root=None):
    """The unix user name with uid inside the chroot too (smbd there maps
    accounts through the chroot's /etc/passwd)."""
    root = root or default_root()
    with open(os.path.join(root, "etc", "passwd")) as f:
        for line in f:
            if line.split(":", 1)[0] == name:
                return
    r = subprocess.run(["chroot", root, "useradd", "-M", "-N", "-u", str(uid), "-o",
                        "-s", "/usr/sbin/nologin", name], capture_output=True, text=True)
    if r.returncode not in (0, 9):
        raise RuntimeError("useradd %s in %s failed: %s" % (name, root, r.stderr))


CLONE_NEWNET = 0x40000000
_live_netns = set()  # namespaces of private_netns still to delete


def delete_netns(name):
    """Kill the processes in namespace name (by PID), then delete it."""
    pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True,
                          text=True).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    _live_netns.discard(name)


def cleanup_all_netns():
    """For the harness's exit and signal handlers."""
    for name in list(_live_netns):
        delete_netns(name)


@contextlib.contextmanager
def private_netns(name):
    """Run the body in a fresh network namespace NAME (loopback only): this
    thread, and every process it starts, lives there; the previous namespace
    comes back afterwards.  smbtorture blocks transports with iptables
    (source4/torture/smb2/block.c): in here its rules touch nothing else, and
    the server may listen on port 445, where smbtorture's multichannel tests
    connect to the advertised interfaces.  Processes left in the namespace
    are killed by PID, then it is deleted, whatever happened."""
    libc = ctypes.CDLL(None, use_errno=True)
    orig = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
        _live_netns.add(name)
        try:
            subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
                           check=True, capture_output=True)
            fd = os.open("/run/netns/" + name, os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns(%s)" % name)
            finally:
                os.close(fd)
            try:
                yield
            finally:
                if libc.setns(orig, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back to the host namespace")
        finally:
            delete_netns(name)
    finally:
        os.close(orig)
