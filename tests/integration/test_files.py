#!/usr/bin/python3
"""File operations through real clients: smbclient (put/get/tar/mget, namespace
operations, allinfo, setmode) and impacket (create/write/read/list/rename/delete
over 2.0.2, 2.1, signed 3.0 and encrypted 3.0)."""

import filecmp
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

BIG_MIB = 1024 if h.LONG else (8 if os.environ.get("SMB3D_QUICK") == "1" else 64)


def sha256_file(path):
    d = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            d.update(chunk)
    return d.hexdigest()


def make_random_file(path, mib):
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))
        f.write(os.urandom(12345))  # not a multiple of any I/O size


class FilesBase(h.ServerTestCase):
    server_args = dict(shares={"share": {}})

    def setUp(self):
        self.local = tempfile.mkdtemp(prefix="smb3d-it-local-")
        os.chmod(self.local, 0o777)
        self.addCleanup(shutil.rmtree, self.local, True)

    def share_dir(self):
        return self.server.path("share")


class SmbclientFiles(FilesBase):

    def test_put_get_big_file(self):
        src = os.path.join(self.local, "big.bin")
        make_random_file(src, BIG_MIB)
        want = sha256_file(src)
        for proto in ("SMB3_11", "SMB2_10"):
            with self.subTest(protocol=proto):
                back = os.path.join(self.local, "back-%s.bin" % proto)
                self.smb_ok('put "%s" big-%s.bin; get big-%s.bin "%s"'
                            % (src, proto, proto, back), protocol=proto,
                            timeout=1800 if h.LONG else 300)
                self.assertEqual(sha256_file(os.path.join(self.share_dir(), "big-%s.bin" % proto)), want)
                self.assertEqual(sha256_file(back), want)
        # and once sealed
        back = os.path.join(self.local, "back-enc.bin")
        self.smb_ok('put "%s" big-enc.bin; get big-enc.bin "%s"' % (src, back),
                    protocol="SMB3_11", extra=["--client-protection=encrypt"],
                    timeout=1800 if h.LONG else 300)
        self.assertEqual(sha256_file(back), want)

    def test_namespace_ops(self):
        src = os.path.join(self.local, "f.txt")
        with open(src, "w") as f:
            f.write("hello\n")
        root = self.share_dir()
        self.smb_ok('mkdir d1; mkdir d1\\sub; put "%s" d1\\a.txt; put "%s" d1\\b.txt; '
                    'put "%s" d1\\c.dat' % (src, src, src))
        self.assertTrue(os.path.isfile(os.path.join(root, "d1", "a.txt")))
        self.assertTrue(os.path.isdir(os.path.join(root, "d1", "sub")))
        out = self.smb_ok("ls d1\\*.txt")
        self.assertIn("a.txt", out)
        self.assertIn("b.txt", out)
        self.assertNotIn("c.dat", out)
        out = self.smb_ok("ls d1\\?.dat")
        self.assertIn("c.dat", out)
        self.assertNotIn("a.txt", out)
        self.smb_ok("rename d1\\a.txt d1\\renamed.txt")
        self.assertFalse(os.path.exists(os.path.join(root, "d1", "a.txt")))
        self.assertTrue(os.path.exists(os.path.join(root, "d1", "renamed.txt")))
        self.smb_ok("rename d1\\sub d1\\sub2")
        self.assertTrue(os.path.isdir(os.path.join(root, "d1", "sub2")))
        # rename onto an existing file fails without replace
        rc, out = self.smb("rename d1\\b.txt d1\\renamed.txt")
        self.assertIn("NT_STATUS_OBJECT_NAME_COLLISION", out)
        self.smb_ok("del d1\\*.txt")
        self.assertFalse(os.path.exists(os.path.join(root, "d1", "b.txt")))
        # rmdir of a non-empty dir fails
        rc, out = self.smb("rmdir d1")
        self.assertIn("NT_STATUS_DIRECTORY_NOT_EMPTY", out)
        self.smb_ok("del d1\\c.dat; rmdir d1\\sub2; rmdir d1")
        self.assertFalse(os.path.exists(os.path.join(root, "d1")))
        rc, out = self.smb("get nosuchfile %s" % os.path.join(self.local, "x"))
        self.assertIn("NT_STATUS_OBJECT_NAME_NOT_FOUND", out)

    def test_allinfo_setmode(self):
        p = os.path.join(self.share_dir(), "info.txt")
        with open(p, "wb") as f:
            f.write(b"x" * 1000)
        os.chmod(p, 0o666)
        out = self.smb_ok("allinfo info.txt")
        for field in ("create_time:", "access_time:", "write_time:", "change_time:",
                      "attributes:", "stream: [::$DATA], 1000 bytes"):
            self.assertIn(field, out)
        self.smb_ok("setmode info.txt +r")
        out = self.smb_ok("allinfo info.txt")
        self.assertRegex(out, r"attributes: [A-Z]*R[A-Z]* ")
        self.smb_ok("setmode info.txt -r")
        out = self.smb_ok("allinfo info.txt")
        self.assertNotRegex(out, r"attributes: [A-Z]*R[A-Z]* ")

    def _make_tree(self, base, n=1000):
        i = 0
        for d in range(20):
            dp = os.path.join(base, "tree", "dir%02d" % d, "sub")
            os.makedirs(dp, exist_ok=True)
            for k in range(n // 20):
                where = dp if k % 2 else os.path.dirname(dp)
                with open(os.path.join(where, "f%04d.txt" % i), "wb") as f:
                    f.write(os.urandom(i % 3000))
                i += 1

    def _assert_same_tree(self, a, b):
        cmp = filecmp.dircmp(a, b)
        stack = [cmp]
        n = 0
        while stack:
            c = stack.pop()
            self.assertFalse(c.left_only or c.right_only or c.diff_files or c.funny_files,
                             "trees differ at %s: %s %s %s" % (c.left, c.left_only,
                                                               c.right_only, c.diff_files))
            # dircmp compares shallowly (stat); compare content too
            for f in c.common_files:
                with open(os.path.join(c.left, f), "rb") as x, open(os.path.join(c.right, f), "rb") as y:
                    self.assertEqual(x.read(), y.read(), os.path.join(c.left, f))
                n += 1
            stack.extend(c.subdirs.values())
        return n

    def test_tar_roundtrip(self):
        src = os.path.join(self.local, "src")
        self._make_tree(src)
        tarball = os.path.join(self.local, "t.tar")
        with tarfile.open(tarball, "w") as t:
            t.add(os.path.join(src, "tree"), arcname="tree")
        # tar x: extract into the share
        self.smb_ok(None, extra=["-Tx", tarball])
        n = self._assert_same_tree(os.path.join(src, "tree"), os.path.join(self.share_dir(), "tree"))
        self.assertEqual(n, 1000)
        # tar c: create from the share, then compare
        tarball2 = os.path.join(self.local, "t2.tar")
        self.smb_ok(None, extra=["-Tc", tarball2, "tree"])
        out = os.path.join(self.local, "out")
        os.makedirs(out)
        with tarfile.open(tarball2) as t:
            t.extractall(out)
        found = [p for p in (os.path.join(out, "tree"), os.path.join(out, ".", "tree")) if os.path.isdir(p)]
        self.assertTrue(found, os.listdir(out))
        self.assertEqual(self._assert_same_tree(os.path.join(src, "tree"), found[0]), 1000)

    def test_recursive_mget(self):
        src = os.path.join(self.share_dir(), "mg")
        for d in ("a", "a/b", "c"):
            os.makedirs(os.path.join(src, d), exist_ok=True)
        for i, d in enumerate(("", "a", "a/b", "c")):
            for k in range(5):
                with open(os.path.join(src, d, "m%d_%d.bin" % (i, k)), "wb") as f:
                    f.write(os.urandom(100 * k + i))
        for root, dirs, files in os.walk(os.path.join(self.share_dir())):
            os.chmod(root, 0o777)
        dst = os.path.join(self.local, "mget")
        os.makedirs(dst)
        self.smb_ok("cd mg; recurse; prompt; mget *", cwd=dst)
        self.assertEqual(self._assert_same_tree(src, dst), 20)


class ImpacketFiles(FilesBase):
    """One client flow, run per dialect / protection."""

    def _flow(self, conn, prefix):
        from impacket.smbconnection import SessionError
        from impacket import smb3structs as s3
        share = "share"
        tid = conn.connectTree(share)
        conn.createDirectory(share, prefix)
        data = os.urandom(3 * 1024 * 1024 + 17)
        fid = conn.createFile(tid, prefix + "\\file.bin",
                              desiredAccess=s3.FILE_READ_DATA | s3.FILE_WRITE_DATA | s3.DELETE
                              | s3.FILE_READ_ATTRIBUTES,
                              creationDisposition=s3.FILE_OVERWRITE_IF)
        off = 0
        chunk = 60000  # below every max write size, odd alignment
        while off < len(data):
            conn.writeFile(tid, fid, data[off:off + chunk], off)
            off += chunk
        conn.closeFile(tid, fid)
        # read back in pieces
        fid = conn.openFile(tid, prefix + "\\file.bin", desiredAccess=s3.FILE_READ_DATA)
        got = b""
        while len(got) < len(data):
            part = conn.readFile(tid, fid, len(got), 65536)
            self.assertTrue(part)
            got += part
        conn.closeFile(tid, fid)
        self.assertEqual(got, data)
        with open(os.path.join(self.share_dir(), prefix, "file.bin"), "rb") as f:
            self.assertEqual(f.read(), data)
        # getFile/putFile helpers
        import io
        conn.putFile(share, prefix + "\\small.txt", io.BytesIO(b"small contents").read)
        buf = io.BytesIO()
        conn.getFile(share, prefix + "\\small.txt", buf.write)
        self.assertEqual(buf.getvalue(), b"small contents")
        names = sorted(e.get_longname() for e in conn.listPath(share, prefix + "\\*"))
        self.assertEqual(names, [".", "..", "file.bin", "small.txt"])
        names = [e.get_longname() for e in conn.listPath(share, prefix + "\\*.txt")]
        self.assertEqual(names, ["small.txt"])
        conn.rename(share, prefix + "\\small.txt", prefix + "\\moved.txt")
        self.assertTrue(os.path.exists(os.path.join(self.share_dir(), prefix, "moved.txt")))
        with self.assertRaises(SessionError):
            conn.deleteDirectory(share, prefix)  # not empty
        conn.deleteFile(share, prefix + "\\moved.txt")
        conn.deleteFile(share, prefix + "\\file.bin")
        with self.assertRaises(SessionError) as cm:
            conn.deleteFile(share, prefix + "\\file.bin")
        self.assertIn("STATUS_OBJECT_NAME_NOT_FOUND", str(cm.exception))
        conn.deleteDirectory(share, prefix)
        self.assertFalse(os.path.exists(os.path.join(self.share_dir(), prefix)))
        conn.disconnectTree(tid)

    def _run(self, dialect, prefix, **kw):
        conn = h.impacket_conn(self.server, dialect=dialect, **kw)
        try:
            if kw.get("encrypt") is False:
                self.assertFalse(h.impacket_is_encrypted(conn))
            if kw.get("require_signing"):
                self.assertTrue(h.impacket_is_signing(conn))
            if kw.get("encrypt") is None and dialect == 0x300:
                self.assertTrue(h.impacket_is_encrypted(conn))
            self._flow(conn, prefix)
            conn.logoff()
        finally:
            conn.close()

    def test_attr_cache_sees_every_change(self):
        """The DOS attributes cached on a handle (src/cmd/attrcache.c) follow
        changes made through another handle and outside the server; a
        directory listing (getxattrat) shows them too."""
        import struct
        import time
        from impacket import smb3structs as s3
        path = os.path.join(self.share_dir(), "cached.txt")
        with open(path, "wb") as f:
            f.write(b"x" * 10)
        os.chmod(path, 0o666)
        time.sleep(0.2)  # old enough a ctime to be cached on
        conn = h.impacket_conn(self.server, dialect=s3.SMB2_DIALECT_30, encrypt=False)
        try:
            tid = conn.connectTree("share")
            smb = conn.getSMBServer()
            a = conn.openFile(tid, "cached.txt", desiredAccess=s3.FILE_READ_ATTRIBUTES)

            def attrs():
                blob = smb.queryInfo(tid, a, infoType=s3.SMB2_0_INFO_FILE,
                                     fileInfoClass=s3.SMB2_FILE_BASIC_INFO)
                return struct.unpack_from("<I", blob, 32)[0]

            self.assertFalse(attrs() & 0x2)
            self.assertFalse(attrs() & 0x2)  # now from the cache
            # through another handle
            b = conn.openFile(tid, "cached.txt", desiredAccess=s3.FILE_WRITE_ATTRIBUTES)
            smb.setInfo(tid, b, struct.pack("<QQQQII", 0, 0, 0, 0, 0x2 | 0x20, 0),
                        infoType=s3.SMB2_0_INFO_FILE, fileInfoClass=s3.SMB2_FILE_BASIC_INFO)
            conn.closeFile(tid, b)
            self.assertTrue(attrs() & 0x2)
            time.sleep(0.2)
            self.assertTrue(attrs() & 0x2)
            # outside the server: our user.DOSATTRIB format, READONLY only
            os.setxattr(path, "user.DOSATTRIB", b"S3DA\x01\0\0\0" + struct.pack("<IIQ", 0x1, 0, 0))
            self.assertEqual(attrs() & 0x3, 0x1)
            names = {e.get_longname(): e for e in conn.listPath("share", "*")}
            self.assertTrue(names["cached.txt"].is_readonly())
            # `a` is left to the logoff: impacket forgets a name's second
            # handle once the first is closed
            conn.disconnectTree(tid)
            conn.logoff()
        finally:
            conn.close()

    def test_dialect_202(self):
        from impacket import smb3structs as s3
        self._run(s3.SMB2_DIALECT_002, "i202", encrypt=False)

    def test_dialect_21(self):
        from impacket import smb3structs as s3
        self._run(s3.SMB2_DIALECT_21, "i21", encrypt=False)

    def test_dialect_30_signed(self):
        from impacket import smb3structs as s3
        self._run(s3.SMB2_DIALECT_30, "i30s", encrypt=False, require_signing=True)

    def test_dialect_30_encrypted(self):
        from impacket import smb3structs as s3
        self._run(s3.SMB2_DIALECT_30, "i30e")


if __name__ == "__main__":
    h.main()
