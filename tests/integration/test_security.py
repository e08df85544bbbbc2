#!/usr/bin/python3
"""Identity, confinement and bad input (the file-service issue's security part).

  Identity      the server runs as root; every file operation of a session runs
                with the session user's unix uid/gid/groups, so unix permissions
                hold for SMB users.
  Confinement   no name, "..", absolute-looking path or symlink planted in the
                share reaches a file outside it; each attempt gets the status
                Windows gives.
  Bad input     names with NUL, invalid UTF-16 or reserved characters are
                refused with STATUS_OBJECT_NAME_INVALID.
  Drops         a connection that dies in the middle of a large WRITE leaves
                the server up, the file system usable, and no fd open.

CREATE requests here are built by hand: impacket's createFile normalizes
names (it resolves ".." and strips a leading backslash), which would hide
exactly what is being tested.
"""

import os
import pwd
import shutil
import socket
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

STATUS_SUCCESS = 0
STATUS_INVALID_PARAMETER = 0xC000000D
STATUS_ACCESS_DENIED = 0xC0000022
STATUS_OBJECT_NAME_INVALID = 0xC0000033
STATUS_OBJECT_NAME_NOT_FOUND = 0xC0000034
STATUS_OBJECT_PATH_NOT_FOUND = 0xC000003A
STATUS_OBJECT_PATH_SYNTAX_BAD = 0xC000003B

GENERIC_READ, GENERIC_WRITE = 0x80000000, 0x40000000
FILE_READ_DATA, FILE_READ_ATTRIBUTES = 0x1, 0x80
SHARE_ALL = 7
FILE_OPEN, FILE_CREATE, FILE_OPEN_IF = 1, 2, 3
DIRECTORY_FILE, NON_DIRECTORY_FILE = 0x1, 0x40

NAMES = {v: k for k, v in list(globals().items()) if k.startswith("STATUS_")}


def sname(st):
    return NAMES.get(st, "0x%08x" % st)


def u16(name):
    return name.encode("utf-16le")


class Raw:
    """An impacket session (SMB 2.1, unsigned, unencrypted) plus a CREATE that
    sends the name bytes exactly as given."""

    def __init__(self, server, user=h.USER1, share="share"):
        from impacket import smb3structs as s3
        self.s3 = s3
        self.conn = h.impacket_conn(server, dialect=s3.SMB2_DIALECT_21, user=user[0],
                                    password=user[1], encrypt=False)
        self.tid = self.conn.connectTree(share)
        self.inner = self.conn._SMBConnection

    def create(self, name_bytes, access=GENERIC_READ, disp=FILE_OPEN, options=0,
               share=SHARE_ALL):
        """Returns (status, file_id or None); a successful open is closed again
        unless keep() is used."""
        st, fid = self._create(name_bytes, access, disp, options, share)
        if fid is not None:
            self.close_file(fid)
        return st

    def _send(self, command, data):
        pkt = self.inner.SMB_PACKET()
        pkt["Command"] = command
        pkt["TreeID"] = self.tid
        pkt["Data"] = data
        return self.inner.recvSMB(self.inner.sendSMB(pkt))

    def close_file(self, fid):
        req = self.s3.SMB2Close()
        req["Flags"] = 0
        req["FileID"] = fid
        return self._send(self.s3.SMB2_CLOSE, req)["Status"]

    def rename(self, fid, new_name_bytes):
        """SET_INFO FileRenameInformation with the target name as given."""
        s3 = self.s3
        ri = s3.FILE_RENAME_INFORMATION_TYPE_2()
        ri["ReplaceIfExists"] = 0
        ri["RootDirectory"] = 0
        ri["FileNameLength"] = len(new_name_bytes)
        ri["FileName"] = new_name_bytes
        blob = ri.getData()
        req = s3.SMB2SetInfo()
        req["InfoType"] = s3.SMB2_0_INFO_FILE
        req["FileInfoClass"] = s3.SMB2_FILE_RENAME_INFO
        req["BufferLength"] = len(blob)
        req["AdditionalInformation"] = 0
        req["FileID"] = fid
        req["Buffer"] = blob
        return self._send(s3.SMB2_SET_INFO, req)["Status"]

    def _create(self, name_bytes, access, disp, options, share):
        s3 = self.s3
        pkt = self.inner.SMB_PACKET()
        pkt["Command"] = s3.SMB2_CREATE
        pkt["TreeID"] = self.tid
        req = s3.SMB2Create()
        req["SecurityFlags"] = 0
        req["RequestedOplockLevel"] = 0
        req["ImpersonationLevel"] = s3.SMB2_IL_IMPERSONATION
        req["DesiredAccess"] = access
        req["FileAttributes"] = 0
        req["ShareAccess"] = share
        req["CreateDisposition"] = disp
        req["CreateOptions"] = options
        req["NameLength"] = len(name_bytes)
        req["Buffer"] = name_bytes if name_bytes else b"\x00"
        req["CreateContextsOffset"] = 0
        req["CreateContextsLength"] = 0
        pkt["Data"] = req
        ans = self.inner.recvSMB(self.inner.sendSMB(pkt))
        st = ans["Status"]
        if st != STATUS_SUCCESS:
            return st, None
        return st, s3.SMB2Create_Response(ans["Data"])["FileID"]

    def keep(self, name_bytes, access=GENERIC_READ, disp=FILE_OPEN, options=0):
        return self._create(name_bytes, access, disp, options, SHARE_ALL)

    def close(self):
        try:
            self.conn.logoff()
        except Exception:
            pass
        try:
            self.conn.close()
        except Exception:
            pass


class SecurityBase(h.ServerTestCase):
    server_args = dict(shares={"share": {}})

    def setUp(self):
        self.raw = Raw(self.server)
        self.addCleanup(self.raw.close)
        self.share = self.server.path("share")

    def assertStatus(self, got, want, what):
        if isinstance(want, (set, tuple, list)):
            self.assertIn(got, want, "%s: got %s, want one of %s"
                          % (what, sname(got), ", ".join(sname(w) for w in want)))
        else:
            self.assertEqual(got, want, "%s: got %s, want %s" % (what, sname(got), sname(want)))


@unittest.skipUnless(os.geteuid() == 0, "identity switching needs a server running as root")
class Identity(SecurityBase):
    """Unix permissions apply to the session user (smb3test1)."""

    def test_root_only_file_is_not_readable(self):
        p = os.path.join(self.share, "root0600.txt")
        with open(p, "w") as f:
            f.write("secret\n")
        os.chown(p, 0, 0)
        os.chmod(p, 0o600)
        self.assertStatus(self.raw.create(u16("root0600.txt"), access=GENERIC_READ),
                          STATUS_ACCESS_DENIED, "read a root 0600 file")
        self.assertStatus(self.raw.create(u16("root0600.txt"), access=GENERIC_WRITE),
                          STATUS_ACCESS_DENIED, "write a root 0600 file")
        # attributes stay readable (Windows grants FILE_READ_ATTRIBUTES via the parent)
        rc, out = self.smb("get root0600.txt /dev/null")
        self.assertIn("NT_STATUS_ACCESS_DENIED", out)
        with open(p) as f:
            self.assertEqual(f.read(), "secret\n")

    def test_created_file_is_owned_by_the_user(self):
        uid = pwd.getpwnam(h.USER1[0]).pw_uid
        self.assertStatus(self.raw.create(u16("mine.txt"), access=GENERIC_READ | GENERIC_WRITE,
                                          disp=FILE_CREATE, options=NON_DIRECTORY_FILE),
                          STATUS_SUCCESS, "create mine.txt")
        self.assertStatus(self.raw.create(u16("mydir"), access=GENERIC_READ,
                                          disp=FILE_CREATE, options=DIRECTORY_FILE),
                          STATUS_SUCCESS, "mkdir mydir")
        for n in ("mine.txt", "mydir"):
            self.assertEqual(os.stat(os.path.join(self.share, n)).st_uid, uid,
                             "%s is not owned by %s" % (n, h.USER1[0]))
        out = self.smb_ok("put /etc/hostname put.txt")
        self.assertEqual(os.stat(os.path.join(self.share, "put.txt")).st_uid, uid, out)

    def test_unwritable_directory_refuses_creates(self):
        d = os.path.join(self.share, "rodir")
        os.mkdir(d)
        os.chown(d, 0, 0)
        os.chmod(d, 0o755)
        self.assertStatus(self.raw.create(u16("rodir\\new.txt"), access=GENERIC_READ | GENERIC_WRITE,
                                          disp=FILE_CREATE, options=NON_DIRECTORY_FILE),
                          STATUS_ACCESS_DENIED, "create in a root 0755 directory")
        self.assertStatus(self.raw.create(u16("rodir\\sub"), disp=FILE_CREATE,
                                          options=DIRECTORY_FILE),
                          STATUS_ACCESS_DENIED, "mkdir in a root 0755 directory")
        self.assertEqual(os.listdir(d), [])
        # the directory itself is still readable
        self.assertStatus(self.raw.create(u16("rodir"), access=FILE_READ_DATA,
                                          options=DIRECTORY_FILE),
                          STATUS_SUCCESS, "open rodir for listing")

    def test_other_users_private_file(self):
        """A file smb3test2 keeps private (0600) is closed to smb3test1."""
        uid2 = pwd.getpwnam(h.USER2[0]).pw_uid
        p = os.path.join(self.share, "u2.txt")
        with open(p, "w") as f:
            f.write("two\n")
        os.chown(p, uid2, -1)
        os.chmod(p, 0o600)
        self.assertStatus(self.raw.create(u16("u2.txt")), STATUS_ACCESS_DENIED, "read u2.txt as user1")
        r2 = Raw(self.server, user=h.USER2)
        try:
            self.assertStatus(r2.create(u16("u2.txt")), STATUS_SUCCESS, "read u2.txt as user2")
        finally:
            r2.close()


class PathEscapes(SecurityBase):
    """Nothing outside the share can be named."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a private area next to the share: "outside"
        cls.outside = tempfile.mkdtemp(prefix="smb3d-it-outside-")
        os.chmod(cls.outside, 0o755)
        cls.secret = os.path.join(cls.outside, "secret.txt")
        with open(cls.secret, "w") as f:
            f.write("outside\n")
        os.chmod(cls.secret, 0o666)  # unix permissions would allow it: only confinement stops it
        share = cls.server.path("share")
        os.symlink("/etc", os.path.join(share, "etc_link"))
        os.symlink(cls.secret, os.path.join(share, "file_link"))
        os.symlink(os.path.relpath(cls.secret, share), os.path.join(share, "rel_link"))
        os.mkdir(os.path.join(share, "sub"), 0o777)
        os.chmod(os.path.join(share, "sub"), 0o777)
        os.symlink("../..", os.path.join(share, "sub", "up_link"))
        with open(os.path.join(share, "inside.txt"), "w") as f:
            f.write("inside\n")
        os.chmod(os.path.join(share, "inside.txt"), 0o666)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.outside, ignore_errors=True)
        super().tearDownClass()

    def test_dotdot(self):
        cases = [
            ("..\\..\\etc\\passwd", STATUS_OBJECT_PATH_SYNTAX_BAD),
            ("..\\x", STATUS_OBJECT_PATH_SYNTAX_BAD),
            ("..", STATUS_OBJECT_PATH_SYNTAX_BAD),
            ("sub\\..\\..\\etc\\passwd", STATUS_OBJECT_PATH_SYNTAX_BAD),
            ("sub\\..\\..", STATUS_OBJECT_PATH_SYNTAX_BAD),
        ]
        for name, want in cases:
            with self.subTest(name=name):
                self.assertStatus(self.raw.create(u16(name)), want, name)
                self.assertStatus(self.raw.create(u16(name), access=GENERIC_WRITE, disp=FILE_OPEN_IF,
                                                  options=NON_DIRECTORY_FILE), want, name + " (open_if)")
        # "dir\.." stays inside: it is the share root / the file itself
        self.assertStatus(self.raw.create(u16("sub\\..\\inside.txt")), STATUS_SUCCESS, "sub\\..\\inside.txt")
        self.assertStatus(self.raw.create(u16("sub\\.."), options=DIRECTORY_FILE), STATUS_SUCCESS, "sub\\..")
        self.assertFalse(os.path.exists(os.path.join(os.path.dirname(self.share), "x")))

    def test_absolute_looking_names(self):
        cases = [
            ("\\..\\x", STATUS_INVALID_PARAMETER),          # MS-SMB2 3.3.5.9: leading separator
            ("\\etc\\passwd", STATUS_INVALID_PARAMETER),
            ("\\\\server\\share\\x", STATUS_INVALID_PARAMETER),
            ("/etc/passwd", STATUS_OBJECT_NAME_INVALID),     # '/' is not a separator in SMB2
            ("sub/../../x", STATUS_OBJECT_NAME_INVALID),
            ("C:\\Windows\\win.ini", STATUS_OBJECT_NAME_INVALID),
            ("C:", STATUS_OBJECT_NAME_INVALID),
        ]
        for name, want in cases:
            with self.subTest(name=name):
                self.assertStatus(self.raw.create(u16(name)), want, name)
                self.assertStatus(self.raw.create(u16(name), access=GENERIC_WRITE, disp=FILE_OPEN_IF,
                                                  options=NON_DIRECTORY_FILE), want, name + " (open_if)")

    def test_symlinks_pointing_out(self):
        for name in ("etc_link\\passwd", "etc_link", "file_link", "rel_link",
                     "sub\\up_link", "sub\\up_link\\etc\\passwd"):
            with self.subTest(name=name):
                self.assertStatus(self.raw.create(u16(name)), STATUS_ACCESS_DENIED, name)
                self.assertStatus(self.raw.create(u16(name), access=GENERIC_WRITE, disp=FILE_OPEN_IF,
                                                  options=NON_DIRECTORY_FILE),
                                  STATUS_ACCESS_DENIED, name + " (write)")
        # create through a link to a directory outside
        self.assertStatus(self.raw.create(u16("etc_link\\smb3d-planted"), access=GENERIC_WRITE,
                                          disp=FILE_CREATE, options=NON_DIRECTORY_FILE),
                          STATUS_ACCESS_DENIED, "create under etc_link")
        self.assertFalse(os.path.exists("/etc/smb3d-planted"))
        with open(self.secret) as f:
            self.assertEqual(f.read(), "outside\n")
        # smbclient sees the same
        rc, out = self.smb("get file_link /dev/null")
        self.assertIn("NT_STATUS_ACCESS_DENIED", out)
        rc, out = self.smb("ls etc_link\\*")
        self.assertNotIn("passwd", out)
        self.assertServerAlive()

    def test_rename_out_of_the_share(self):
        st, fid = self.raw.keep(u16("inside.txt"), access=0x10000 | GENERIC_READ)  # DELETE
        self.assertStatus(st, STATUS_SUCCESS, "open inside.txt for DELETE")
        try:
            for target, want in (("..\\moved.txt", STATUS_OBJECT_PATH_SYNTAX_BAD),
                                 ("sub\\..\\..\\moved.txt", STATUS_OBJECT_PATH_SYNTAX_BAD),
                                 ("etc_link\\moved.txt", STATUS_ACCESS_DENIED),
                                 ("sub\\up_link\\moved.txt", STATUS_ACCESS_DENIED),
                                 ("/tmp/moved.txt", STATUS_OBJECT_NAME_INVALID)):
                with self.subTest(target=target):
                    self.assertStatus(self.raw.rename(fid, u16(target)), want, "rename to " + target)
        finally:
            self.raw.close_file(fid)
        self.assertTrue(os.path.exists(os.path.join(self.share, "inside.txt")))
        for p in (os.path.join(os.path.dirname(self.share), "moved.txt"), "/etc/moved.txt",
                  "/tmp/moved.txt", os.path.join(os.path.dirname(os.path.dirname(self.share)), "moved.txt")):
            self.assertFalse(os.path.exists(p), p)


class BadNames(SecurityBase):
    """Names Windows refuses with STATUS_OBJECT_NAME_INVALID."""

    def test_nul_and_invalid_utf16(self):
        cases = [
            ("NUL inside", u16("a") + b"\x00\x00" + u16("b")),
            ("NUL at the end", u16("ab") + b"\x00\x00"),
            ("lone high surrogate", u16("a") + b"\x00\xd8" + u16("b")),
            ("lone low surrogate", b"\x00\xdc" + u16("x")),
            ("high surrogate at the end", u16("x") + b"\x3d\xd8"),
            ("swapped surrogate pair", b"\x00\xde\x3d\xd8"),
        ]
        for what, raw in cases:
            with self.subTest(what=what):
                self.assertStatus(self.raw.create(raw, access=GENERIC_WRITE, disp=FILE_OPEN_IF,
                                                  options=NON_DIRECTORY_FILE),
                                  STATUS_OBJECT_NAME_INVALID, what)
        self.assertEqual(os.listdir(self.share), [])

    def test_reserved_characters(self):
        for c in '<>"|?*\x01\x1f':
            name = "bad%sname" % c
            with self.subTest(char=repr(c)):
                self.assertStatus(self.raw.create(u16(name), access=GENERIC_WRITE, disp=FILE_OPEN_IF,
                                                  options=NON_DIRECTORY_FILE),
                                  STATUS_OBJECT_NAME_INVALID, repr(name))
        for name in ("a\\\\b", "a\\.\\b", "."):
            with self.subTest(name=name):
                self.assertStatus(self.raw.create(u16(name), access=GENERIC_WRITE, disp=FILE_OPEN_IF,
                                                  options=NON_DIRECTORY_FILE),
                                  STATUS_OBJECT_NAME_INVALID, name)
        self.assertEqual(os.listdir(self.share), [])
        # a valid non-ASCII name (a surrogate pair) works
        good = "ok-\U0001F600.txt"
        self.assertStatus(self.raw.create(u16(good), access=GENERIC_WRITE, disp=FILE_CREATE,
                                          options=NON_DIRECTORY_FILE), STATUS_SUCCESS, "emoji name")
        self.assertTrue(os.path.exists(os.path.join(self.share, good)))


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class ConnectionDrops(SecurityBase):
    """Connections that die mid-WRITE."""

    WRITE_LEN = 4 << 20

    def _write_packet(self, raw, fid, length, offset=0):
        """The bytes of a WRITE request (with NetBIOS header) for `length` bytes."""
        s3 = raw.s3
        inner = raw.inner
        pkt = inner.SMB_PACKET()
        pkt["Command"] = s3.SMB2_WRITE
        pkt["TreeID"] = raw.tid
        pkt["SessionID"] = inner._Session["SessionID"]
        pkt["MessageID"] = inner._Connection["SequenceWindow"]
        inner._Connection["SequenceWindow"] += 1
        charge = (length + 65535) // 65536
        pkt["CreditCharge"] = charge
        pkt["CreditRequestResponse"] = charge
        w = s3.SMB2Write()
        w["WriteChannelInfoOffset"] = 0
        w["WriteChannelInfoLength"] = 0
        w["Offset"] = offset
        w["FileID"] = fid
        w["Length"] = length
        w["Buffer"] = b"\xab" * length
        w["DataOffset"] = 0x70
        pkt["Data"] = w
        data = pkt.getData()
        return struct.pack(">I", len(data)) + data

    def _idle_fds(self, pid, want=None, timeout=10.0):
        """fd count once it has been stable for a moment (or equals want)."""
        deadline = time.time() + timeout
        last, stable_since = None, time.time()
        while time.time() < deadline:
            n = fd_count(pid)
            if want is not None and n == want:
                return n
            if n != last:
                last, stable_since = n, time.time()
            elif want is None and time.time() - stable_since > 1.0:
                return n
            time.sleep(0.1)
        return last

    def test_drop_mid_write(self):
        if self.server.kind != "smb3d":
            self.skipTest("fd accounting of smbd's forked children differs")
        pid = self.server.proc.pid
        # warm up: one complete session with a write, so lazily created
        # descriptors (pools, rings) exist before the baseline
        self.raw.conn.putFile("share", "warm.bin", lambda n: b"")
        self.raw.close()
        base = self._idle_fds(pid)
        for attempt in ("half the payload", "header only", "complete, then gone"):
            with self.subTest(attempt=attempt):
                raw = Raw(self.server)
                st, fid = raw.keep(u16("big.bin"), access=GENERIC_READ | GENERIC_WRITE,
                                   disp=FILE_OPEN_IF)
                self.assertEqual(st, STATUS_SUCCESS)
                # a second open of the same file, left open too
                st2, fid2 = raw.keep(u16("big.bin"), access=GENERIC_READ)
                self.assertEqual(st2, STATUS_SUCCESS)
                buf = self._write_packet(raw, fid, self.WRITE_LEN)
                cut = {"half the payload": len(buf) // 2, "header only": 4 + 64 + 48,
                       "complete, then gone": len(buf)}[attempt]
                sock = raw.inner._NetBIOSSession.get_socket()
                sock.sendall(buf[:cut])
                # abortive close: RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
                self.assertServerAlive()
        n = self._idle_fds(pid, want=base)
        self.assertEqual(n, base, "fds open before %d, after %d" % (base, n))
        # the file system is consistent: the file is there, another client can
        # use it, delete it, and the share is empty afterwards
        p = os.path.join(self.share, "big.bin")
        self.assertTrue(os.path.exists(p))
        self.assertIn(os.path.getsize(p), (0, self.WRITE_LEN))
        raw = Raw(self.server)
        try:
            st, fid = raw.keep(u16("big.bin"), access=0x10000 | GENERIC_READ)  # DELETE
            self.assertEqual(st, STATUS_SUCCESS, "reopen after the drops: %s" % sname(st))
            raw.close_file(fid)
        finally:
            raw.close()
        out = self.smb_ok("del big.bin; del warm.bin; ls")
        self.assertEqual(sorted(os.listdir(self.share)), [], out)
        self.assertEqual(self._idle_fds(pid, want=base), base)
        self.assertServerAlive()



class NegotiateTimeout(h.ServerTestCase):
    """"negotiate timeout" closes a connection that never authenticates, on
    time (a worker timer since the one-second tick went), and spares one
    that did."""

    server_args = dict(shares={"share": {}}, global_opts={"negotiate timeout": "2"})

    def setUp(self):
        if self.server.kind != "smb3d":
            self.skipTest("Samba has no negotiate timeout")

    def test_silent_connection_closed_on_time(self):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        t0 = time.monotonic()
        try:
            got = s.recv(1)
        except OSError:
            got = b""
        waited = time.monotonic() - t0
        s.close()
        self.assertEqual(got, b"", "the server sent something to a silent client")
        self.assertTrue(1.8 <= waited <= 4, "closed after %.2f s, want about 2" % waited)

    def test_authenticated_connection_stays(self):
        raw = Raw(self.server)
        self.addCleanup(raw.close)
        time.sleep(3)
        self.assertEqual(raw.create(u16("stays.txt"), access=GENERIC_READ | GENERIC_WRITE, disp=FILE_OPEN_IF),
                         STATUS_SUCCESS)
        self.assertServerAlive()


if __name__ == "__main__":
    h.main()
