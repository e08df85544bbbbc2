#!/usr/bin/python3
"""A Samba admin's smb.conf served by smb3d (issue 16): access options
enforced (invalid users, read list, write list, valid users with groups,
share-level hosts allow / hosts deny, available), options smb3d cannot
enforce refused at start and at reload.  Real clients (smbclient, impacket).
The access classes run against Samba too (tests/run --target samba), so the
same decisions are checked on both servers."""

import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

U1, P1 = h.USER1
U2, P2 = h.USER2
TEAM = "smb3team"  # a unix group with U1 only (U2 stays outside)


def ensure_group(name, members):
    """A unix group with exactly these supplementary members (idempotent)."""
    r = subprocess.run(["getent", "group", name], capture_output=True, text=True)
    if r.returncode != 0:
        subprocess.run(["groupadd", name], check=True, capture_output=True)
    subprocess.run(["gpasswd", "-M", ",".join(members), name], check=True, capture_output=True)


def denied(out):
    return "NT_STATUS_ACCESS_DENIED" in out or "NT_STATUS_NETWORK_ACCESS_DENIED" in out


class AccessOptions(h.ServerTestCase):
    """Who may connect, read and write, per the share's options; the same
    answers from Samba and smb3d."""

    @classmethod
    def setUpClass(cls):
        for u in (U1, U2):
            h.ensure_unix_user(u)
        ensure_group(TEAM, [U1])
        cls.server_args = {"shares": {
            "inv": {"invalid users": U2},
            "rl": {"read list": "%s, nobody" % U2},
            "wl": {"read only": "yes", "write list": U1},
            "both": {"read list": U1, "write list": U1},
            "grp": {"valid users": "@" + TEAM},
            "plus": {"valid users": "+" + TEAM, "invalid users": U1},
            "hdeny": {"hosts deny": "127.0.0.1"},
            "hallow": {"hosts allow": "127.0.0.1"},
            "hexcept": {"hosts allow": "127. EXCEPT 127.0.0.1"},
            "off": {"available": "no"},
        }}
        super().setUpClass()
        for p in cls.server.share_paths.values():
            os.chmod(p, 0o777)

    def put(self, share, user, password, name):
        src = os.path.join(self.server.tmp, "src.txt")
        with open(src, "w") as f:
            f.write("data\n")
        return self.smb("put %s %s" % (src, name), share=share, user=user, password=password)

    def test_invalid_users_refused(self):
        rc, out = self.smb("ls", share="inv", user=U2, password=P2)
        self.assertTrue(denied(out), out)
        rc, out = self.put("inv", U2, P2, "x2")
        self.assertNotIn("x2", os.listdir(self.server.path("inv")))
        self.smb_ok("ls", share="inv")

    def test_read_list_cannot_write(self):
        self.smb_ok("ls", share="rl", user=U2, password=P2)
        rc, out = self.put("rl", U2, P2, "byreader")
        self.assertIn("NT_STATUS_", out)
        self.assertNotIn("byreader", os.listdir(self.server.path("rl")))
        rc, out = self.put("rl", U1, P1, "bywriter")
        self.assertIn("bywriter", os.listdir(self.server.path("rl")), out)

    def test_write_list_writes_on_read_only_share(self):
        rc, out = self.put("wl", U1, P1, "listed")
        self.assertIn("listed", os.listdir(self.server.path("wl")), out)
        rc, out = self.put("wl", U2, P2, "unlisted")
        self.assertIn("NT_STATUS_", out)
        self.assertNotIn("unlisted", os.listdir(self.server.path("wl")))

    def test_write_list_wins_over_read_list(self):
        rc, out = self.put("both", U1, P1, "w")
        self.assertIn("w", os.listdir(self.server.path("both")), out)

    def test_valid_users_group(self):
        self.smb_ok("ls", share="grp")
        rc, out = self.smb("ls", share="grp", user=U2, password=P2)
        self.assertTrue(denied(out), out)

    def test_invalid_users_wins_over_valid_group(self):
        rc, out = self.smb("ls", share="plus")
        self.assertTrue(denied(out), out)

    def test_share_hosts_deny(self):
        rc, out = self.smb("ls", share="hdeny")
        self.assertIn("NT_STATUS_", out)
        self.assertNotEqual(rc, 0)
        self.smb_ok("ls", share="hallow")

    def test_share_hosts_allow_except(self):
        if self.server.kind == "samba":
            self.skipTest("Samba lets loopback in unless hosts deny names it")
        rc, out = self.smb("ls", share="hexcept")
        self.assertIn("NT_STATUS_", out)

    def test_unavailable_share(self):
        rc, out = self.smb("ls", share="off")
        self.assertIn("NT_STATUS_", out)
        self.assertNotEqual(rc, 0)

    def test_impacket_read_list(self):
        from impacket.smbconnection import SessionError
        c = h.impacket_conn(self.server, user=U2, password=P2)
        try:
            tid = c.connectTree("rl")
            with self.assertRaises(SessionError):
                c.createFile(tid, "imp.txt")
            c.listPath("rl", "*")
        finally:
            c.close()
        self.assertNotIn("imp.txt", os.listdir(self.server.path("rl")))

    def test_refusals_logged_at_default_level(self):
        if self.server.kind != "smb3d":
            self.skipTest("smb3d's log")
        self.smb("ls", share="hdeny")
        self.smb("ls", share="off")
        log = self.server.log_tail(200000)
        self.assertRegex(log, r"tree connect to \[hdeny\] by %s from 127\.0\.0\.1:\d+ refused" % U1)
        self.assertIn("refused: available = no", log)


class FailClosed(h.ServerTestCase):
    """An option that would restrict access and that smb3d cannot enforce
    stops the server from starting, and a reload to it is refused."""

    @classmethod
    def setUpClass(cls):
        if h.TARGET != "smb3d":
            raise unittest.SkipTest("smb3d only")
        super().setUpClass()

    def start_with(self, opts):
        s = h.Server(start=False, shares={"share": opts}, users=[])
        self._servers.append(s)
        r = subprocess.run(h.Server.command(s), capture_output=True, text=True, timeout=20,
                           cwd=s.tmp)
        return r.returncode, r.stdout + r.stderr

    def test_unenforceable_options_refuse_to_start(self):
        for opt in ({"admin users": U1}, {"force user": U1}, {"vfs objects": "acl_xattr"},
                    {"max connections": "3"}, {"hosts allow": "fileserver.example"},
                    {"follow symlinks": "no"}):
            with self.subTest(opt=opt):
                rc, out = self.start_with(opt)
                self.assertEqual(rc, 1, out)
                self.assertIn(list(opt)[0], out)

    def test_harmless_samba_options_start(self):
        s = self.make_server(shares={"share": {"vfs objects": "", "obey pam restrictions": "yes",
                                               "admin users": ""}},
                             global_opts={"security": "user", "server role": "standalone server"})
        self.smb_ok("ls", server=s)

    def test_reload_to_unenforceable_option_keeps_running_config(self):
        s = self.server
        s.shares = {"share": {"invalid users": U1}}
        s._write_config()
        os.kill(s.proc.pid, signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and "configuration reloaded" not in s.log_tail():
            time.sleep(0.05)
        rc, out = self.smb("ls", server=s)
        self.assertTrue(denied(out), out)
        s.shares = {"share": {"invalid users": U1, "admin users": U2}}
        s._write_config()
        os.kill(s.proc.pid, signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and "keeping the running configuration" not in s.log_tail():
            time.sleep(0.05)
        self.assertIn("keeping the running configuration", s.log_tail())
        rc, out = self.smb("ls", server=s)
        self.assertTrue(denied(out), out)  # still the reloaded, valid config
        self.assertServerAlive()


if __name__ == "__main__":
    h.main()
