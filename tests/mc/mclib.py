"""Shared helpers of the multichannel tests (tests/mc/).

  Server      an smb3d with its own temp dir (config, smbpasswd, share, log,
              control socket), optionally started inside a network namespace
              with `ip netns exec NS`; stopped by its PID.
  Results     counts passed/failed checks and prints the final
              "N passed, N failed" line.

Environment:
  SMB3D_BUILD   build directory holding src/smb3d (or smb3d), tools/smb3ctl and
                tools/smb3c/smb3c (default: build-mc, then build)
  SMB3C         path of the smb3c binary (default: BUILD/tools/smb3c/smb3c)
  SMB3D_KEEP=1  keep temp dirs (debugging)
Must run as root with /usr/bin/python3 (impacket is a Debian package).
"""

import atexit
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEEP = os.environ.get("SMB3D_KEEP", "") == "1"

USER1 = ("smb3test1", "Passw0rd-One")
USER2 = ("smb3test2", "Passw0rd-Two")


def _find(build, *cands):
    for c in cands:
        p = os.path.join(build, c)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def build_dir():
    env = os.environ.get("SMB3D_BUILD")
    if env:
        return os.path.abspath(env)
    for b in ("build-mc", "build"):
        p = os.path.join(ROOT, b)
        if _find(p, "src/smb3d", "smb3d"):
            return p
    return os.path.join(ROOT, "build")


BUILD = build_dir()


def smb3d_bin():
    return _find(BUILD, "src/smb3d", "smb3d")


def smb3ctl_bin():
    return _find(BUILD, "tools/smb3ctl", "smb3ctl")


def smb3c_bin():
    env = os.environ.get("SMB3C")
    if env:
        return env if os.access(env, os.X_OK) else None
    return _find(BUILD, "tools/smb3c/smb3c", "smb3c")


def log(msg=""):
    print(msg, flush=True)


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []
        self.t0 = time.time()

    def check(self, ok, name, detail=""):
        t = "[%5.1fs] " % (time.time() - self.t0)
        if ok:
            self.passed += 1
            log("PASS  %s%s" % (t, name))
        else:
            self.failed += 1
            self.failures.append(name)
            log("FAIL  %s%s%s" % (t, name, (": " + detail) if detail else ""))
        return ok

    def finish(self):
        if self.failures:
            log("failed: " + ", ".join(self.failures))
        log("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def ensure_unix_user(name):
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        pass
    r = subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", name],
                       capture_output=True, text=True)
    if r.returncode not in (0, 9):
        raise RuntimeError("useradd %s failed: %s" % (name, r.stderr))
    return pwd.getpwnam(name).pw_uid


def netns_prefix(ns):
    return ["ip", "netns", "exec", ns] if ns else []


_live = []


def _cleanup_all():
    for s in list(_live):
        try:
            s.cleanup()
        except Exception:
            pass


atexit.register(_cleanup_all)


def _on_signal(signum, frame):
    _cleanup_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


class Server:
    """smb3d in a temp dir.  global_opts override the defaults."""

    def __init__(self, port, global_opts=None, users=(USER1, USER2), netns=None,
                 log_level=3):
        _live.append(self)
        self.port = port
        self.netns = netns
        self.proc = None
        self.logf = None
        self.tmp = tempfile.mkdtemp(prefix="smb3d-mc-")
        os.chmod(self.tmp, 0o755)
        self.conf = os.path.join(self.tmp, "smb.conf")
        self.passdb = os.path.join(self.tmp, "private", "smbpasswd")
        self.ctl_sock = os.path.join(self.tmp, "ctl.sock")
        self.log_path = os.path.join(self.tmp, "server.log")
        self.share = os.path.join(self.tmp, "shares", "share")
        for d in ("private", "shares", "shares/share"):
            os.makedirs(os.path.join(self.tmp, d), exist_ok=True)
        os.chmod(os.path.join(self.tmp, "private"), 0o700)
        os.chmod(self.share, 0o777)
        g = {
            "smb ports": str(port),
            "interfaces": "lo",
            "bind interfaces only": "yes",
            "server multi channel support": "yes",
            "passdb backend": "smbpasswd:" + self.passdb,
            "control socket": self.ctl_sock,
            "server min protocol": "SMB2_02",
            "log level": str(log_level),
        }
        g.update(global_opts or {})
        lines = ["[global]"] + ["\t%s = %s" % kv for kv in g.items()]
        lines += ["[share]", "\tpath = " + self.share, "\tread only = no"]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.client_conf = os.path.join(self.tmp, "client.conf")
        with open(self.client_conf, "w") as f:
            f.write("[global]\n\tclient min protocol = SMB2_02\n")
        open(self.passdb, "w").close()
        os.chmod(self.passdb, 0o600)
        for name, pw in users:
            uid = ensure_unix_user(name)
            r = subprocess.run([smb3ctl_bin(), "-c", self.conf, "user", "add", name,
                                "--uid", str(uid), "-s"], input="%s\n%s\n" % (pw, pw),
                               capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                raise RuntimeError("smb3ctl user add %s: %s%s" % (name, r.stdout, r.stderr))

    def start(self, wait_addr="127.0.0.1"):
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(netns_prefix(self.netns) + [smb3d_bin(), "-c", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, cwd=self.tmp,
                                     start_new_session=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            if self.netns:
                r = subprocess.run(netns_prefix(self.netns) + ["ss", "-Hltn", "sport = :%d" % self.port],
                                   capture_output=True, text=True)
                if r.stdout.strip():
                    return
            else:
                try:
                    with socket.create_connection((wait_addr, self.port), timeout=0.5):
                        return
                except OSError:
                    pass
            time.sleep(0.1)
        rc = self.proc.poll()
        tail = self.log_tail()
        self.stop()
        raise RuntimeError("smb3d did not start on port %d (rc=%s)\n%s" % (self.port, rc, tail))

    @property
    def pid(self):
        """PID of smb3d itself (ip netns exec execs it, so the Popen PID is smb3d)."""
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def fd_count(self):
        try:
            return len(os.listdir("/proc/%d/fd" % self.pid))
        except OSError:
            return -1

    def status(self):
        """(rc, text) of `smb3ctl -c CONF status`."""
        r = subprocess.run([smb3ctl_bin(), "-c", self.conf, "status"], capture_output=True,
                           text=True, timeout=20)
        return r.returncode, r.stdout + r.stderr

    def stop(self):
        p = self.proc
        if p is not None:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
            self.proc = None
        if self.logf:
            self.logf.close()
            self.logf = None

    def cleanup(self):
        self.stop()
        if self in _live:
            _live.remove(self)
        if not KEEP and self.tmp and os.path.isdir(self.tmp):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, nbytes=6000):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - nbytes))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_since(self, off):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(off)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def parse_status_counts(text):
    """Counts from the first line of `smb3ctl status`
    ("smb3d V  connections N  sessions N  open files N"), plus the number of
    "channel" lines."""
    d = {}
    m = re.search(r"connections\s+(\d+)\s+sessions\s+(\d+)\s+open files\s+(\d+)", text)
    if m:
        d = {"connections": int(m.group(1)), "sessions": int(m.group(2)), "opens": int(m.group(3))}
    d["channel_lines"] = re.findall(r"^\s+channel\s.*$", text, re.M)
    return d
