"""Start an smb3d for the hostile-client regression tests (tests/regress/) and stop it by PID.

The server gets its own scratch directory, a share `share` (read only = no), users
smb3test1/smb3test2 (created as unix users if missing), and a control socket.
Build directory: SMB3D_BUILD (absolute) or the `build` argument relative to the checkout."""
import atexit, os, sys, time, signal, socket, subprocess, tempfile, shutil, re, pwd
ROOT = os.path.abspath(os.environ.get("SMB3D_REPO", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))


def free_port():
    """A port the kernel just handed out (the harness does the same)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_unix_user(name):
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", name], capture_output=True)
        return pwd.getpwnam(name).pw_uid
sys.path.insert(0, os.path.join(ROOT, "tests/lib"))
import smb2raw as R


USERS = [("smb3test1", "Passw0rd-One"), ("smb3test2", "Passw0rd-Two")]

class Srv:
    def __init__(self, port=None, build=None, extra=None, shares=None, log_level=1, tag="srv", base=os.environ.get("REL_BASE", "/tmp")):
        self.port = port or free_port()
        self.build = os.environ.get("SMB3D_BUILD") or os.path.join(ROOT, build or "build-asan")
        self.tmp = tempfile.mkdtemp(prefix="rel-%s-" % tag, dir=base)
        os.chmod(self.tmp, 0o755)
        self.share = os.path.join(self.tmp, "share")
        os.makedirs(self.share); os.chmod(self.share, 0o777)
        os.makedirs(os.path.join(self.tmp, "private"), mode=0o700)
        self.passdb = os.path.join(self.tmp, "private", "smbpasswd")
        self.conf = os.path.join(self.tmp, "smb.conf")
        self.log = os.path.join(self.tmp, "server.log")
        self.ctl = os.path.join(self.tmp, "ctl.sock")
        g = {"smb ports": str(self.port), "interfaces": "lo", "bind interfaces only": "yes",
             "passdb backend": "smbpasswd:" + self.passdb, "log level": str(log_level),
             "server multi channel support": "yes", "control socket": self.ctl,
             "server min protocol": "SMB2_02"}
        g.update(extra or {})
        lines = ["[global]"] + ["\t%s = %s" % kv for kv in g.items()]
        lines += ["[share]", "\tpath = " + self.share, "\tread only = no"]
        for name, opts in (shares or {}).items():
            lines.append("[%s]" % name)
            lines += ["\t%s = %s" % kv for kv in opts.items()]
        open(self.conf, "w").write("\n".join(lines) + "\n")
        open(self.passdb, "w").close(); os.chmod(self.passdb, 0o600)
        for u, p in USERS:
            uid = str(ensure_unix_user(u))
            subprocess.run([os.path.join(self.build, "smb3ctl"), "-c", self.conf, "user", "add", u,
                            "--uid", uid, "-s"], input="%s\n%s\n" % (p, p), text=True, check=True,
                           capture_output=True, timeout=30)
        self.proc = None

    def start(self):
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:log_path=" + self.tmp + "/asan"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=0:log_path=" + self.tmp + "/ubsan"
        env["TSAN_OPTIONS"] = "halt_on_error=0:second_deadlock_stack=1:log_path=" + self.tmp + "/tsan"
        lf = open(self.log, "ab")
        self.proc = subprocess.Popen(["nice", "-n", "10", os.path.join(self.build, "smb3d"), "-c", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                                     cwd=self.tmp, env=env, start_new_session=True)
        lf.close()
        atexit.register(self._stop_at_exit)  # a test that dies midway leaves no server behind
        for _ in range(200):
            if self.proc.poll() is not None:
                raise RuntimeError("server died: " + open(self.log).read()[-3000:])
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not listen")

    def _stop_at_exit(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    @property
    def pid(self):
        return self.proc.pid  # nice execs smb3d

    def alive(self):
        return self.proc.poll() is None

    def rss_kb(self):
        try:
            for l in open("/proc/%d/status" % self.pid):
                if l.startswith("VmRSS"):
                    return int(l.split()[1])
        except OSError:
            return -1

    def fds(self):
        try:
            return len(os.listdir("/proc/%d/fd" % self.pid))
        except OSError:
            return -1

    def threads(self):
        try:
            return len(os.listdir("/proc/%d/task" % self.pid))
        except OSError:
            return -1

    def sanitizer(self):
        out = ""
        for f in sorted(os.listdir(self.tmp)):
            if f.startswith("asan") or f.startswith("ubsan") or f.startswith("tsan"):
                out += "=== %s\n" % f + open(os.path.join(self.tmp, f), errors="replace").read()
        lg = open(self.log, errors="replace").read()
        for m in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "WARNING: ThreadSanitizer"):
            if m in lg:
                out += "=== server.log\n" + lg[-8000:]
                break
        return out

    def logtext(self):
        return open(self.log, errors="replace").read()

    def status(self):
        r = subprocess.run([os.path.join(self.build, "smb3ctl"), "-c", self.conf, "status"],
                           capture_output=True, text=True, timeout=20)
        return r.stdout + r.stderr

    def healthy(self, user=USERS[0]):
        """A well-behaved raw client: negotiate, session, tree, create/write/read/close."""
        try:
            c, s = R.connect_session("127.0.0.1", self.port, user[0], user[1])
            fid = R.create(c, s, "health_%d.txt" % os.getpid())
            R.write(c, s, fid, 0, b"hello health")
            d = R.read(c, s, fid, 0, 12)
            R.close(c, s, fid)
            R.logoff(c, s)
            c.close()
            return d == b"hello health"
        except Exception as e:
            print("health failed:", repr(e))
            return False

    def smbclient_ok(self):
        r = subprocess.run(["nice", "-n", "10", "timeout", "30", "smbclient", "//127.0.0.1/share", "-p", str(self.port),
                            "-U", "%s%%%s" % USERS[0], "-c", "ls"], capture_output=True, text=True)
        return r.returncode == 0

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill(); self.proc.wait(timeout=10)
        return self.proc.returncode if self.proc else None
