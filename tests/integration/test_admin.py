#!/usr/bin/python3
"""Administration tests: share listing over IPC$ (smbclient -L, impacket
srvsvc/wkssvc), reload without restart (SIGHUP and smb3ctl reload: new shares,
removed shares, users, broken configs) and the Prometheus metrics endpoint.
Real clients only.  smb3d only, except the share-listing tests (Samba too)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import promparse  # noqa: E402

SMB_PORTS = range(4490, 4500)
METRICS_PORTS = range(9490, 9500)


def _port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_port(ports, taken=()):
    for p in ports:
        if p not in taken and _port_free(p):
            return p
    return h.free_port()


def resolve_build():
    """The harness expects BUILD/smb3d and BUILD/smb3ctl; a meson build dir has
    them in src/ and tools/.  Point the harness at a dir of symlinks then."""
    b = h.BUILD
    if os.path.exists(os.path.join(b, "smb3d")) and os.path.exists(os.path.join(b, "smb3ctl")):
        return
    d, c = os.path.join(b, "src", "smb3d"), os.path.join(b, "tools", "smb3ctl")
    if not (os.path.exists(d) and os.path.exists(c)):
        return
    global _shim
    if _shim is None:
        import atexit
        import tempfile
        _shim = tempfile.mkdtemp(prefix="smb3d-bin-")
        atexit.register(shutil.rmtree, _shim, True)
        os.symlink(os.path.abspath(d), os.path.join(_shim, "smb3d"))
        os.symlink(os.path.abspath(c), os.path.join(_shim, "smb3ctl"))
    h.BUILD = _shim


_shim = None


def smb3ctl(server, *args, input=None):
    r = subprocess.run([os.path.join(h.BUILD, "smb3ctl"), "-c", server.conf] + list(args),
                       input=input, capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def list_shares(server, user=h.USER1[0], password=h.USER1[1], guest=False):
    """smbclient -L: returns (rc, output, {name: (type, comment)})."""
    cmd = ["smbclient", "-L", "//127.0.0.1", "-p", str(server.port), "-s", server.client_conf]
    cmd += ["-N"] if guest else ["-U", "%s%%%s" % (user, password)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, errors="replace")
    out = r.stdout + r.stderr
    shares = {}
    in_table = False
    for line in out.splitlines():
        if re.match(r"^\s*Sharename\s+Type\s+Comment", line):
            in_table = True
            continue
        if not in_table:
            continue
        if re.match(r"^\s*-+\s+-+", line):
            continue
        m = re.match(r"^\t(\S.*?)\s+(Disk|IPC|Printer)\s*(.*)$", line)
        if not m:
            if line.strip() == "" or not line.startswith("\t"):
                in_table = False
            continue
        shares[m.group(1).strip()] = (m.group(2), m.group(3).strip())
    return r.returncode, out, shares


def srvsvc_shares(server, user=h.USER1[0], password=h.USER1[1], level=1):
    """impacket: NetrShareEnum over \\PIPE\\srvsvc; {name: (type, remark)}."""
    from impacket.dcerpc.v5 import srvs, transport
    t = transport.SMBTransport("127.0.0.1", server.port, r"\srvsvc", user, password)
    dce = t.get_dce_rpc()
    dce.connect()
    try:
        dce.bind(srvs.MSRPC_UUID_SRVS)
        resp = srvs.hNetrShareEnum(dce, level)
        info = resp["InfoStruct"]["ShareInfo"]
        out = {}
        if level == 0:
            for e in info["Level0"]["Buffer"]:
                out[e["shi0_netname"][:-1]] = None
        else:
            for e in info["Level1"]["Buffer"]:
                out[e["shi1_netname"][:-1]] = (e["shi1_type"], e["shi1_remark"][:-1])
        return out, resp["TotalEntries"]
    finally:
        dce.disconnect()


def _type_name(t):
    base = t & 0x0FFFFFFF
    return {0: "Disk", 1: "Printer", 3: "IPC"}.get(base, "type%#x" % t)


class ShareListing(h.ServerTestCase):
    """smbclient -L and srvsvc NetrShareEnum list exactly the browseable shares."""
    SHARES = {
        "share": {"comment": "Main share"},
        "pub": {"comment": "Public files for everyone", "guest ok": "yes"},
        "nocomment": {},
        "hidden": {"comment": "Not listed", "browseable": "no"},
        "hidden2": {"comment": "Not listed either", "browsable": "no", "guest ok": "yes"},
        "LongName-With.Dots_1": {"comment": "Mixed case, punctuation: ok!"},
    }
    BROWSEABLE = {n: o.get("comment", "") for n, o in SHARES.items()
                  if o.get("browseable", o.get("browsable", "yes")) != "no"}

    @classmethod
    def setUpClass(cls):
        resolve_build()
        cls.server_args = dict(
            shares=cls.SHARES,
            global_opts={"map to guest": "Bad User", "server string": "Admin Test Server"},
            port=pick_port(SMB_PORTS))
        super().setUpClass()

    def _check_list(self, shares, out):
        disk = {n: c for n, (t, c) in shares.items() if t == "Disk"}
        self.assertEqual(disk, self.BROWSEABLE, out)
        others = {n: v for n, v in shares.items() if v[0] != "Disk"}
        self.assertLessEqual(set(others), {"IPC$"}, out)
        self.assertNotIn("hidden", shares)
        self.assertNotIn("hidden2", shares)

    def test_smbclient_L_user(self):
        rc, out, shares = list_shares(self.server)
        self.assertEqual(rc, 0, out)
        self.assertNotIn("NT_STATUS_", out, out)
        self._check_list(shares, out)

    def test_smbclient_L_guest(self):
        rc, out, shares = list_shares(self.server, guest=True)
        self.assertEqual(rc, 0, out)
        self.assertNotIn("NT_STATUS_", out, out)
        self._check_list(shares, out)

    def test_smbclient_L_bad_user_mapped_to_guest(self):
        rc, out, shares = list_shares(self.server, user="nosuchuser", password="x")
        self.assertEqual(rc, 0, out)
        self._check_list(shares, out)

    def test_smbclient_L_wrong_password(self):
        rc, out, shares = list_shares(self.server, password="wrong-password")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("NT_STATUS_LOGON_FAILURE", out)
        self.assertServerAlive()

    def test_srvsvc_NetrShareEnum_matches_smbclient(self):
        rc, out, listed = list_shares(self.server)
        self.assertEqual(rc, 0, out)
        enum, total = srvsvc_shares(self.server)
        got = {n: (_type_name(t), c) for n, (t, c) in enum.items()}
        self.assertEqual(got, listed, "srvsvc: %r\nsmbclient:\n%s" % (enum, out))
        self.assertEqual(total, len(enum))
        disk = {n: c for n, (t, c) in got.items() if t == "Disk"}
        self.assertEqual(disk, self.BROWSEABLE)
        for n, (t, c) in enum.items():
            if n == "IPC$":
                self.assertEqual(t, 0x80000003, "IPC$ is STYPE_IPC|STYPE_SPECIAL")
            else:
                self.assertEqual(t, 0, n)

    def test_srvsvc_NetrShareEnum_level0(self):
        enum1, _ = srvsvc_shares(self.server, level=1)
        enum0, total = srvsvc_shares(self.server, level=0)
        self.assertEqual(set(enum0), set(enum1))
        self.assertEqual(total, len(enum0))

    def test_srvsvc_anonymous(self):
        enum, _ = srvsvc_shares(self.server, user="", password="")
        disk = {n: c for n, (t, c) in enum.items() if t == 0}
        self.assertEqual(disk, self.BROWSEABLE)

    def test_impacket_listShares(self):
        conn = h.impacket_conn(self.server)
        try:
            got = {s["shi1_netname"][:-1]: s["shi1_remark"][:-1] for s in conn.listShares()}
        finally:
            conn.close()
        for n, c in self.BROWSEABLE.items():
            self.assertEqual(got.get(n), c, got)
        self.assertFalse({"hidden", "hidden2"} & set(got), got)

    def test_srvsvc_NetrShareGetInfo(self):
        from impacket.dcerpc.v5 import srvs, transport
        t = transport.SMBTransport("127.0.0.1", self.server.port, r"\srvsvc", *h.USER1)
        dce = t.get_dce_rpc()
        dce.connect()
        try:
            dce.bind(srvs.MSRPC_UUID_SRVS)
            from impacket.dcerpc.v5.rpcrt import DCERPCException
            try:
                r = srvs.hNetrShareGetInfo(dce, "share\x00", 1)
            except DCERPCException:
                pass  # an optional opnum: a clean fault is fine
            else:
                self.assertEqual(r["InfoStruct"]["ShareInfo1"]["shi1_remark"][:-1], "Main share")
        finally:
            dce.disconnect()
        self.assertServerAlive()

    def test_hidden_share_still_connectable(self):
        self.smb_ok("ls", share="hidden")

    def test_wkssvc_NetrWkstaGetInfo(self):
        from impacket.dcerpc.v5 import transport, wkst
        t = transport.SMBTransport("127.0.0.1", self.server.port, r"\wkssvc", *h.USER1)
        dce = t.get_dce_rpc()
        dce.connect()
        try:
            dce.bind(wkst.MSRPC_UUID_WKST)
            r = wkst.hNetrWkstaGetInfo(dce, 100)
            info = r["WkstaInfo"]["WkstaInfo100"]
            self.assertEqual(info["wki100_langroup"][:-1].upper(), "SMB3DTEST")
            self.assertTrue(info["wki100_computername"][:-1])
        finally:
            dce.disconnect()

    def test_unknown_pipe(self):
        from impacket.dcerpc.v5 import transport
        t = transport.SMBTransport("127.0.0.1", self.server.port, r"\nosuchpipe", *h.USER1)
        with self.assertRaises(Exception):
            t.get_dce_rpc().connect()
        self.assertServerAlive()

    def test_ipc_tree_is_not_a_disk(self):
        rc, out = self.smb("ls", share="IPC$")
        self.assertNotEqual(rc, 0, out)
        self.assertServerAlive()


class SmbdOnly(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        if h.TARGET != "smb3d":
            raise unittest.SkipTest("smb3d only")
        resolve_build()
        super().setUpClass()


class Reload(SmbdOnly):
    """SIGHUP and smb3ctl reload re-read the config and the smbpasswd file."""

    @classmethod
    def setUpClass(cls):
        if h.TARGET != "smb3d":
            raise unittest.SkipTest("smb3d only")
        resolve_build()
        cls._servers = []
        s = Server_with_ctl(cls, shares={"share": {"comment": "stays"}})
        cls.server = s

    def setUp(self):
        # every test starts from the same configuration
        s = self.server
        s.shares = {"share": {"comment": "stays"}}
        s._write_config()
        self.reload()

    # --- helpers
    def reloaded_count(self):
        try:
            with open(self.server.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace").count("configuration reloaded")
        except OSError:
            return 0

    def error_count(self):
        with open(self.server.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace").count("keeping the running configuration")

    def _wait(self, cond, what, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return
            time.sleep(0.05)
        self.fail("timed out waiting for %s\n%s" % (what, self.server.log_tail()))

    def reload(self, how="sighup"):
        n = self.reloaded_count()
        if how == "sighup":
            os.kill(self.server.proc.pid, signal.SIGHUP)
        else:
            rc, out = smb3ctl(self.server, "reload")
            self.assertEqual(rc, 0, "smb3ctl reload: " + out)
        self._wait(lambda: self.reloaded_count() > n, "'configuration reloaded' in the log")
        self.assertServerAlive()

    def set_shares(self, shares):
        s = self.server
        s.shares = shares
        s._write_config()

    # --- tests
    def test_sighup_adds_share(self):
        rc, out = self.smb("ls", share="newshare")
        self.assertIn("NT_STATUS_BAD_NETWORK_NAME", out)
        self.set_shares({"share": {"comment": "stays"}, "newshare": {"comment": "fresh"}})
        self.reload()
        self.smb_ok("ls", share="newshare")
        rc, out, shares = list_shares(self.server)
        self.assertEqual(shares.get("newshare"), ("Disk", "fresh"), out)

    def test_smb3ctl_reload_adds_share(self):
        self.set_shares({"share": {"comment": "stays"}, "viactl": {}})
        self.reload(how="smb3ctl")
        self.smb_ok("ls", share="viactl")

    def test_removed_share_refuses_new_tree_connect_but_open_file_reads(self):
        self.set_shares({"share": {"comment": "stays"}, "gone": {"comment": "going"}})
        self.reload()
        data = os.urandom(200000)
        with open(os.path.join(self.server.path("gone"), "keep.bin"), "wb") as f:
            f.write(data)
        conn = h.impacket_conn(self.server)
        try:
            tid = conn.connectTree("gone")
            from impacket.smb3structs import FILE_READ_DATA
            fid = conn.openFile(tid, "keep.bin", desiredAccess=FILE_READ_DATA)
            self.assertEqual(conn.readFile(tid, fid, 0, 1000), data[:1000])
            # remove the share
            self.set_shares({"share": {"comment": "stays"}})
            self.reload()
            # new tree connects are refused: smbclient (new session) and the
            # existing session
            rc, out = self.smb("ls", share="gone")
            self.assertNotEqual(rc, 0, out)
            self.assertIn("NT_STATUS_BAD_NETWORK_NAME", out)
            # (impacket reuses a connected tree by name: a different case
            # makes it send a real TREE_CONNECT; share names ignore case)
            with self.assertRaises(Exception) as cm:
                conn.connectTree("GONE")
            self.assertIn("BAD_NETWORK_NAME", str(cm.exception))
            rc, out, shares = list_shares(self.server)
            self.assertNotIn("gone", shares, out)
            # the open file still reads, through to the end
            got = b""
            off = 0
            while off < len(data):
                chunk = conn.readFile(tid, fid, off, 65536)
                self.assertTrue(chunk, "short read at %d" % off)
                got += chunk
                off += len(chunk)
            self.assertEqual(got, data)
            conn.closeFile(tid, fid)
            conn.disconnectTree(tid)
            # the session keeps working on the remaining share
            tid2 = conn.connectTree("share")
            conn.listPath("share", "*")
            conn.disconnectTree(tid2)
        finally:
            conn.close()
        self.assertServerAlive()

    def test_broken_config_keeps_running_one(self):
        with open(self.server.conf) as f:
            good = f.read()
        errs = self.error_count()
        n = self.reloaded_count()
        # a new share plus an error: nothing of it may be applied
        broken = good + "[added]\n\tpath = %s\n[nopath]\n\tcomment = no path here\n" % self.server.tmp
        broken = broken.replace("[global]\n", "[global]\n\tsmb2 max credits = lots\n", 1)
        with open(self.server.conf, "w") as f:
            f.write(broken)
        os.kill(self.server.proc.pid, signal.SIGHUP)
        self._wait(lambda: self.error_count() > errs, "the reload error in the log")
        time.sleep(0.3)
        self.assertServerAlive()
        self.assertEqual(self.reloaded_count(), n, "a broken config was applied")
        log = self.server.log_tail()
        self.assertRegex(log, r"smb\.conf:\d+", "the error names file and line")
        self.smb_ok("ls", share="share")
        rc, out = self.smb("ls", share="added")
        self.assertIn("NT_STATUS_BAD_NETWORK_NAME", out)
        # smb3ctl reload of the broken file: smb3ctl reports the errors and
        # fails (it may not reach the server: the control socket is named by
        # the broken file); the server keeps running the old config either way
        n = self.reloaded_count()
        rc, out = smb3ctl(self.server, "reload")
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"smb\.conf:2\b", out)
        time.sleep(0.3)
        self.assertServerAlive()
        self.assertEqual(self.reloaded_count(), n, "a broken config was applied")
        self.smb_ok("ls", share="share")
        # unparseable garbage
        errs = self.error_count()
        with open(self.server.conf, "w") as f:
            f.write("[global\n\x00\x01 = =\n")
        os.kill(self.server.proc.pid, signal.SIGHUP)
        self._wait(lambda: self.error_count() > errs, "the reload error in the log (garbage)")
        self.smb_ok("ls", share="share")
        # a missing file
        errs = self.error_count()
        os.unlink(self.server.conf)
        os.kill(self.server.proc.pid, signal.SIGHUP)
        self._wait(lambda: self.error_count() > errs, "the reload error in the log (missing)")
        self.smb_ok("ls", share="share")
        # and the good one again
        with open(self.server.conf, "w") as f:
            f.write(good)
        self.reload()
        self.smb_ok("ls", share="share")

    def log_since(self, offset):
        with open(self.server.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def logon_lines(self, level, user):
        """Reload with `log level = level`, log on as the unknown `user`;
        the log lines of that logon."""
        s = self.server
        s.global_opts["log level"] = level
        s._write_config()
        self.reload()
        start = os.path.getsize(s.log_path)
        self.smb("ls", user=user, password="x")
        self._wait(lambda: "logon failed" in self.log_since(start), "the failed logon of " + user)
        time.sleep(0.2)
        return self.log_since(start)

    def test_log_level_classes(self):
        """Samba's 'log level = N class:N': a class's level changes what
        that class logs, and only that class."""
        try:
            log = self.logon_lines("2 passdb:4", "nosuch1")
            self.assertIn("passdb: no user 'nosuch1'", log)        # passdb, debug
            self.assertNotIn("authentication failed", log)         # auth, debug
            log = self.logon_lines("2 auth:4", "nosuch2")
            self.assertRegex(log, r"\[debug\]: session [0-9a-f]+: authentication failed")
            self.assertNotIn("passdb: no user", log)
            # Samba's classes smb3d has nothing for change nothing
            log = self.logon_lines("2 winbind:10 tdb:10 smb2_credits:10", "nosuch3")
            self.assertNotIn("[debug]", log)
            # a name that is not Samba's is refused and the running level kept
            errs = self.error_count()
            self.server.global_opts["log level"] = "2 nosuch:3"
            self.server._write_config()
            os.kill(self.server.proc.pid, signal.SIGHUP)
            self._wait(lambda: self.error_count() > errs, "the reload error")
            self.assertIn("'nosuch' is not a Samba debug class", self.server.log_tail())
        finally:
            self.server.global_opts["log level"] = "2"
            self.server._write_config()
            self.reload()

    def test_users_take_effect_at_next_session_setup(self):
        u, pw = h.USER2
        newpw = "Changed-Passw0rd"
        old = h.impacket_conn(self.server, user=u, password=pw)
        try:
            rc, out = smb3ctl(self.server, "user", "passwd", u, "-s", input="%s\n%s\n" % (newpw, newpw))
            self.assertEqual(rc, 0, out)
            self.reload()
            rc, out = self.smb("ls", user=u, password=pw)
            self.assertIn("NT_STATUS_LOGON_FAILURE", out)
            self.smb_ok("ls", user=u, password=newpw)
            # the existing session is not affected
            tid = old.connectTree("share")
            old.listPath("share", "*")
            old.disconnectTree(tid)
            # deleted user
            rc, out = smb3ctl(self.server, "user", "del", u)
            self.assertEqual(rc, 0, out)
            self.reload(how="smb3ctl")
            rc, out = self.smb("ls", user=u, password=newpw)
            self.assertIn("NT_STATUS_LOGON_FAILURE", out)
            # added back with the original password
            uid = h.ensure_unix_user(u)
            rc, out = smb3ctl(self.server, "user", "add", u, "--uid", str(uid), "-s",
                              input="%s\n%s\n" % (pw, pw))
            self.assertEqual(rc, 0, out)
            self.reload()
            self.smb_ok("ls", user=u, password=pw)
        finally:
            old.close()
        self.smb_ok("ls")

    def test_share_option_change_applies_to_new_tree_connects(self):
        self.set_shares({"share": {"comment": "stays"}, "ro": {"read only": "no"}})
        self.reload()
        self.smb_ok("mkdir d1", share="ro")
        self.set_shares({"share": {"comment": "stays"}, "ro": {"read only": "yes",
                                                             "path": self.server.path("ro")}})
        self.reload()
        rc, out = self.smb("mkdir d2", share="ro")
        self.assertIn("NT_STATUS_", out)
        self.assertNotIn("d2", os.listdir(self.server.path("ro")))


def Server_with_ctl(cls, metrics_port=None, **kw):
    """A harness Server with its own control socket (and metrics port)."""
    taken = {s.port for s in getattr(cls, "_servers", [])}
    s = h.Server(start=False, port=pick_port(SMB_PORTS, taken), **kw)
    cls._servers.append(s)
    s.global_opts["control socket"] = os.path.join(s.tmp, "control.sock")
    s.global_opts["log level"] = "2"
    if metrics_port:
        s.global_opts["metrics port"] = str(metrics_port)
    s._write_config()
    s.start()
    return s


def scrape(port, path="/metrics"):
    r = subprocess.run(["curl", "-sS", "-m", "10", "-o", "-", "-w", "\n%{http_code} %{content_type}",
                        "http://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        raise AssertionError("curl failed: " + r.stderr)
    body, _, tail = r.stdout.rpartition("\n")
    code, _, ctype = tail.partition(" ")
    return int(code), ctype, body


def listening_ports(pid):
    """TCP ports (addr, port) on which process pid listens."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            t = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", t)
        if m:
            inodes.add(m.group(1))
    out = set()
    for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(fn) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for l in lines:
            f = l.split()
            if f[3] == "0A" and f[9] in inodes:  # LISTEN
                addr, port = f[1].split(":")
                out.add((addr, int(port, 16)))
    return out


class Metrics(SmbdOnly):
    @classmethod
    def setUpClass(cls):
        if h.TARGET != "smb3d":
            raise unittest.SkipTest("smb3d only")
        resolve_build()
        cls._servers = []
        cls.mport = pick_port(METRICS_PORTS)
        cls.server = Server_with_ctl(cls, metrics_port=cls.mport)

    def get(self):
        code, ctype, body = scrape(self.mport)
        self.assertEqual(code, 200, body)
        self.assertTrue(ctype.startswith("text/plain"), ctype)
        fams, problems = promparse.parse_with_problems(body)
        self.assertEqual(problems, [], body)
        return fams, body

    def test_promtool_or_parser(self):
        fams, body = self.get()
        self.assertEqual(promparse.lint(fams), [])
        promtool = shutil.which("promtool")
        if promtool:
            r = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_families_present(self):
        fams, body = self.get()
        for name, typ in (("smb3d_connections", "gauge"), ("smb3d_sessions", "gauge"),
                          ("smb3d_open_files", "gauge"), ("smb3d_session_channels", "histogram"),
                          ("smb3d_requests_total", "counter"),
                          ("smb3d_request_seconds", "histogram"),
                          ("smb3d_read_bytes_total", "counter"),
                          ("smb3d_written_bytes_total", "counter"),
                          ("smb3d_vfs_operations_total", "counter"),
                          ("smb3d_vfs_fixed_buffer_operations_total", "counter")):
            self.assertIn(name, fams, body)
            self.assertEqual(fams[name].type, typ, name)

    def test_metrics_listen_on_loopback_only(self):
        ports = listening_ports(self.server.proc.pid)
        m = [a for a, p in ports if p == self.mport]
        self.assertTrue(m, ports)
        self.assertEqual(set(m), {"0100007F"}, "metrics must bind 127.0.0.1 only: %s" % ports)

    def test_off_by_default(self):
        s = h.Server(port=pick_port(SMB_PORTS, {self.server.port}))
        self._servers.append(s)
        ports = {p for a, p in listening_ports(s.proc.pid)}
        self.assertEqual(ports, {s.port}, "only the SMB port; no metrics by default")
        rc, out = smb3ctl(s, "config", "check")
        self.assertIn("metrics port = 0", out)

    def test_other_paths_404(self):
        code, _, _ = scrape(self.mport, "/nosuchpath")
        self.assertEqual(code, 404)

    def test_counters_move_during_transfer(self):
        size = 4 << 20
        chunk = 1 << 20
        data = os.urandom(size)
        f0, _ = self.get()
        w0 = promparse.value(f0, "smb3d_written_bytes_total")
        r0 = promparse.value(f0, "smb3d_read_bytes_total")
        conn = h.impacket_conn(self.server)
        try:
            f1, _ = self.get()
            self.assertGreaterEqual(promparse.value(f1, "smb3d_connections"), 1)
            self.assertGreaterEqual(promparse.value(f1, "smb3d_sessions"), 1)
            self.assertGreater(promparse.value(f1, "smb3d_connections_total"),
                               promparse.value(f0, "smb3d_connections_total"))
            tid = conn.connectTree("share")
            fid = conn.createFile(tid, "metrics.bin")
            fopen, _ = self.get()
            self.assertGreaterEqual(promparse.value(fopen, "smb3d_open_files"), 1)
            last_w = w0
            for off in range(0, size, chunk):
                conn.writeFile(tid, fid, data[off:off + chunk], off)
                f, _ = self.get()
                w = promparse.value(f, "smb3d_written_bytes_total")
                self.assertGreaterEqual(w, last_w + chunk, "written bytes move with each chunk")
                last_w = w
            last_r = r0
            for off in range(0, size, chunk):
                got = b""
                while len(got) < chunk:
                    got += conn.readFile(tid, fid, off + len(got), chunk - len(got))
                self.assertEqual(got, data[off:off + chunk])
                f, _ = self.get()
                r = promparse.value(f, "smb3d_read_bytes_total")
                self.assertGreaterEqual(r, last_r + chunk, "read bytes move with each chunk")
                last_r = r
            conn.closeFile(tid, fid)
            conn.disconnectTree(tid)
            fend, body = self.get()
        finally:
            conn.close()
        # requests by command and status, latency histograms
        for cmd in ("CREATE", "WRITE", "READ", "CLOSE", "TREE_CONNECT", "SESSION_SETUP"):
            n0 = promparse.total(f0, "smb3d_requests_total", command=cmd)
            n1 = promparse.total(fend, "smb3d_requests_total", command=cmd)
            self.assertGreater(n1, n0, "requests_total{command=%s} did not move:\n%s" % (cmd, body))
            c0 = promparse.value(f0, "smb3d_request_seconds_count", command=cmd) or 0
            c1 = promparse.value(fend, "smb3d_request_seconds_count", command=cmd)
            self.assertIsNotNone(c1, "no latency histogram for %s" % cmd)
            self.assertGreater(c1, c0, cmd)
        statuses = {l.get("status") for _, l, _, _ in fend["smb3d_requests_total"].samples}
        self.assertTrue(statuses and None not in statuses, statuses)
        # channels per session: at least one session observed with one channel
        self.assertGreaterEqual(promparse.value(fend, "smb3d_session_channels_count"), 1)
        # engine submissions: the configured engine moved
        engine = "threads" if h.IO_BACKEND == "threads" else "io_uring"
        e0 = promparse.value(f0, "smb3d_vfs_operations_total", engine=engine)
        e1 = promparse.value(fend, "smb3d_vfs_operations_total", engine=engine)
        self.assertGreater(e1, e0, "vfs ops of engine %s did not move" % engine)
        # 1 MiB reads and writes go through pooled buffers: with the io_uring
        # engine they are registered (fixed) buffers, with threads never.  A
        # WRITE received into a fresh buffer is not fixed (a receive buffer is
        # registered only once it is back in the pool, docs/SECURITY.md): the
        # first one may be a plain write.
        x0 = promparse.value(f0, "smb3d_vfs_fixed_buffer_operations_total")
        x1 = promparse.value(fend, "smb3d_vfs_fixed_buffer_operations_total")
        if engine == "io_uring":
            self.assertGreaterEqual(x1, x0 + 2 * (size // chunk) - 1, "READ/WRITE_FIXED did not move")
        else:
            self.assertEqual(x1, 0)
        # wire bytes
        self.assertGreater(promparse.value(fend, "smb3d_network_bytes_total", direction="in"),
                           promparse.value(f0, "smb3d_network_bytes_total", direction="in") + size)

    def test_curl_during_smbclient_transfer(self):
        """Scrape with curl while smbclient puts and gets a file."""
        size = (64 if not os.environ.get("SMB3D_QUICK") else 16) << 20
        src = os.path.join(self.server.tmp, "src.bin")
        with open(src, "wb") as f:
            for _ in range(size >> 20):
                f.write(os.urandom(1 << 20))
        dst = os.path.join(self.server.tmp, "dst.bin")
        f0, _ = self.get()
        scrapes = []
        stop = threading.Event()

        def loop():
            while not stop.is_set():
                try:
                    scrapes.append(scrape(self.mport))
                except AssertionError as e:
                    scrapes.append((0, "", str(e)))
                time.sleep(0.02)

        t = threading.Thread(target=loop)
        t.start()
        try:
            out = self.smb_ok(["put %s big.bin" % src, "get big.bin %s" % dst])
        finally:
            stop.set()
            t.join()
        self.assertEqual(os.path.getsize(dst), size, out)
        self.assertTrue(scrapes)
        prev_w = prev_r = -1
        for code, ctype, body in scrapes:
            self.assertEqual(code, 200, body)
            fams = promparse.parse(body)
            w = promparse.value(fams, "smb3d_written_bytes_total")
            r = promparse.value(fams, "smb3d_read_bytes_total")
            self.assertGreaterEqual(w, prev_w)
            self.assertGreaterEqual(r, prev_r)
            prev_w, prev_r = w, r
        f1, _ = self.get()
        self.assertGreaterEqual(promparse.value(f1, "smb3d_written_bytes_total"),
                                promparse.value(f0, "smb3d_written_bytes_total") + size)
        self.assertGreaterEqual(promparse.value(f1, "smb3d_read_bytes_total"),
                                promparse.value(f0, "smb3d_read_bytes_total") + size)

    def test_metrics_survive_reload(self):
        os.kill(self.server.proc.pid, signal.SIGHUP)
        time.sleep(0.5)
        self.get()
        self.assertServerAlive()


class PromParser(unittest.TestCase):
    """The fallback validator itself: accepts good text, rejects bad text."""

    GOOD = ('# HELP a_total A counter.\n# TYPE a_total counter\na_total{x="1"} 3\n'
            'a_total{x="q\\"\\\\\\n"} 0 1700000000000\n'
            '# HELP h A histogram.\n# TYPE h histogram\n'
            'h_bucket{le="0.1"} 1\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 3\n'
            'h_sum 1.5e0\nh_count 3\n# TYPE g gauge\ng -Inf\ng2 NaN\n')

    def test_good(self):
        fams = promparse.parse(self.GOOD)
        self.assertEqual(promparse.value(fams, "a_total", x="1"), 3)
        self.assertEqual(promparse.value(fams, "h_count"), 3)
        self.assertEqual(fams["h"].type, "histogram")

    def test_bad(self):
        bad = [
            "a 1",                                   # no newline at the end
            "1a 1\n",                                # bad name
            "a{x=1} 1\n",                            # unquoted label
            'a{x="\\q"} 1\n',                        # bad escape
            "a one\n",                               # bad value
            "a 1 2.5\n",                             # bad timestamp
            "# TYPE a counter\n# TYPE a counter\na 1\n",
            "# TYPE a countr\na 1\n",
            "a 1\n# TYPE a counter\n",               # TYPE after samples
            "a 1\nb 1\na 2\n",                       # not contiguous (and duplicate-free)
            "a 1\na 1\n",                            # duplicate series
            "# TYPE a counter\na -1\n",
            '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
            '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',     # no +Inf
            '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n',  # count != +Inf
            '# TYPE h histogram\nh_bucket{le="+Inf"} 2\n',                      # no sum/count
        ]
        for text in bad:
            with self.subTest(text=text):
                with self.assertRaises(promparse.PromError):
                    promparse.parse(text)

    def test_lint(self):
        self.assertTrue(promparse.lint(promparse.parse("# TYPE a counter\na 1\n")))
        self.assertEqual(promparse.lint(promparse.parse(self.GOOD.replace("# TYPE g gauge\ng -Inf\ng2 NaN\n", ""))), [])


if __name__ == "__main__":
    h.main()
