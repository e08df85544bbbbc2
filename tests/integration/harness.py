"""Integration-test harness: start smb3d or Samba's smbd on loopback and drive
real clients (smbclient, smbtorture, impacket) against it.

Selection comes from the environment (tests/run sets it):
  SMB3D_TARGET      smb3d (default) | samba
  SMB3D_IO_BACKEND  io_uring (default) | threads   (smb3d only)
  SMB3D_BUILD       build directory holding smb3d and smb3ctl (default: build)
  SMB3D_LONG        1 = long variants (1 GiB transfers)
  SMB3D_KEEP        1 = keep temp dirs of servers (debugging)
  SMB3D_SMBTORTURE  smbtorture to drive: "smbtorture"/PATH (host, default) or
                    "chroot[:DIR]" (Samba 4.25's, from the sid chroot; see sid.py)
  SMB3D_SAMBA       "chroot[:DIR]": --target samba runs the sid chroot's smbd

Must run with /usr/bin/python3 (impacket is a Debian package).
"""

import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sid  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.environ.get("SMB3D_TARGET", "smb3d")
IO_BACKEND = os.environ.get("SMB3D_IO_BACKEND", "io_uring")
BUILD = os.environ.get("SMB3D_BUILD", os.path.join(ROOT, "build"))
LONG = os.environ.get("SMB3D_LONG", "") == "1"
KEEP = os.environ.get("SMB3D_KEEP", "") == "1"
SMBTORTURE = os.environ.get("SMB3D_SMBTORTURE", "smbtorture")
SAMBA = os.environ.get("SMB3D_SAMBA", "")


def smbtorture_cmd(choice=None):
    """argv prefix that runs the selected smbtorture (SMB3D_SMBTORTURE)."""
    choice = choice or SMBTORTURE
    root = sid.parse_choice(choice)
    return sid.wrap(["smbtorture"], root) if root else [choice]


def smbtorture_version(choice=None):
    r = subprocess.run(smbtorture_cmd(choice) + ["--version"], capture_output=True,
                       text=True, errors="replace", timeout=60)
    return (r.stdout.strip().splitlines() or ["unknown"])[0]

USER1 = ("smb3test1", "Passw0rd-One")
USER2 = ("smb3test2", "Passw0rd-Two")

_live_servers = []
_live_clients = []  # Popen objects of long-running clients (smbtorture), own process groups


def _cleanup_all():
    for p in list(_live_clients):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for s in list(_live_servers):
        try:
            s.stop()
        except Exception:
            pass
    sid.cleanup_all_netns()


atexit.register(_cleanup_all)


def _on_signal(signum, frame):
    _cleanup_all()
    # re-raise default behaviour
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    try:
        signal.signal(_sig, _on_signal)
    except (ValueError, OSError):
        pass


def ensure_unix_user(name):
    """Create a no-login unix user if missing (idempotent); return its uid."""
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        pass
    r = subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", name],
                       capture_output=True, text=True)
    if r.returncode not in (0, 9):  # 9: already exists (race)
        raise RuntimeError("useradd %s failed: %s" % (name, r.stderr))
    return pwd.getpwnam(name).pw_uid


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port, proc, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Server:
    """A server on 127.0.0.1:port with its own temp dir.

    shares: {name: {option: value}}; a share without 'path' gets a fresh
            world-writable folder <tmp>/shares/<name>.
    global_opts: extra [global] options (Samba option names).
    users: [(name, password)] -- unix users are created if missing.
    """

    def __init__(self, kind=None, shares=None, global_opts=None, users=None,
                 port=None, io_backend=None, start=True, samba_root=None):
        self.kind = kind or TARGET
        # Samba from the sid chroot (samba_root, or SMB3D_SAMBA=chroot[:DIR])
        self.samba_root = samba_root or sid.parse_choice(SAMBA)
        if self.kind not in ("smb3d", "samba"):
            raise ValueError("kind must be smb3d or samba")
        self.shares = shares if shares is not None else {"share": {}}
        self.global_opts = dict(global_opts or {})
        self.users = list(users if users is not None else [USER1, USER2])
        self.port = port or free_port()
        self.io_backend = io_backend or IO_BACKEND
        self.proc = None
        self.logf = None
        self.tmp = tempfile.mkdtemp(prefix="smb3d-it-")
        os.chmod(self.tmp, 0o755)
        self.share_paths = {}
        self.conf = os.path.join(self.tmp, "smb.conf")
        self.log_path = os.path.join(self.tmp, "server.log")
        self.passdb = os.path.join(self.tmp, "private", "smbpasswd")
        self.client_conf = os.path.join(self.tmp, "client.conf")
        _live_servers.append(self)
        try:
            self._write_config()
            self._add_users()
            if start:
                self.start()
        except Exception:
            self.stop()
            raise

    # ---------------------------------------------------------------- config
    def _write_config(self):
        t = self.tmp
        for d in ("private", "lock", "state", "cache", "pid", "ncalrpc", "shares", "logs"):
            os.makedirs(os.path.join(t, d), exist_ok=True)
        os.chmod(os.path.join(t, "private"), 0o700)
        os.chmod(os.path.join(t, "shares"), 0o755)
        g = {
            "smb ports": str(self.port),
            "interfaces": "lo",
            "bind interfaces only": "yes",
            "server role": "standalone server",
            "passdb backend": "smbpasswd:" + self.passdb,
            "workgroup": "SMB3DTEST",
            "server min protocol": "SMB2_02",
            "log level": os.environ.get("SMB3D_TEST_LOG_LEVEL", "1"),
        }
        if self.kind == "samba":
            g.update({
                "netbios name": "SMB3DTEST",
                "private dir": os.path.join(t, "private"),
                "lock directory": os.path.join(t, "lock"),
                "state directory": os.path.join(t, "state"),
                "cache directory": os.path.join(t, "cache"),
                "pid directory": os.path.join(t, "pid"),
                "ncalrpc dir": os.path.join(t, "ncalrpc"),
                "log file": os.path.join(t, "logs", "log.%m"),
                "load printers": "no",
                "printcap name": "/dev/null",
                "disable spoolss": "yes",
                "disable netbios": "yes",
                "nmbd bind explicit broadcast": "no",
                "usershare path": "",
                "registry shares": "no",
                "include system krb5 conf": "no",
                "smbd:backgroundqueue": "no",
            })
        else:
            g["io backend"] = self.io_backend
            # Each server its own control socket, so its pid file
            # (<pid directory> = the socket's directory) is its own too.
            g["control socket"] = os.path.join(t, "control.sock")
        g.update(self.global_opts)
        lines = ["[global]"] + ["\t%s = %s" % kv for kv in g.items()]
        for name, opts in self.shares.items():
            opts = dict(opts)
            if "path" not in opts:
                p = os.path.join(t, "shares", name)
                os.makedirs(p, exist_ok=True)
                os.chmod(p, 0o777)
                opts["path"] = p
            self.share_paths[name] = opts["path"]
            opts.setdefault("read only", "no")
            lines.append("[%s]" % name)
            lines += ["\t%s = %s" % kv for kv in opts.items()]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(self.client_conf, "w") as f:
            f.write("[global]\n\tclient min protocol = SMB2_02\n")

    def _add_users(self):
        if not os.path.exists(self.passdb):
            open(self.passdb, "w").close()
            os.chmod(self.passdb, 0o600)
        for name, pw in self.users:
            uid = ensure_unix_user(name)
            if self.kind == "samba":
                cmd = ["smbpasswd", "-c", self.conf, "-a", "-s", name]
                if self.samba_root:
                    sid.ensure_user(name, uid, self.samba_root)
                    cmd = sid.wrap(cmd, self.samba_root)
            else:
                cmd = [os.path.join(BUILD, "smb3ctl"), "-c", self.conf, "user", "add",
                       name, "--uid", str(uid), "-s"]
            r = subprocess.run(cmd, input="%s\n%s\n" % (pw, pw), capture_output=True,
                               text=True, timeout=30)
            if r.returncode != 0:
                raise RuntimeError("adding user %s failed (%s): %s%s"
                                   % (name, " ".join(cmd), r.stdout, r.stderr))

    # ------------------------------------------------------------- lifecycle
    def command(self):
        if self.kind == "samba":
            cmd = ["smbd", "--foreground", "--no-process-group", "--debug-stdout",
                   "-s", self.conf]
            return sid.wrap(cmd, self.samba_root) if self.samba_root else cmd
        return [os.path.join(BUILD, "smb3d"), "-c", self.conf]

    def start(self):
        self.logf = open(self.log_path, "ab")
        env = dict(os.environ)
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     cwd=self.tmp, env=env, start_new_session=True)
        if not _wait_port(self.port, self.proc):
            rc = self.proc.poll()
            log = self.log_tail()
            self._kill()
            raise RuntimeError("%s did not start listening on port %d (rc=%s)\n%s"
                               % (self.kind, self.port, rc, log))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _kill(self):
        p = self.proc
        if p is None:
            return
        # The server runs in its own process group (pgid == its PID), so smbd's
        # forked children are stopped with it.
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        # wait (bounded) for the group's other members to disappear
        for _ in range(50):
            try:
                os.killpg(p.pid, 0)
            except (ProcessLookupError, PermissionError):
                break
            time.sleep(0.05)
        self.proc = None
        self._kill_escaped()
        if self.logf:
            self.logf.close()
            self.logf = None

    def _kill_escaped(self):
        """smbd starts samba-dcerpcd and its rpcd_* helpers in sessions of their
        own, out of reach of the process-group kill: end the ones started with
        this server's config file (they name it on their command line)."""
        if self.kind != "samba" or not self.tmp:
            return
        mark = ("--configfile=" + os.path.join(self.tmp, "smb.conf")).encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if mark in f.read():
                        os.kill(int(pid), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "WARNING: ThreadSanitizer")

    def sanitizer_report(self):
        """The sanitizer findings in the server log (ASan/UBSan builds), or ''."""
        try:
            with open(self.log_path, "rb") as f:
                log = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return log if any(m in log for m in self.SANITIZER_MARKS) else ""

    def stop(self):
        report = ""
        try:
            self._kill()
            if self.kind == "smb3d":
                report = self.sanitizer_report()
        finally:
            if self in _live_servers:
                _live_servers.remove(self)
            if self.tmp and os.path.isdir(self.tmp) and not KEEP:
                shutil.rmtree(self.tmp, ignore_errors=True)
        if report:
            raise AssertionError("sanitizer report from smb3d:\n" + report[-6000:])

    def log_tail(self, nbytes=12000):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - nbytes))
                data = f.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        extra = ""
        if self.kind == "samba":
            # smbd child processes log to log.<machine>; include their tails
            ld = os.path.join(self.tmp, "logs")
            for fn in sorted(os.listdir(ld)) if os.path.isdir(ld) else []:
                try:
                    with open(os.path.join(ld, fn), "rb") as f:
                        extra += "\n--- %s ---\n" % fn + f.read()[-4000:].decode("utf-8", "replace")
                except OSError:
                    pass
        return data + extra

    def path(self, share="share"):
        return self.share_paths[share]

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()

    def __repr__(self):
        return "<Server %s port=%d tmp=%s>" % (self.kind, self.port, self.tmp)


# ------------------------------------------------------------------ clients
def smbclient(server, share, cmds, user=USER1[0], password=USER1[1], protocol=None,
              extra=(), timeout=120, guest=False, cwd=None):
    """Run smbclient against //127.0.0.1/share on the server's port.
    cmds: a string of ';'-separated commands, or a list of them.  Returns (rc, output)."""
    if isinstance(cmds, (list, tuple)):
        cmds = "; ".join(cmds)
    cmd = ["smbclient", "//127.0.0.1/%s" % share, "-p", str(server.port),
           "-s", server.client_conf]
    if guest:
        cmd.append("-N")
    else:
        cmd += ["-U", "%s%%%s" % (user, password)]
    if protocol:
        cmd += ["-m", protocol]
    cmd += list(extra)
    if cmds is not None:
        cmd += ["-c", cmds]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                           errors="replace")
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"")
        if isinstance(out, bytes):
            out = out.decode("utf-8", "replace")
        return 124, out + "\n(smbclient timed out after %ds)" % timeout
    return r.returncode, r.stdout + r.stderr


def _impacket_without_directory_leases():
    """impacket 0.10's SMB3.create() fails on a name in the share root (a
    pipe of IPC$ too) when the server offers directory leases: `parentDir`
    is never set.  It never asks for a lease anyway, so every impacket
    connection (the DCE/RPC transports' included) is told the server has
    none, right after NEGOTIATE."""
    try:
        from impacket import smb3
    except ImportError:
        return
    if getattr(smb3.SMB3, "_smb3d_no_dir_leases", False):
        return
    orig = smb3.SMB3.negotiateSession

    def negotiate(self, *a, **kw):
        r = orig(self, *a, **kw)
        self._Connection["SupportsDirectoryLeasing"] = False
        return r
    smb3.SMB3.negotiateSession = negotiate
    smb3.SMB3._smb3d_no_dir_leases = True


_impacket_without_directory_leases()


def impacket_conn(server, dialect=None, user=USER1[0], password=USER1[1], login=True,
                  timeout=30, require_signing=False, encrypt=None):
    """An impacket SMBConnection logged in as user.

    dialect: None (SMB1 multi-protocol negotiate) or impacket.smb3structs
    SMB2_DIALECT_002 / SMB2_DIALECT_21 / SMB2_DIALECT_30.
    encrypt: None = impacket's default (impacket 0.10 encrypts every 3.0 session
    when the server offers SMB2_GLOBAL_CAP_ENCRYPTION); False = switch that off
    before SESSION_SETUP (the session is then only signed if require_signing).
    require_signing: ask for signing (sets the connection's RequireSigning).
    """
    from impacket.smbconnection import SMBConnection
    conn = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=server.port,
                         preferredDialect=dialect, timeout=timeout)
    inner = getattr(conn, "_SMBConnection", None)
    if inner is not None and hasattr(inner, "_Connection"):
        if require_signing:
            inner._Connection["RequireSigning"] = True
        if encrypt is False:
            inner._Connection["SupportsEncryption"] = False
    if login:
        conn.login(user, password)
    return conn


def impacket_is_encrypted(conn):
    from impacket.smb3structs import SMB2_SESSION_FLAG_ENCRYPT_DATA
    inner = conn._SMBConnection
    return bool(inner._Session["SessionFlags"] & SMB2_SESSION_FLAG_ENCRYPT_DATA)


def impacket_is_signing(conn):
    return bool(conn._SMBConnection._Session["SigningActivated"])


def smbtorture(server, test, share="share", user=USER1[0], password=USER1[1], extra=(),
               timeout=300):
    """Run one smbtorture test (or suite, or a list of them in one process).  Returns (passed, failed, output):
    passed: list of subtest names that succeeded; failed: list of
    (name, kind, reason) for failure/error (and a synthetic entry when the
    process timed out or crashed without reporting)."""
    basedir = os.path.join(server.tmp, "torture")
    os.makedirs(basedir, exist_ok=True)
    cmd = smbtorture_cmd() + [
        "//127.0.0.1/%s" % share, "-p", str(server.port),
        "-U", "%s%%%s" % (user, password), "--format=subunit", "--fullname",
        "-s", server.client_conf, "--basedir=" + basedir,
        "--maximum-runtime=%d" % timeout] + list(extra) + (
               [test] if isinstance(test, str) else list(test))
    timed_out = False
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True)
        _live_clients.append(p)
        try:
            out, _ = p.communicate(timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
        finally:
            _live_clients.remove(p)
        rc = p.returncode
    except OSError as e:
        return [], [(test if isinstance(test, str) else ",".join(test), "error", str(e))], str(e)
    out = out.decode("utf-8", "replace")
    passed, failed, skipped, started = parse_subunit(out)
    open_tests = [t for t in started if t not in passed and t not in skipped
                  and t not in {f[0] for f in failed}]
    for t in open_tests:
        failed.append((t, "error", "no result (timeout=%s rc=%s)" % (timed_out, rc)))
    if timed_out and not open_tests:
        failed.append((test if isinstance(test, str) else ",".join(test), "error",
                       "timed out after %ds" % timeout))
    if not passed and not failed and rc != 0:
        failed.append((test if isinstance(test, str) else ",".join(test), "error",
                       "smbtorture rc=%s without results" % rc))
    return passed, failed, out


def parse_subunit(out):
    """Parse subunit v1 text: 'test: X', 'success: X', 'failure: X [', 'error: X', 'skip: X',
    'xfail: X'.  Bracketed multi-line details are skipped."""
    passed, failed, skipped, started = [], [], [], []
    lines = out.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        for kw in ("test", "testing", "success", "successful", "failure", "fail", "error",
                   "skip", "xfail", "uxsuccess"):
            if line.startswith(kw + ": "):
                rest = line[len(kw) + 2:]
                name, bracket = rest, False
                if rest.endswith(" ["):
                    name, bracket = rest[:-2], True
                elif rest.endswith("["):
                    name, bracket = rest[:-1].rstrip(), True
                reason = ""
                if bracket:
                    buf = []
                    while i < len(lines) and lines[i] != "]":
                        buf.append(lines[i])
                        i += 1
                    i += 1
                    reason = "\n".join(buf).strip()
                name = name.strip()
                if kw in ("test", "testing"):
                    started.append(name)
                elif kw in ("success", "successful", "xfail"):
                    passed.append(name)
                elif kw == "skip":
                    skipped.append(name)
                else:
                    failed.append((name, kw, reason))
                break
    return passed, failed, skipped, started


# ------------------------------------------------------------ unittest glue
class ServerTestCase(unittest.TestCase):
    """Base class: subclasses set `server_args` (a dict of Server kwargs) and get
    cls.server started once per class.  Extra servers made with cls.make_server()
    are stopped in tearDownClass.  The runner prints server logs on failure via
    cls._servers."""

    server_args = {}

    @classmethod
    def setUpClass(cls):
        cls._servers = []
        cls.server = cls.make_server(**cls.server_args)

    @classmethod
    def make_server(cls, **kw):
        if not hasattr(cls, "_servers"):
            cls._servers = []
        s = Server(**kw)
        cls._servers.append(s)
        return s

    @classmethod
    def tearDownClass(cls):
        for s in getattr(cls, "_servers", []):
            s.stop()
        cls._servers = []

    def smb(self, cmds, share="share", server=None, **kw):
        return smbclient(server or self.server, share, cmds, **kw)

    def smb_ok(self, cmds, share="share", server=None, **kw):
        rc, out = self.smb(cmds, share=share, server=server, **kw)
        self.assertEqual(rc, 0, "smbclient %r failed:\n%s" % (cmds, out))
        self.assertNotIn("NT_STATUS_", out.replace("NT_STATUS_OK", ""),
                         "smbclient %r reported an error:\n%s" % (cmds, out))
        return out

    def assertServerAlive(self, server=None):
        s = server or self.server
        self.assertTrue(s.alive(), "server process died:\n" + s.log_tail())


def main():
    """Run a test module directly: /usr/bin/python3 tests/integration/test_core.py"""
    unittest.main(verbosity=2)
