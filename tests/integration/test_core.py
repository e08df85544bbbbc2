#!/usr/bin/python3
"""Core protocol tests: negotiate/dialects, authentication, guest, signing,
encryption, robustness against malformed PDUs.  Real clients only."""

import os
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hc  # noqa: E402

PROTOCOLS = ["SMB2_02", "SMB2_10", "SMB3_00", "SMB3_11"]


def _track_wire(conn):
    """Record the 4-byte protocol id of every PDU impacket sends."""
    inner = conn._SMBConnection
    nb = inner._NetBIOSSession
    seen = []
    orig = nb.send_packet

    def send_packet(data, *a, **kw):
        seen.append(bytes(data[:4]))
        return orig(data, *a, **kw)

    nb.send_packet = send_packet
    return seen


class CoreAuth(h.ServerTestCase):
    server_args = dict(
        shares={"share": {}, "guest": {"guest ok": "yes"},
                "only2": {"valid users": h.USER2[0]}},
        global_opts={"map to guest": "Bad User"})

    # ---- smbclient: dialects x good/bad password
    def test_smbclient_dialects_good_password(self):
        for proto in PROTOCOLS:
            with self.subTest(protocol=proto):
                out = self.smb_ok("ls", protocol=proto)
                self.assertIn("blocks of size", out)

    def test_smbclient_dialects_bad_password(self):
        for proto in PROTOCOLS:
            with self.subTest(protocol=proto):
                rc, out = self.smb("ls", protocol=proto, password="wrong-password")
                self.assertNotEqual(rc, 0, out)
                self.assertIn("NT_STATUS_LOGON_FAILURE", out)
        self.assertServerAlive()

    def test_smbclient_unknown_user_is_guest_only_on_guest_share(self):
        # map to guest = Bad User: an unknown user becomes guest
        rc, out = self.smb("ls", share="guest", user="nosuchuser", password="x")
        self.assertEqual(rc, 0, out)
        rc, out = self.smb("ls", share="share", user="nosuchuser", password="x")
        self.assertNotEqual(rc, 0, out)

    def test_guest_anonymous(self):
        out = self.smb_ok("ls", share="guest", guest=True)
        self.assertIn("blocks of size", out)

    def test_valid_users(self):
        rc, out = self.smb("ls", share="only2")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("NT_STATUS_ACCESS_DENIED", out)
        self.smb_ok("ls", share="only2", user=h.USER2[0], password=h.USER2[1])

    def test_bad_share(self):
        rc, out = self.smb("ls", share="nosuchshare")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("NT_STATUS_BAD_NETWORK_NAME", out)

    def test_client_protection_sign(self):
        for proto in PROTOCOLS:
            with self.subTest(protocol=proto):
                self.smb_ok("ls", protocol=proto, extra=["--client-protection=sign"])

    def test_client_protection_encrypt(self):
        for proto in ("SMB3_00", "SMB3_11"):
            with self.subTest(protocol=proto):
                self.smb_ok("ls", protocol=proto, extra=["--client-protection=encrypt"])

    # ---- impacket
    def _impacket_tree(self, dialect, expect):
        conn = h.impacket_conn(self.server, dialect=dialect)
        try:
            self.assertEqual(conn.getDialect(), expect)
            tid = conn.connectTree("share")
            conn.listPath("share", "*")
            conn.disconnectTree(tid)
        finally:
            conn.logoff()
            conn.close()

    def test_impacket_dialects(self):
        from impacket import smb3structs as s3
        for d in (s3.SMB2_DIALECT_002, s3.SMB2_DIALECT_21, s3.SMB2_DIALECT_30):
            with self.subTest(dialect=hex(d)):
                self._impacket_tree(d, d)

    def test_impacket_smb1_multiprotocol_negotiate(self):
        # No preferredDialect: impacket sends an SMB1 NEGOTIATE offering
        # "SMB 2.002"/"SMB 2.???", then SMB2 NEGOTIATE with 2.0.2/2.1/3.0.
        from impacket import smb3structs as s3
        self._impacket_tree(None, s3.SMB2_DIALECT_30)

    def test_impacket_30_encrypted(self):
        from impacket import smb3structs as s3
        conn = h.impacket_conn(self.server, dialect=s3.SMB2_DIALECT_30)
        try:
            self.assertTrue(h.impacket_is_encrypted(conn))
            seen = _track_wire(conn)
            conn.connectTree("share")
            conn.listPath("share", "*")
            self.assertTrue(seen and all(x == b"\xfdSMB" for x in seen), seen)
        finally:
            conn.close()

    def test_impacket_bad_password(self):
        from impacket import smb3structs as s3
        from impacket.smbconnection import SessionError
        for d in (s3.SMB2_DIALECT_002, s3.SMB2_DIALECT_30):
            with self.subTest(dialect=hex(d)):
                conn = h.impacket_conn(self.server, dialect=d, login=False)
                try:
                    with self.assertRaises(SessionError) as cm:
                        conn.login(h.USER1[0], "wrong")
                    self.assertIn("STATUS_LOGON_FAILURE", str(cm.exception))
                finally:
                    conn.close()

    # ---- robustness
    def _expect_close(self, payload, timeout=15):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout)
        try:
            try:
                s.sendall(payload)
            except (BrokenPipeError, ConnectionResetError):
                return
            deadline = time.time() + timeout
            while time.time() < deadline:
                try:
                    d = s.recv(65536)
                except (ConnectionResetError, BrokenPipeError):
                    return
                except socket.timeout:
                    break
                if not d:
                    return
            self.fail("server kept the connection open after %r..." % payload[:32])
        finally:
            s.close()

    def test_malformed_pdus(self):
        hdr = b"\xfeSMB" + struct.pack("<H", 64)
        cases = {
            "bad netbios type": b"\xff\x00\x00\x10" + b"A" * 16,
            "truncated smb2 header": struct.pack(">I", 20) + hdr + b"\x00" * 14,
            "bad protocol id": struct.pack(">I", 64) + b"\xffXYZ" + b"\x00" * 60,
            "16 MiB length": struct.pack(">I", 0x00FFFFFF) + hdr + b"\x00" * 58,
            "header length field lies": struct.pack(">I", 64) + b"\xfeSMB"
                + struct.pack("<H", 0xFFFF) + b"\x00" * 58,
        }
        for name, payload in cases.items():
            with self.subTest(case=name):
                if name == "16 MiB length":
                    # A server may wait for the rest of a huge PDU; it must not
                    # crash, and must close once the peer shuts down writing.
                    s = socket.create_connection(("127.0.0.1", self.server.port), timeout=15)
                    try:
                        s.sendall(payload)
                        s.shutdown(socket.SHUT_WR)
                        try:
                            while s.recv(65536):
                                pass
                        except (ConnectionResetError, socket.timeout):
                            pass
                    finally:
                        s.close()
                else:
                    self._expect_close(payload)
                self.assertServerAlive()
        # a connection that sends half a header and hangs up
        s = socket.create_connection(("127.0.0.1", self.server.port))
        s.sendall(b"\x00\x00")
        s.close()
        self.assertServerAlive()
        self.smb_ok("ls", protocol="SMB3_11")


class SigningMandatory(h.ServerTestCase):
    server_args = dict(global_opts={"server signing": "mandatory"})

    def test_smbclient(self):
        for proto in PROTOCOLS:
            with self.subTest(protocol=proto):
                self.smb_ok("ls", protocol=proto)

    def test_impacket_signed(self):
        from impacket import smb3structs as s3
        for d in (s3.SMB2_DIALECT_002, s3.SMB2_DIALECT_21, s3.SMB2_DIALECT_30):
            with self.subTest(dialect=hex(d)):
                conn = h.impacket_conn(self.server, dialect=d, encrypt=False)
                try:
                    self.assertTrue(conn.isSigningRequired())
                    self.assertTrue(h.impacket_is_signing(conn))
                    conn.connectTree("share")
                    conn.listPath("share", "*")
                finally:
                    conn.close()


class TreeConnectSigning(h.ServerTestCase):
    """[MS-SMB2] 3.3.5.7: on 3.1.1 an authenticated user's TREE_CONNECT that
    is neither signed nor encrypted makes the server disconnect."""

    def _session(self):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
        import smb2raw
        c = smb2raw.Conn("127.0.0.1", self.server.port).negotiate()
        st, s = smb2raw.session_setup(c, *h.USER1)
        self.assertEqual(st, 0)
        return smb2raw, c, s

    def test_unsigned_tree_connect_disconnects(self):
        smb2raw, c, s = self._session()
        try:
            path = smb2raw.utf16("\\\\127.0.0.1\\share")
            hdr = c.header(smb2raw.TREE_CONNECT, session_id=s.id)
            try:
                r = c.call(hdr + struct.pack("<HHHH", 9, 0, 64 + 8, len(path)) + path, None)
            except (OSError, EOFError, ConnectionError):
                return  # disconnected, as the spec says (smb3d)
            # Samba 4.17 answers ACCESS_DENIED instead; never a tree
            self.assertNotEqual(h.TARGET, "smb3d", "smb3d must disconnect")
            self.assertEqual(r.status, 0xC0000022)
        finally:
            c.close()

    def test_signed_tree_connect_works(self):
        smb2raw, c, s = self._session()
        try:
            self.assertTrue(smb2raw.tree_connect(c, s, "share"))
        finally:
            c.close()


class EncryptRequired(h.ServerTestCase):
    server_args = dict(global_opts={"smb encrypt": "required"})

    def test_smbclient_smb3(self):
        for proto in ("SMB3_00", "SMB3_11"):
            with self.subTest(protocol=proto):
                self.smb_ok("ls", protocol=proto)
                self.smb_ok("ls", protocol=proto, extra=["--client-protection=encrypt"])

    def test_smbclient_smb2_denied(self):
        # SMB 2.x cannot encrypt: the server must refuse access
        rc, out = self.smb("ls", protocol="SMB2_10")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("NT_STATUS_ACCESS_DENIED", out)
        self.assertServerAlive()

    def test_impacket_30_encrypted(self):
        from impacket import smb3structs as s3
        conn = h.impacket_conn(self.server, dialect=s3.SMB2_DIALECT_30)
        try:
            self.assertTrue(h.impacket_is_encrypted(conn))
            seen = _track_wire(conn)
            conn.connectTree("share")
            conn.listPath("share", "*")
            self.assertTrue(seen and all(x == b"\xfdSMB" for x in seen), seen)
        finally:
            conn.close()


class FileIdDispatch(h.ServerTestCase):
    """The pipeline looks up the FileId of every command that has one, once,
    before the handler (cmd/dispatch.c, proto/chain.c req_lookup_open)."""
    server_args = dict(shares={"share": {}})

    BOGUS = struct.pack("<QQ", 0x1234, 0x5678)
    ALL_ONES = b"\xff" * 16

    def setUp(self):
        self.c = hc.H(self.server.port)

    def tearDown(self):
        self.c.close()

    def call(self, cmd, body):
        c = self.c
        return hc.st(c.call(hc.hdr(cmd, c.mid(), c.sid, c.tid) + body))

    def bodies(self, fid):
        return {
            hc.CLOSE: hc.b_close(fid),
            hc.FLUSH: struct.pack("<HHI", 24, 0, 0) + fid,
            hc.READ: hc.b_read(fid, 0, 16),
            hc.WRITE: hc.b_write(fid, 0, b"x"),
            hc.LOCK: hc.b_lock(fid, [(0, 1, 0x12)]),
            hc.IOCTL: hc.b_ioctl(0x0009003C, fid, max_out=8),  # FSCTL_GET_COMPRESSION
            hc.QDIR: hc.b_qdir(fid, hc.U16("*")),
            hc.NOTIFY: hc.b_notify(fid),
            hc.QINFO: hc.b_qinfo(fid, 1, 5),                   # FileStandardInformation
            hc.SINFO: hc.b_sinfo(fid, 1, 14, struct.pack("<Q", 0)),  # FilePositionInformation
            hc.OPBRK: struct.pack("<HBBI", 24, 0, 0, 0) + fid,  # oplock break ack
        }

    def test_unknown_fileid_is_file_closed(self):
        for cmd, body in self.bodies(self.BOGUS).items():
            self.assertEqual(self.call(cmd, body), "STATUS_FILE_CLOSED", "command %d" % cmd)

    def test_closed_fileid_is_file_closed(self):
        fid = self.c.create("fileid_closed.txt")
        self.c.close_fid(fid)
        for cmd, body in self.bodies(fid).items():
            self.assertEqual(self.call(cmd, body), "STATUS_FILE_CLOSED", "command %d" % cmd)

    def test_unrelated_all_ones_is_file_closed(self):
        self.assertEqual(self.call(hc.READ, hc.b_read(self.ALL_ONES, 0, 16)), "STATUS_FILE_CLOSED")

    def test_server_fsctl_takes_all_ones(self):
        # FSCTL_QUERY_NETWORK_INTERFACE_INFO names no open
        self.assertTrue(hc.R.query_interfaces(self.c.c, self.c.s))

    def test_related_elements_use_the_previous_open(self):
        c = self.c
        parts = [(hc.hdr(hc.CREATE, c.mid(), c.sid, c.tid), hc.b_create(hc.U16("fileid_rel.txt"), disp=5)),
                 (hc.hdr(hc.WRITE, c.mid(), c.sid, c.tid, flags=hc.RELATED),
                  hc.b_write(self.ALL_ONES, 0, b"related")),
                 (hc.hdr(hc.QINFO, c.mid(), c.sid, c.tid, flags=hc.RELATED), hc.b_qinfo(self.ALL_ONES, 1, 5)),
                 (hc.hdr(hc.CLOSE, c.mid(), c.sid, c.tid, flags=hc.RELATED), hc.b_close(self.ALL_ONES)),
                 (hc.hdr(hc.READ, c.mid(), c.sid, c.tid, flags=hc.RELATED), hc.b_read(self.ALL_ONES, 0, 16))]
        rs = hc.split_compound(c.call(hc.compound(parts)))
        self.assertEqual([hc.st(r) for r in rs],
                         ["STATUS_SUCCESS"] * 4 + ["STATUS_FILE_CLOSED"])
        self.assertEqual(struct.unpack_from("<Q", rs[2].body, 16)[0], len(b"related"))  # EndOfFile

    def test_lease_break_ack_unknown_key(self):
        # a lease acknowledgment has a LeaseKey, no FileId: one that names
        # no lease is OBJECT_NAME_NOT_FOUND ([MS-SMB2] 3.3.5.22.2), as Samba
        body = struct.pack("<HHI16sIQ", 36, 0, 0, b"k" * 16, 0, 0)
        self.assertEqual(self.call(hc.OPBRK, body), "STATUS_OBJECT_NAME_NOT_FOUND")


if __name__ == "__main__":
    h.main()
