#!/usr/bin/python3
"""A Samba admin's smb.conf served by smb3d (issue 16): access options
enforced (invalid users, read list, write list, valid users with groups,
share-level hosts allow / hosts deny, available), options smb3d cannot
enforce refused at start and at reload.  Real clients (smbclient, impacket).
The access classes run against Samba too (tests/run --target samba), so the
same decisions are checked on both servers."""

import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

U1, P1 = h.USER1
U2, P2 = h.USER2
TEAM = "smb3team"  # a unix group with U1 only (U2 stays outside)
CREW = "smb3crew"  # a unix group with both users: the team share's group


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
            "lim": {"max connections": "1"},
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

    def test_max_connections_per_share(self):
        c = h.impacket_conn(self.server)
        try:
            tid = c.connectTree("lim")
            rc, out = self.smb("ls", share="lim", user=U2, password=P2)
            self.assertIn("NT_STATUS_INSUFFICIENT_RESOURCES", out)
            c.disconnectTree(tid)
        finally:
            c.close()
        deadline = time.time() + 10
        while time.time() < deadline:  # Samba forgets the connection asynchronously
            rc, out = self.smb("ls", share="lim", user=U2, password=P2)
            if rc == 0:
                break
            time.sleep(0.2)
        self.assertEqual(rc, 0, out)

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
        for opt in ({"dont descend": "/proc"}, {"force user": "no-such-user-x"}, {"vfs objects": "recycle"},
                    {"hosts allow": "fileserver.example"},
                    {"follow symlinks": "no"}):
            with self.subTest(opt=opt):
                rc, out = self.start_with(opt)
                self.assertEqual(rc, 1, out)
                self.assertIn(list(opt)[0], out)

    def test_harmless_samba_options_start(self):
        s = self.make_server(shares={"share": {"vfs objects": "", "obey pam restrictions": "yes",
                                               "hide unreadable": "yes", "admin users": ""}},
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
        s.shares = {"share": {"invalid users": U1, "dont descend": "/proc"}}
        s._write_config()
        os.kill(s.proc.pid, signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and "keeping the running configuration" not in s.log_tail():
            time.sleep(0.05)
        self.assertIn("keeping the running configuration", s.log_tail())
        rc, out = self.smb("ls", server=s)
        self.assertTrue(denied(out), out)  # still the reloaded, valid config
        self.assertServerAlive()


def ls_attrs(out):
    """smbclient `ls` output -> {name: attribute letters}."""
    res = {}
    for line in out.splitlines():
        m = re.match(r"^  (.+?)\s+([DAHSRN]*)\s+\d+\s+\w{3} \w{3} +\d+ [\d:]+ \d{4}$", line)
        if m:
            res[m.group(1)] = m.group(2)
    return res


class TeamShare(h.ServerTestCase):
    """Two users of one group share a directory: new files and directories
    get the share's modes, so each can write what the other created; veto
    files are unreachable, hidden names listed as hidden.  Same results from
    Samba and smb3d."""

    @classmethod
    def setUpClass(cls):
        for u in (U1, U2):
            h.ensure_unix_user(u)
        ensure_group(CREW, [U1, U2])
        ensure_group(TEAM, [U1])
        cls.server_args = {"shares": {
            "team": {"create mask": "0660", "directory mask": "2770"},
            "plain": {},
            "forced": {"create mask": "0600", "force create mode": "0040",
                       "directory mask": "0700", "force directory mode": "0050"},
            "inh": {"inherit permissions": "yes"},
            "veto": {"veto files": "/*.exe/secret/", "hide files": "/~$*/"},
            "dots": {"hide dot files": "no", "map archive": "no"},
            "fg": {"force group": CREW},
            "fgplus": {"force group": "+" + TEAM},
            "fu": {"force user": U1, "create mask": "0600"},
            "fufg": {"force user": U1, "force group": CREW, "invalid users": "nobody"},
            "fuinv": {"force user": U1, "invalid users": U2},
            "adm": {"admin users": U2},
            "vdel": {"veto files": "/*.tmp/", "delete veto files": "yes"},
            "iacl": {"inherit acls": "yes", "create mask": "0770", "directory mask": "0770"},
            "noiacl": {"create mask": "0770", "directory mask": "0770"},
            "iown": {"inherit owner": "unix only"},
            "hunr": {"hide unreadable": "yes"},
        }}
        super().setUpClass()
        import grp
        gid = grp.getgrnam(CREW).gr_gid
        os.chmod(cls.server.path("adm"), 0o700)  # root's: only an admin user gets in
        u1 = pwd.getpwnam(U1).pw_uid
        for n, mode in (("mine.txt", 0o600), ("open.txt", 0o644)):
            p = os.path.join(cls.server.path("hunr"), n)
            with open(p, "w") as f:
                f.write("x")
            os.chown(p, u1, 0)
            os.chmod(p, mode)
        os.makedirs(os.path.join(cls.server.path("hunr"), "closed"), mode=0o700, exist_ok=True)
        os.makedirs(os.path.join(cls.server.path("iown"), "u1dir"), exist_ok=True)
        os.chown(os.path.join(cls.server.path("iown"), "u1dir"), pwd.getpwnam(U1).pw_uid, 0)
        os.chmod(os.path.join(cls.server.path("iown"), "u1dir"), 0o777)
        for name in ("fu", "fufg", "fuinv"):
            os.chown(cls.server.path(name), pwd.getpwnam(U1).pw_uid, 0)
            os.chmod(cls.server.path(name), 0o700)  # only the forced user gets in
        for name in ("team", "plain", "inh"):
            p = cls.server.path(name)
            os.chown(p, 0, gid)
            os.chmod(p, 0o2770)
        os.chmod(cls.server.path("inh"), 0o2771)
        os.makedirs(os.path.join(cls.server.path("veto"), "secret"), exist_ok=True)
        with open(os.path.join(cls.server.path("veto"), "secret", "plan.txt"), "w") as f:
            f.write("x")
        for share in ("veto", "dots"):
            for n in (".profile", "~$report.docx", "visible.txt"):
                with open(os.path.join(cls.server.path(share), n), "w") as f:
                    f.write("x")

    def src(self, text="data\n"):
        p = os.path.join(self.server.tmp, "src-%d.txt" % time.monotonic_ns())
        with open(p, "w") as f:
            f.write(text)
        return p

    def mode(self, share, name):
        return os.stat(os.path.join(self.server.path(share), name)).st_mode & 0o7777

    def test_team_members_write_each_others_files(self):
        self.smb_ok("put %s f1.txt; mkdir d1" % self.src(), share="team")
        self.assertEqual(self.mode("team", "f1.txt"), 0o660)
        self.assertEqual(self.mode("team", "d1"), 0o2770)
        # the other member overwrites the file and writes into the directory
        self.smb_ok("put %s f1.txt; put %s d1\\f2.txt" % (self.src("second\n"), self.src()),
                    share="team", user=U2, password=P2)
        with open(os.path.join(self.server.path("team"), "f1.txt")) as f:
            self.assertEqual(f.read(), "second\n")
        self.assertEqual(self.mode("team", "d1/f2.txt"), 0o660)

    def test_default_modes_lock_the_colleague_out(self):
        self.smb_ok("put %s p1.txt" % self.src(), share="plain")
        self.assertEqual(self.mode("plain", "p1.txt"), 0o744)  # Samba's default, map archive = yes
        rc, out = self.smb("put %s p1.txt" % self.src(), share="plain", user=U2, password=P2)
        self.assertIn("NT_STATUS_ACCESS_DENIED", out)

    def test_force_modes(self):
        self.smb_ok("put %s f.txt; mkdir d" % self.src(), share="forced")
        self.assertEqual(self.mode("forced", "f.txt"), 0o640)
        self.assertEqual(self.mode("forced", "d"), 0o750)

    def test_inherit_permissions(self):
        self.smb_ok("put %s f.txt; mkdir d" % self.src(), share="inh")
        self.assertEqual(self.mode("inh", "f.txt"), 0o760)  # parent's rw bits, archive u+x
        self.assertEqual(self.mode("inh", "d"), 0o2771)

    def test_veto_files_unreachable(self):
        veto = self.server.path("veto")
        for cmd in ("put %s virus.exe" % self.src(), "put %s VIRUS.EXE" % self.src(),
                    "mkdir secret2.exe", "get secret/plan.txt /dev/null", "ls secret/*",
                    "cd secret"):
            rc, out = self.smb(cmd, share="veto")
            self.assertRegex(out, r"NT_STATUS_(OBJECT_NAME_NOT_FOUND|OBJECT_PATH_NOT_FOUND|NO_SUCH_FILE)",
                             "%s:\n%s" % (cmd, out))
        self.smb_ok("put %s ok.txt" % self.src(), share="veto")
        rc, out = self.smb("rename ok.txt renamed.exe", share="veto")
        self.assertIn("NT_STATUS_", out)
        self.assertNotIn("virus.exe", os.listdir(veto))
        self.assertNotIn("VIRUS.EXE", os.listdir(veto))
        self.assertNotIn("renamed.exe", os.listdir(veto))
        names = ls_attrs(self.smb_ok("ls", share="veto"))
        self.assertNotIn("secret", names)
        self.assertIn("ok.txt", names)

    def test_force_group(self):
        import grp
        self.smb_ok("put %s a.txt; mkdir d" % self.src(), share="fg", user=U2, password=P2)
        crew = grp.getgrnam(CREW).gr_gid
        for n in ("a.txt", "d"):
            self.assertEqual(os.stat(os.path.join(self.server.path("fg"), n)).st_gid, crew, n)
        # "+group": only members' files get it
        team = grp.getgrnam(TEAM).gr_gid
        self.smb_ok("put %s m.txt" % self.src(), share="fgplus", user=U1, password=P1)
        self.smb_ok("put %s o.txt" % self.src(), share="fgplus", user=U2, password=P2)
        self.assertEqual(os.stat(os.path.join(self.server.path("fgplus"), "m.txt")).st_gid, team)
        self.assertNotEqual(os.stat(os.path.join(self.server.path("fgplus"), "o.txt")).st_gid, team)

    def test_force_user(self):
        import grp
        u1 = pwd.getpwnam(U1)
        # U2 writes as U1: owner and primary group U1's, U1's-only files readable
        self.smb_ok("put %s by2.txt; mkdir d2" % self.src(), share="fu", user=U2, password=P2)
        for n in ("by2.txt", "d2"):
            st = os.stat(os.path.join(self.server.path("fu"), n))
            self.assertEqual((st.st_uid, st.st_gid), (u1.pw_uid, u1.pw_gid), n)
        self.assertEqual(self.mode("fu", "by2.txt"), 0o600)
        self.smb_ok("put %s by1.txt" % self.src("one\n"), share="fu", user=U1, password=P1)
        out = self.smb_ok("get by1.txt -", share="fu", user=U2, password=P2)
        self.assertIn("one", out)
        # force group replaces the forced user's primary group
        self.smb_ok("put %s g.txt" % self.src(), share="fufg", user=U2, password=P2)
        st = os.stat(os.path.join(self.server.path("fufg"), "g.txt"))
        self.assertEqual((st.st_uid, st.st_gid), (u1.pw_uid, grp.getgrnam(CREW).gr_gid))
        # the user lists still name who connects
        rc, out = self.smb("ls", share="fuinv", user=U2, password=P2)
        self.assertTrue(denied(out), out)
        self.smb_ok("ls", share="fuinv", user=U1, password=P1)

    @staticmethod
    def default_acl(path, uid):
        """setfacl -d -m u:UID:rwx, written as the kernel's xattr (no acl package needed)."""
        import struct
        none = 0xFFFFFFFF
        entries = [(0x01, 7, none), (0x02, 7, uid), (0x04, 7, none), (0x10, 7, none), (0x20, 0, none)]
        os.setxattr(path, "system.posix_acl_default",
                    struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries))

    def test_inherit_acls(self):
        modes = {}
        for share in ("iacl", "noiacl"):
            self.default_acl(self.server.path(share), pwd.getpwnam(U2).pw_uid)
            self.smb_ok("put %s f.txt; mkdir d" % self.src(), share=share)
            modes[share] = (self.mode(share, "f.txt"), self.mode(share, "d"))
        # the default ACL is cut down by the masks only, not by Samba's modes
        self.assertEqual(modes["iacl"], (0o770, 0o770))
        self.assertEqual(modes["noiacl"], (0o760, 0o770))

    def test_hide_unreadable(self):
        seen2 = set(ls_attrs(self.smb_ok("ls", share="hunr", user=U2, password=P2)))
        seen1 = set(ls_attrs(self.smb_ok("ls", share="hunr", user=U1, password=P1)))
        self.assertIn("open.txt", seen2)
        self.assertNotIn("closed", seen2)  # root's 0700 directory
        self.assertNotIn("mine.txt", seen2)
        self.assertIn("mine.txt", seen1)

    def test_inherit_owner(self):
        # U2 writes into U1's directory: the new objects are U1's
        self.smb_ok("put %s u1dir\\by2.txt; mkdir u1dir\\d2" % self.src(), share="iown", user=U2, password=P2)
        for n in ("by2.txt", "d2"):
            st = os.stat(os.path.join(self.server.path("iown"), "u1dir", n))
            self.assertEqual(st.st_uid, pwd.getpwnam(U1).pw_uid, n)

    def test_delete_veto_files(self):
        for share in ("veto", "vdel"):  # veto: /*.exe/secret/ without, vdel: /*.tmp/ with
            vetoed = "x.exe" if share == "veto" else "x.tmp"
            d = os.path.join(self.server.path(share), "gone")
            os.makedirs(os.path.join(d, "sub"), exist_ok=True)
            with open(os.path.join(d, vetoed), "w") as f:
                f.write("x")
            os.chmod(d, 0o777)
            rc, out = self.smb("rmdir gone", share=share)
            if share == "veto":
                self.assertIn("NT_STATUS_DIRECTORY_NOT_EMPTY", out)  # "sub" is there
            os.rmdir(os.path.join(d, "sub"))
            rc, out = self.smb("rmdir gone", share=share)
            if share == "veto":
                self.assertIn("NT_STATUS_DIRECTORY_NOT_EMPTY", out)  # vetoed names stay
                self.assertTrue(os.path.exists(os.path.join(d, vetoed)))
            else:
                self.assertEqual(rc, 0, out)
                self.assertFalse(os.path.exists(d))

    def test_admin_users(self):
        # an admin user acts as root: gets into root's 0700 directory, owns nothing new
        self.smb_ok("put %s a.txt" % self.src(), share="adm", user=U2, password=P2)
        self.assertEqual(os.stat(os.path.join(self.server.path("adm"), "a.txt")).st_uid, 0)
        rc, out = self.smb("ls", share="adm", user=U1, password=P1)
        self.assertTrue(denied(out), out)

    def test_map_archive_no(self):
        self.smb_ok("put %s f.txt" % self.src(), share="dots")
        self.assertEqual(self.mode("dots", "f.txt"), 0o644)

    def test_hidden_names(self):
        names = ls_attrs(self.smb_ok("ls", share="veto"))
        self.assertIn("H", names[".profile"])
        self.assertIn("H", names["~$report.docx"])
        self.assertNotIn("H", names["visible.txt"])
        self.assertIn("H", allinfo(self.server, "veto", ".profile")["attributes"])
        self.assertIn("H", allinfo(self.server, "veto", "~$report.docx")["attributes"])
        self.assertNotIn("H", allinfo(self.server, "veto", "visible.txt")["attributes"])
        names = ls_attrs(self.smb_ok("ls", share="dots"))
        self.assertNotIn("H", names[".profile"])
        self.assertNotIn("H", names["~$report.docx"])


def allinfo(server, share, name):
    """smbclient allinfo -> {field: value} (attributes, create_time, ...)."""
    out = h.smbclient(server, share, "allinfo \"%s\"" % name)[1]
    res = {}
    for line in out.splitlines():
        k, sep, v = line.partition(":")
        if sep:
            res[k.strip()] = v.strip()
    return res


class SambaStreams(unittest.TestCase):
    """vfs objects = streams_xattr: named streams written by Samba's smbd
    are read by smb3d, and the reverse (user.DosStream.NAME:$DATA xattrs,
    the data plus a NUL).  Set SMB3D_SAMBA=chroot for Samba 4.25."""

    DATA = {"s1": "first stream\n", "Second": "two\n" * 50}

    def setUp(self):
        if not shutil.which("smbd") and not h.SAMBA:
            self.skipTest("no smbd")
        self.servers = []
        self.dir = tempfile.mkdtemp(prefix="smb3d-streams-")
        os.chmod(self.dir, 0o777)

    def tearDown(self):
        for s in self.servers:
            s.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def serve(self, kind):
        s = h.Server(kind=kind, shares={"moved": {"path": self.dir, "read only": "no",
                                                  "vfs objects": "streams_xattr"}})
        self.servers.append(s)
        return s

    def write_with(self, kind):
        s = self.serve(kind)
        cmds = []
        for i, (name, text) in enumerate(self.DATA.items()):
            src = os.path.join(s.tmp, "src%d" % i)
            with open(src, "w") as f:
                f.write(text)
            cmds.append("put %s %s.txt:%s" % (src, kind, name))
        cmds.append("mkdir %s-dir" % kind)
        cmds.append("put %s %s-dir:ds" % (src, kind))
        rc, out = h.smbclient(s, "moved", cmds)
        self.assertEqual(rc, 0, out)
        self.assertNotIn("NT_STATUS_", out)
        s.stop()
        self.servers.remove(s)
        path = os.path.join(self.dir, "%s.txt" % kind)
        for name, text in self.DATA.items():
            self.assertEqual(os.getxattr(path, "user.DosStream.%s:$DATA" % name), text.encode() + b"\0")
        self.assertEqual(os.getxattr(os.path.join(self.dir, "%s-dir" % kind), "user.DosStream.ds:$DATA"),
                         self.DATA["Second"].encode() + b"\0")

    def read_with(self, kind, writer):
        s = self.serve(kind)
        for name, text in self.DATA.items():
            dst = os.path.join(s.tmp, "out")
            rc, out = h.smbclient(s, "moved", "get %s.txt:%s %s" % (writer, name.upper(), dst))
            self.assertEqual(rc, 0, out)
            with open(dst) as f:
                self.assertEqual(f.read(), text, name)
        info = h.smbclient(s, "moved", "allinfo %s.txt" % writer)[1]
        for name, text in self.DATA.items():
            self.assertRegex(info, r"stream: \[:%s:\$DATA\], %d bytes" % (name, len(text)))
        info = h.smbclient(s, "moved", "allinfo %s-dir" % writer)[1]
        self.assertIn("stream: [:ds:$DATA]", info)
        return s

    def test_samba_to_smb3d(self):
        self.write_with("samba")
        self.read_with("smb3d", "samba")

    def test_smb3d_to_samba(self):
        self.write_with("smb3d")
        self.read_with("samba", "smb3d")

    def test_too_big_for_an_xattr(self):
        s = self.serve("smb3d")
        src = os.path.join(s.tmp, "small")
        with open(src, "w") as f:
            f.write("kept\n")
        big = os.path.join(s.tmp, "big")
        with open(big, "wb") as f:
            f.write(b"x" * 70000)  # more than any xattr value (64 KiB)
        h.smbclient(s, "moved", "put %s f.txt:st" % src)
        rc, out = h.smbclient(s, "moved", "put %s f.txt:st" % big)
        self.assertIn("NT_STATUS_DISK_FULL", out)
        self.assertIn("do not fit in an extended attribute", s.log_tail())
        val = os.getxattr(os.path.join(self.dir, "f.txt"), "user.DosStream.st:$DATA")
        self.assertLess(len(val), 65537)  # what fitted, never more than the fs stores
        info = h.smbclient(s, "moved", "allinfo f.txt")[1]
        self.assertRegex(info, r"stream: \[:st:\$DATA\], %d bytes" % (len(val) - 1))


class StreamsXattrTorture(h.ServerTestCase):
    """smbtorture smb2.streams against a share with vfs objects =
    streams_xattr: the same results as with the stream depot."""

    # the known failures of smb2.streams (smbtorture_known_failures.txt)
    KNOWN = {"rename2", "delete"}

    @classmethod
    def setUpClass(cls):
        if h.TARGET != "smb3d" or not shutil.which("smbtorture"):
            raise unittest.SkipTest("smb3d with the host's smbtorture")
        cls.server_args = {"shares": {"share": {"vfs objects": "streams_xattr", "read only": "no"}}}
        super().setUpClass()

    def test_smb2_streams(self):
        r = subprocess.run(["smbtorture", "//127.0.0.1/share", "-p", str(self.server.port),
                            "-U", "%s%%%s" % (U1, P1), "smb2.streams"],
                           capture_output=True, text=True, timeout=300)
        passed = set(re.findall(r"^success: (\S+)", r.stdout, re.M))
        failed = set(re.findall(r"^(?:failure|error): (\S+)", r.stdout, re.M))
        self.assertGreaterEqual(len(passed), 10, r.stdout[-3000:])
        self.assertEqual(failed - self.KNOWN, set(), r.stdout[-3000:])


class AclXattrTorture(h.ServerTestCase):
    """smbtorture smb2.acls and smb2.create.nulldacl against shares with
    vfs objects = acl_xattr (descriptors in Samba's security.NTACL): the
    same results as with smb3d's own store."""

    @classmethod
    def setUpClass(cls):
        if h.TARGET != "smb3d" or not shutil.which("smbtorture") or os.geteuid():
            raise unittest.SkipTest("smb3d as root, with the host's smbtorture")
        cls.server_args = {"shares": {"share": {"vfs objects": "acl_xattr", "read only": "no"},
                                      "hideunread": {"vfs objects": "acl_xattr", "hide unreadable": "yes"}}}
        super().setUpClass()

    def test_smb2_acls(self):
        for suite in ("smb2.acls", "smb2.create.nulldacl"):
            r = subprocess.run(["smbtorture", "//127.0.0.1/share", "-p", str(self.server.port),
                                "-U", "%s%%%s" % (U1, P1), suite], capture_output=True, text=True, timeout=300)
            passed = re.findall(r"^success: (\S+)", r.stdout, re.M)
            failed = re.findall(r"^(?:failure|error): (\S+)", r.stdout, re.M)
            self.assertTrue(passed, r.stdout[-3000:])
            self.assertEqual(failed, [], r.stdout[-3000:])


class SambaAcls(unittest.TestCase):
    """vfs objects = acl_xattr: an NT ACL set through Samba's smbd is read and
    enforced by smb3d, and one set through smb3d (security.NTACL, version 1)
    by Samba: the same DACL comes back.  Set SMB3D_SAMBA=chroot for Samba
    4.25."""

    WRITE_DATA, FULL = 0x2, 0x001F01FF
    EVERYONE = struct.pack("<BB6sI", 1, 1, b"\0\0\0\0\0\1", 0)
    ADMINS = struct.pack("<BB6sII", 1, 2, b"\0\0\0\0\0\5", 32, 544)

    def setUp(self):
        if (not shutil.which("smbd") and not h.SAMBA) or os.geteuid():
            self.skipTest("needs smbd and root")
        self.servers = []
        self.dir = tempfile.mkdtemp(prefix="smb3d-acls-")
        os.chmod(self.dir, 0o777)

    def tearDown(self):
        for s in self.servers:
            s.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def serve(self, kind):
        s = h.Server(kind=kind, shares={"moved": {"path": self.dir, "read only": "no",
                                                  "vfs objects": "acl_xattr"}})
        self.servers.append(s)
        return s

    @staticmethod
    def raw():
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
        import smb2raw
        return smb2raw

    def dacl_of(self, s):
        """The DACL of f.txt as (type, flags, mask, sid bytes), in order."""
        R = self.raw()
        c, ss = R.connect_session("127.0.0.1", s.port, U1, P1, share="moved")
        try:
            fid = R.create(c, ss, "f.txt", access=0x00020000, disposition=1)
            hdr = c.header(0x10, session_id=ss.id, tree_id=ss.tree_id)
            body = struct.pack("<HBBIHHIII16s", 41, 3, 0, 65536, 0, 0, 0, 4, 0, fid) + b"\0"
            r = c.call(hdr + body, R._key(c, ss))
            R.close(c, ss, fid)
        finally:
            c.close()
        self.assertEqual(r.status, 0)
        off, ln = struct.unpack_from("<HI", r.body, 2)
        sd = r.raw[off:off + ln]
        d = struct.unpack_from("<I", sd, 16)[0]
        n = struct.unpack_from("<H", sd, d + 4)[0]
        aces, p = [], d + 8
        for _ in range(n):
            t, fl, size, mask = struct.unpack_from("<BBHI", sd, p)
            aces.append((t, fl, mask, sd[p + 8:p + size]))
            p += size
        return aces

    def set_dacl(self, s):
        R = self.raw()
        aces = [(1, self.WRITE_DATA, self.EVERYONE), (0, self.FULL, self.ADMINS), (0, 0x00120089, self.EVERYONE)]
        body = b"".join(struct.pack("<BBHI", t, 0, 8 + len(sid), m) + sid for t, m, sid in aces)
        sd = struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 20) + struct.pack("<BBHHH", 2, 0, 8 + len(body),
                                                                             len(aces), 0) + body
        c, ss = R.connect_session("127.0.0.1", s.port, U1, P1, share="moved")
        try:
            fid = R.create(c, ss, "f.txt", access=0x00060000, disposition=1)
            hdr = c.header(0x11, session_id=ss.id, tree_id=ss.tree_id)
            req = struct.pack("<HBBIHHI16s", 33, 3, 0, len(sd), 64 + 32, 0, 4, fid) + sd
            st = c.call(hdr + req, R._key(c, ss)).status
            R.close(c, ss, fid)
        finally:
            c.close()
        self.assertEqual(st, 0)

    def write_with(self, kind):
        s = self.serve(kind)
        src = os.path.join(s.tmp, "src")
        with open(src, "w") as f:
            f.write("x")
        rc, out = h.smbclient(s, "moved", "put %s f.txt" % src)
        self.assertEqual(rc, 0, out)
        self.set_dacl(s)
        before = self.dacl_of(s)
        s.stop()
        self.servers.remove(s)
        self.assertIn("security.NTACL", os.listxattr(os.path.join(self.dir, "f.txt")))
        return before

    def read_with(self, kind, before):
        s = self.serve(kind)
        self.assertEqual(self.dacl_of(s), before)
        self.assertIn((1, 0, self.WRITE_DATA, self.EVERYONE), before)
        src = os.path.join(s.tmp, "src")
        with open(src, "w") as f:
            f.write("y")
        rc, out = h.smbclient(s, "moved", "put %s f.txt" % src)
        self.assertIn("NT_STATUS_ACCESS_DENIED", out)  # the DENY ACE holds

    def test_samba_to_smb3d(self):
        self.read_with("smb3d", self.write_with("samba"))

    def test_smb3d_to_samba(self):
        before = self.write_with("smb3d")
        self.assertNotIn("security.smb3d.ntacl", os.listxattr(os.path.join(self.dir, "f.txt")))
        self.read_with("samba", before)


class SambaMetadata(unittest.TestCase):
    """A share written by Samba's smbd and served by smb3d, and the reverse:
    the same DOS attributes and create times (user.DOSATTRIB in Samba's
    format)."""

    def setUp(self):
        if not shutil.which("smbd"):
            self.skipTest("no smbd")
        self.servers = []
        self.dir = tempfile.mkdtemp(prefix="smb3d-moved-")
        os.chmod(self.dir, 0o777)

    def tearDown(self):
        for s in self.servers:
            s.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def serve(self, kind):
        s = h.Server(kind=kind, shares={"moved": {"path": self.dir}})
        self.servers.append(s)
        return s

    def write_with(self, kind):
        s = self.serve(kind)
        src = os.path.join(s.tmp, "src")
        with open(src, "w") as f:
            f.write("x")
        cmds = ["put %s %s-hr.txt" % (src, kind), "put %s %s-plain.txt" % (src, kind),
                "mkdir %s-sys" % kind, "setmode %s-hr.txt +hr" % kind, "setmode %s-sys +s" % kind]
        rc, out = h.smbclient(s, "moved", cmds)
        self.assertEqual(rc, 0, out)
        before = {n: allinfo(s, "moved", n) for n in
                  ("%s-hr.txt" % kind, "%s-plain.txt" % kind, "%s-sys" % kind)}
        s.stop()
        self.servers.remove(s)
        return before

    def check_read_by(self, kind, before):
        s = self.serve(kind)
        for name, info in before.items():
            now = allinfo(s, "moved", name)
            for field in ("attributes", "create_time"):
                self.assertEqual(now.get(field), info.get(field), "%s %s (%s)" % (name, field, now))

    def test_samba_to_smb3d(self):
        before = self.write_with("samba")
        self.assertIn("(23)", before["samba-hr.txt"]["attributes"])  # archive, hidden, read-only
        self.check_read_by("smb3d", before)

    def test_smb3d_to_samba(self):
        before = self.write_with("smb3d")
        v = os.getxattr(os.path.join(self.dir, "smb3d-hr.txt"), "user.DOSATTRIB")
        self.assertEqual(v[:8], bytes.fromhex("0000050005000000"), v.hex())  # Samba's version 5
        self.check_read_by("samba", before)


class Logs(h.ServerTestCase):
    """What an admin (and fail2ban) reads: timestamps or journald priorities,
    failed logons with the client address at the default level, log file
    with rotation."""

    @classmethod
    def setUpClass(cls):
        if h.TARGET != "smb3d":
            raise unittest.SkipTest("smb3d only")
        super().setUpClass()

    def wait_log(self, server, pattern, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            log = server.log_tail(400000)
            m = re.search(pattern, log, re.M)
            if m:
                return m
            time.sleep(0.05)
        self.fail("no %r in the log:\n%s" % (pattern, server.log_tail()))

    def test_failed_logons_logged_with_address_and_reason(self):
        self.smb("ls", password="wrong")
        self.wait_log(self.server, r"logon failed from 127\.0\.0\.1: user '[^']*%s': wrong password" % U1)
        self.smb("ls", user="nosuchuser", password="x")
        self.wait_log(self.server, r"logon failed from 127\.0\.0\.1: user '[^']*nosuchuser': unknown user")
        # the fail2ban filter documented in ADMIN.md matches these lines
        with open(os.path.join(h.ROOT, "docs", "ADMIN.md")) as f:
            doc = f.read()
        m = re.search(r"failregex = (.*)", doc)
        self.assertTrue(m, "ADMIN.md documents a fail2ban failregex")
        rx = m.group(1).strip().replace("<HOST>", r"(?P<host>\S+)")
        hits = [re.search(rx, l) for l in self.server.log_tail(400000).splitlines()]
        self.assertEqual({x.group("host") for x in hits if x}, {"127.0.0.1"})

    def test_timestamps(self):
        self.wait_log(self.server, r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} smb3d\[warning\]: .*server role")

    def test_journald_priorities(self):
        s = h.Server(start=False, users=[])
        self._servers.append(s)
        with open(s.log_path, "ab") as lf:
            st = os.fstat(lf.fileno())
            env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
            p = subprocess.Popen(s.command(), stdin=subprocess.DEVNULL, stdout=lf, stderr=lf,
                                 cwd=s.tmp, env=env, start_new_session=True)
        try:
            self.wait_log(s, r"^<4>smb3d\[warning\]: .*option 'server role' is not supported")
            self.smb("ls", server=s, password="wrong")
            self.wait_log(s, r"^<4>smb3d\[warning\]: logon failed from 127\.0\.0\.1")
        finally:
            p.terminate()
            p.wait(timeout=10)

    def test_fatal_start_error_is_priority_3(self):
        s = h.Server(start=False, users=[], port=self.server.port)  # the port is taken
        self._servers.append(s)
        with open(s.log_path, "ab") as lf:
            st = os.fstat(lf.fileno())
            env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
            r = subprocess.run(s.command(), stdin=subprocess.DEVNULL, stdout=lf, stderr=lf, cwd=s.tmp,
                               env=env, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.wait_log(s, r"^<3>smb3d\[error\]: cannot listen on 127\.0\.0\.1:%d: another process" % s.port)

    def test_global_hosts_deny_logged_at_default_level(self):
        s = self.make_server(global_opts={"hosts deny": "127.0.0.1"})
        rc, out = self.smb("ls", server=s)
        self.assertNotEqual(rc, 0)
        self.wait_log(s, r"connection from 127\.0\.0\.1:\d+ refused \(hosts allow / hosts deny\)")

    def test_log_file_and_rotation(self):
        s = h.Server(start=False)
        self._servers.append(s)
        s.global_opts.update({"log file": os.path.join(s.tmp, "log.%m"), "max log size": "1",
                              "log level": "3"})
        s._write_config()
        s.start()
        path = os.path.join(s.tmp, "log.smb3d")
        for _ in range(12):
            self.smb("ls", server=s)
        deadline = time.time() + 10
        while time.time() < deadline and not os.path.exists(path + ".old"):
            time.sleep(0.05)
        self.assertTrue(os.path.exists(path + ".old"), os.listdir(s.tmp))
        self.assertLess(os.path.getsize(path), 4096)
        with open(path + ".old") as f:
            self.assertRegex(f.read(), r"smb3d\[info\]: ")


class HomesAndSubstitutions(h.ServerTestCase):
    """[homes] and the % substitutions of a Debian smb.conf: the same
    answers from Samba and smb3d."""

    @classmethod
    def setUpClass(cls):
        for u in (U1, U2):
            h.ensure_unix_user(u)
        cls._servers = []
        s = h.Server(start=False)
        cls._servers.append(s)
        base = os.path.join(s.tmp, "homes")
        per = os.path.join(s.tmp, "per")
        for d in (base, per):
            for u in (U1, U2):
                os.makedirs(os.path.join(d, u))
                os.chmod(os.path.join(d, u), 0o777)
        s.shares = {"homes": {"path": base + "/%S", "valid users": "%S", "browseable": "no",
                              "comment": "Home of %S"},
                    "per": {"path": per + "/%U"}}
        s.global_opts["server string"] = "%h file server (Samba %v)"
        s._write_config()
        s.start()
        cls.server = s
        cls.base, cls.per = base, per

    def src(self):
        p = os.path.join(self.server.tmp, "src-%d" % time.monotonic_ns())
        with open(p, "w") as f:
            f.write("x")
        return p

    def test_own_home(self):
        self.smb_ok("put %s mine.txt" % self.src(), share=U1)
        self.assertIn("mine.txt", os.listdir(os.path.join(self.base, U1)))

    def test_homes_name_is_the_users_home(self):
        self.smb_ok("put %s viahomes.txt" % self.src(), share="homes", user=U2, password=P2)
        self.assertIn("viahomes.txt", os.listdir(os.path.join(self.base, U2)))

    def test_other_users_home_refused_by_valid_users(self):
        rc, out = self.smb("ls", share=U1, user=U2, password=P2)
        self.assertTrue(denied(out), out)

    def test_no_such_user(self):
        rc, out = self.smb("ls", share="nosuchuser42")
        self.assertIn("NT_STATUS_BAD_NETWORK_NAME", out)

    def test_path_with_user(self):
        self.smb_ok("put %s u2.txt" % self.src(), share="per", user=U2, password=P2)
        self.assertIn("u2.txt", os.listdir(os.path.join(self.per, U2)))
        self.assertNotIn("u2.txt", os.listdir(os.path.join(self.per, U1)))

    def test_server_string(self):
        out = subprocess.run(["smbclient", "-L", "127.0.0.1", "-p", str(self.server.port), "-s",
                              self.server.client_conf, "-U", "%s%%%s" % (U1, P1)],
                             capture_output=True, text=True, timeout=60).stdout
        host = socket.gethostname()
        self.assertIn("IPC Service (%s file server (Samba " % host, out)
        self.assertNotIn("%h", out)


def outcome(out):
    """'OK' or the first NT_STATUS code in smbclient's output."""
    m = re.search(r"NT_STATUS_[A-Z_]+", out)
    return m.group(0) if m else "OK"


class DropIn(unittest.TestCase):
    """The same smb.conf served by Samba's smbd and by smb3d, the same client
    script against both: the same access decisions, the same modes, owners
    and groups on disk, the same visible names.  Differences must be listed
    in KNOWN_DIFFERENCES with a reason."""

    SHARES = {
        "rw": {"read list": U2},
        "ro": {"read only": "yes", "write list": U1},
        "inv": {"invalid users": U2},
        "team": {"valid users": "@" + CREW, "create mask": "0660", "directory mask": "2770"},
        "grp": {"valid users": "+" + TEAM},
        "veto": {"veto files": "/*.tmp/", "hide files": "/~$*/"},
        "masks": {"create mask": "0640", "force create mode": "0004", "directory mask": "0750"},
        "off": {"available": "no"},
        "hdeny": {"hosts deny": "127.0.0.1"},
        "fu": {"force user": U1, "force group": CREW, "invalid users": "nobody"},
        "adm": {"admin users": U1},
        "hunr": {"hide unreadable": "yes", "create mask": "0600"},
        "iown": {"inherit owner": "unix only", "delete veto files": "yes", "veto files": "/*.tmp/"},
    }
    # (what, reason): none today
    KNOWN_DIFFERENCES = {}

    @classmethod
    def setUpClass(cls):
        if not shutil.which("smbd") or h.TARGET != "smb3d":
            raise unittest.SkipTest("needs smbd; runs once, with the smb3d target")
        for u in (U1, U2):
            h.ensure_unix_user(u)
        ensure_group(CREW, [U1, U2])
        ensure_group(TEAM, [U1])

    def run_script(self, kind):
        import grp
        s = h.Server(kind=kind, shares=self.SHARES)
        try:
            gid = grp.getgrnam(CREW).gr_gid
            os.chown(s.path("team"), 0, gid)
            os.chmod(s.path("team"), 0o2770)
            for n in (".dot", "~$lock", "plain"):
                with open(os.path.join(s.path("veto"), n), "w") as f:
                    f.write("x")
            src = os.path.join(s.tmp, "src")
            with open(src, "w") as f:
                f.write("data\n")
            res = {}
            for user, pw in ((U1, P1), (U2, P2)):
                for share in self.SHARES:
                    key = "%s@%s" % (user, share)
                    for op, cmd in (("ls", "ls"), ("put", "put %s %s.txt" % (src, user)),
                                    ("mkdir", "mkdir %s-dir" % user), ("vetoed", "put %s %s.tmp" % (src, user))):
                        rc, out = h.smbclient(s, share, cmd, user=user, password=pw)
                        res["%s %s" % (key, op)] = outcome(out)
                    if res[key + " ls"] == "OK":
                        names = ls_attrs(h.smbclient(s, share, "ls", user=user, password=pw)[1])
                        res[key + " names"] = sorted("%s%s" % (n, "(H)" if "H" in a else "")
                                                     for n, a in names.items() if n not in (".", ".."))
            for share in self.SHARES:
                root = s.path(share)
                for n in sorted(os.listdir(root)):
                    st = os.stat(os.path.join(root, n))
                    res["disk %s/%s" % (share, n)] = (oct(st.st_mode & 0o7777), st.st_uid, st.st_gid)
            return res
        finally:
            s.stop()

    def test_same_decisions_modes_and_names(self):
        samba, smb3d = self.run_script("samba"), self.run_script("smb3d")
        diffs = []
        for k in sorted(set(samba) | set(smb3d)):
            if samba.get(k) != smb3d.get(k) and k not in self.KNOWN_DIFFERENCES:
                diffs.append("%s: samba %s, smb3d %s" % (k, samba.get(k), smb3d.get(k)))
        self.assertEqual(diffs, [], "\n".join(diffs))
        # and the script did exercise both outcomes
        self.assertIn("OK", samba.values())
        self.assertIn("NT_STATUS_ACCESS_DENIED", samba.values())


def smb3ctl(conf, *args):
    r = subprocess.run([os.path.join(h.BUILD, "smb3ctl"), "-c", conf] + list(args),
                       capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout, r.stderr


def run_smb3d(server, timeout=20):
    """Run smb3d on server's config in the foreground until it exits."""
    r = subprocess.run(server.command(), capture_output=True, text=True, timeout=timeout, cwd=server.tmp)
    return r.returncode, r.stdout + r.stderr


class OneInstance(h.ServerTestCase):
    """One server per port and per pid directory; the control socket of a
    running server is never taken; smb3ctl talks only to the server its
    configuration names and reports what the server decided."""

    @classmethod
    def setUpClass(cls):
        if h.TARGET != "smb3d":
            raise unittest.SkipTest("smb3d only")
        super().setUpClass()

    def second(self, **opts):
        s = h.Server(start=False, users=[], port=opts.pop("port", None))
        self._servers.append(s)
        s.global_opts.update(opts)
        s._write_config()
        return s

    def test_pid_file_holds_our_pid(self):
        pidf = os.path.join(self.server.tmp, "smb3d.pid")
        with open(pidf) as f:
            self.assertEqual(int(f.read()), self.server.proc.pid)

    def test_second_smb3d_on_same_port_refused(self):
        s = self.second(port=self.server.port)
        rc, out = run_smb3d(s)
        self.assertEqual(rc, 1, out)
        self.assertIn("another process (smbd or another smb3d) listens there", out)
        self.assertEqual(len([l for l in out.splitlines() if "warning:" not in l]), 1, out)  # one clear line
        # every connection still reaches the first server
        for _ in range(6):
            self.smb_ok("ls")
        rc, out, err = smb3ctl(self.server.conf, "status")
        self.assertEqual(rc, 0, err)

    def test_second_smb3d_with_same_pid_file_refused(self):
        s = self.second(**{"pid directory": self.server.tmp})
        rc, out = run_smb3d(s)
        self.assertEqual(rc, 1, out)
        self.assertIn("another smb3d (pid %d) is running" % self.server.proc.pid, out)

    def test_control_socket_of_running_server_not_taken(self):
        sock = os.path.join(self.server.tmp, "control.sock")
        ino = os.stat(sock).st_ino
        s = self.second(**{"control socket": sock, "pid directory": os.path.join(self.server.tmp, "pid")})
        rc, out = run_smb3d(s)
        self.assertEqual(rc, 1, out)
        self.assertIn("control socket %s belongs to a running server" % sock, out)
        self.assertEqual(os.stat(sock).st_ino, ino)  # neither replaced nor removed
        rc, out, err = smb3ctl(self.server.conf, "status")
        self.assertEqual(rc, 0, err)

    def test_stale_control_socket_and_pid_file_taken_over(self):
        s = self.second()
        import socket as so
        sock = os.path.join(s.tmp, "control.sock")
        x = so.socket(so.AF_UNIX, so.SOCK_STREAM)
        x.bind(sock)
        x.close()  # a socket file nobody listens on
        with open(os.path.join(s.tmp, "smb3d.pid"), "w") as f:
            f.write("999999\n")  # left by a crashed server, not locked
        s.start()
        rc, out, err = smb3ctl(s.conf, "status")
        self.assertEqual(rc, 0, err)
        s.stop()

    def test_smb3ctl_bad_config_never_reaches_a_server(self):
        bad = os.path.join(self.server.tmp, "bad.conf")
        with open(bad, "w") as f:
            f.write("[global]\n\tcontrol socket = %s\n\tserver signing = sometimes\n"
                    % os.path.join(self.server.tmp, "control.sock"))
        n = self.server.log_tail(200000).count("configuration reloaded")
        for cmd in ("reload", "status"):
            rc, out, err = smb3ctl(bad, cmd)
            self.assertEqual(rc, 1, out + err)
            self.assertIn("bad.conf:3:", err)
            self.assertIn("not contacting any server", err)
            self.assertEqual(out, "")
        rc, out, err = smb3ctl(os.path.join(self.server.tmp, "missing.conf"), "status")
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(out, "")
        time.sleep(0.2)
        self.assertEqual(self.server.log_tail(200000).count("configuration reloaded"), n)

    def test_status_shows_tree_connects(self):
        c = h.impacket_conn(self.server)
        try:
            tid = c.connectTree("share")
            rc, out, err = smb3ctl(self.server.conf, "status")
            self.assertEqual(rc, 0, err)
            self.assertRegex(out, r"\n    tree %d  share \[share\]  path %s" % (tid, re.escape(self.server.path())))
        finally:
            c.close()

    def test_status_json_with_locks(self):
        """smb3ctl status --json: tree connects, open files and their byte-range
        locks, as one JSON object (the text form lists the locks too)."""
        import json
        import struct
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
        import smb2raw as R
        c, s = R.connect_session("127.0.0.1", self.server.port, U1, P1)
        try:
            fid = R.create(c, s, "locked.txt", disposition=5)
            hdr = c.header(0x0A, session_id=s.id, tree_id=s.tree_id)
            body = struct.pack("<HHI16s", 48, 1, 0, fid) + struct.pack("<QQII", 100, 50, 0x12, 0)
            self.assertEqual(c.call(hdr + body, R._key(c, s)).status, 0)
            rc, out, err = smb3ctl(self.server.conf, "status", "--json")
            self.assertEqual(rc, 0, err)
            st = json.loads(out)
            mine = [x for x in st["sessions"] if x["user"] == U1]
            self.assertTrue(mine and mine[0]["trees"][0]["share"] == "share", out)
            f = [x for x in st["files"] if x["path"] == "locked.txt"]
            self.assertEqual(f[0]["locks"], [{"offset": 100, "length": 50, "exclusive": True}], out)
            rc, out, err = smb3ctl(self.server.conf, "status")
            self.assertIn("    lock exclusive  offset 100  length 50", out)
        finally:
            c.close()

    def test_kill_client_session_share(self):
        """kill-session, close-share and kill-client end the chosen connections;
        a choice that matches nothing is an error."""
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
        import smb2raw as R

        def gone(c, s):
            try:
                R.echo(c, s)
            except Exception:
                return True
            return False

        for args in (lambda s: ("kill-session", "0x%016x" % s.id), lambda s: ("close-share", "share"),
                     lambda s: ("kill-client", "127.0.0.1")):
            c, s = R.connect_session("127.0.0.1", self.server.port, U1, P1)
            other, os_ = R.connect_session("127.0.0.1", self.server.port, U2, P2, share="IPC$")
            try:
                a = args(s)
                rc, out, err = smb3ctl(self.server.conf, *a)
                self.assertEqual(rc, 0, err)
                self.assertRegex(out, r"[1-9]\d* connection\(s\) ended")
                deadline = time.time() + 5
                while not gone(c, s) and time.time() < deadline:
                    time.sleep(0.05)
                self.assertTrue(gone(c, s), a)
                if a[0] != "kill-client":  # the other user's connection stays
                    self.assertFalse(gone(other, os_), a)
            finally:
                c.close()
                other.close()
        for a in (("kill-client", "10.9.9.9"), ("kill-session", "0x1234"), ("close-share", "nosuch")):
            rc, out, err = smb3ctl(self.server.conf, *a)
            self.assertEqual(rc, 1, out + err)
        rc, out, err = smb3ctl(self.server.conf, "kill-session")
        self.assertEqual(rc, 2)
        self.assertServerAlive()

    def test_smb3ctl_extra_arguments_are_errors(self):
        for args in (("status", "bogus"), ("reload", "now"), ("user", "list", "x")):
            rc, out, err = smb3ctl(self.server.conf, *args)
            self.assertEqual(rc, 2, (args, out, err))
            self.assertIn("unexpected argument", err)

    def test_smb3ctl_reload_reports_the_servers_answer(self):
        rc, out, err = smb3ctl(self.server.conf, "reload")
        self.assertEqual(rc, 0, err)
        self.assertIn("the new configuration is in effect", out)
        # smb3ctl can read the file, the server cannot take it (a broken
        # user database): the server's refusal is smb3ctl's exit status
        with open(self.server.passdb) as f:
            good = f.read()
        try:
            with open(self.server.passdb, "a") as f:
                f.write("garbage line\n")
            rc, out, err = smb3ctl(self.server.conf, "reload")
            self.assertEqual(rc, 1, out + err)
            self.assertIn("error: cannot read user database", err)
        finally:
            with open(self.server.passdb, "w") as f:
                f.write(good)
        self.smb_ok("ls")

    def test_users_apply_without_reload(self):
        """ADMIN.md: the server notices a changed smbpasswd file by itself."""
        s = self.server
        rc, out, err = smb3ctl(s.conf, "user", "del", U2)
        self.assertEqual(rc, 0, err)
        try:
            time.sleep(1.1)  # the file is looked at most once a second
            rc, out = self.smb("ls", user=U2, password=P2)
            self.assertIn("NT_STATUS_LOGON_FAILURE", out)
        finally:
            uid = h.ensure_unix_user(U2)
            r = subprocess.run([os.path.join(h.BUILD, "smb3ctl"), "-c", s.conf, "user", "add", U2, "--uid",
                                str(uid), "-s"], input="%s\n%s\n" % (P2, P2), capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
        time.sleep(1.1)
        self.smb_ok("ls", user=U2, password=P2)

    def test_systemd_notify(self):
        """Type=notify: READY=1 once serving, RELOADING=1 then READY=1 around a
        reload, with the outcome in STATUS= (a rejected file says so)."""
        d = tempfile.mkdtemp(prefix="smb3d-notify-")
        path = os.path.join(d, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(10)

        def until(word):
            got = []
            while True:
                m = sock.recv(4096).decode()
                got.append(m)
                if word in m.split("\n"):
                    return m, got

        os.environ["NOTIFY_SOCKET"] = path
        try:
            s = self.make_server()
        finally:
            del os.environ["NOTIFY_SOCKET"]
        try:
            m, _ = until("READY=1")
            self.assertIn("STATUS=serving", m)
            os.kill(s.proc.pid, signal.SIGHUP)
            m, got = until("READY=1")
            self.assertTrue(any(g.startswith("RELOADING=1\nMONOTONIC_USEC=") for g in got), got)
            self.assertIn("configuration reloaded", m)
            with open(s.conf, "a") as f:
                f.write("\tbogus boolean = \n[x]\n\tread only = perhaps\n")
            os.kill(s.proc.pid, signal.SIGHUP)
            m, _ = until("READY=1")
            self.assertIn("reload rejected", m)
        finally:
            sock.close()
            shutil.rmtree(d, ignore_errors=True)

    def test_user_disable_enable(self):
        s = self.server
        rc, out, err = smb3ctl(s.conf, "user", "disable", U2)
        self.assertEqual(rc, 0, err)
        try:
            time.sleep(1.1)  # the file is looked at most once a second
            rc, out = self.smb("ls", user=U2, password=P2)
            self.assertRegex(out, r"NT_STATUS_(ACCOUNT_DISABLED|LOGON_FAILURE)")
            self.assertIn("account disabled", s.log_tail())
        finally:
            rc, out, err = smb3ctl(s.conf, "user", "enable", U2)
            self.assertEqual(rc, 0, err)
        time.sleep(1.1)
        self.smb_ok("ls", user=U2, password=P2)
        rc, out, err = smb3ctl(s.conf, "user", "disable", "no-such-user")
        self.assertEqual(rc, 1)

    def test_reload_does_not_repeat_warnings(self):
        s = self.server
        s.global_opts["load printers"] = "no"
        s._write_config()
        for _ in range(3):
            rc, out, err = smb3ctl(s.conf, "reload")
            self.assertEqual(rc, 0, err)
        log = s.log_tail(200000)
        self.assertEqual(log.count("option 'load printers' is not supported"), 1, log)


if __name__ == "__main__":
    h.main()
