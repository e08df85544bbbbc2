#!/usr/bin/python3
"""Durable handles (cmd/durable.c) with a raw client: what smbtorture's
durable suites do not check.

- A detached open keeps its byte-range lock across a reconnect, is listed
  by `smb3ctl status` with its time left, and is closed by the scavenger at
  its timeout: then its share mode and lock are released.
- A reconnect by another user is ACCESS_DENIED (the open stays for its
  owner); through another share, with another CreateGuid or while still
  attached it is OBJECT_NAME_NOT_FOUND; after TREE_DISCONNECT there is
  nothing to reconnect.
- A write, a truncation or a byte-range lock by another client closes a
  detached open on an RH lease at once (the break cannot reach it).
- `durable handles = no` grants nothing.
- (DirLeaseInotify) A directory lease breaks when a local program creates
  a file in its directory (inotify), and not for its own client's create.

    /usr/bin/python3 tests/integration/test_durable.py    (SMB3D_BUILD=build-asan for ASan)
"""
import os
import struct
import subprocess
import sys
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import harness as h  # noqa: E402
import smb2raw as R  # noqa: E402
from hc import H, hdr, b_lock, b_sinfo, LOCK, SINFO, TDIS  # noqa: E402

BATCH = 0x09
EXCLUSIVE_NOW = 0x02 | 0x10  # SMB2_LOCKFLAG_EXCLUSIVE_LOCK | FAIL_IMMEDIATELY
UNLOCK = 0x04
OK = 0
ACCESS_DENIED = 0xC0000022
NOT_FOUND = 0xC0000034
LOCK_NOT_GRANTED = 0xC0000055
SHARING_VIOLATION = 0xC0000043


def dh2q(guid, timeout_ms):
    return (b"DH2Q", struct.pack("<II8s16s", timeout_ms, 0, b"\0" * 8, guid))


def dh2c(fid, guid):
    return (b"DH2C", fid + guid + struct.pack("<I", 0))


def rqls(key, state=0x7):
    """RqLs v2: key, R|H|W, no parent, epoch 0."""
    return (b"RqLs", key + struct.pack("<IIQ16sHH", state, 0, 0, b"\0" * 16, 0, 0))


class Durable(h.ServerTestCase):
    server_args = {"shares": {"share": {}, "other": {},
                              "nodurable": {"durable handles": "no"}}}

    @classmethod
    def setUpClass(cls):
        if h.TARGET != "smb3d":
            raise unittest.SkipTest("smb3d's own status and options")
        super().setUpClass()

    def conn(self, user=h.USER1, share="share"):
        c = H(self.server.port, user=user, share=share)
        self.addCleanup(c.close)
        return c

    def durable_open(self, c, name, timeout_ms, share=0):
        """A batch-oplock DH2Q open: (FileId, CreateGuid)."""
        guid = uuid.uuid4().bytes
        r = R.create_full(c.c, c.s, name, oplock=BATCH, share=share, contexts=[dh2q(guid, timeout_ms)])
        self.assertEqual(r.status, OK, R.status_name(r.status))
        self.assertEqual(r.body[2], BATCH)
        ctx = R.parse_create_contexts(r.body)
        self.assertIn(b"DH2Q", ctx, "durable handle granted")
        self.assertEqual(struct.unpack_from("<I", ctx[b"DH2Q"])[0], timeout_ms)
        return bytes(r.body[64:80]), guid

    def reconnect(self, c, fid, guid, name=""):
        return R.create_full(c.c, c.s, name, contexts=[dh2c(fid, guid)])

    def lock(self, c, fid, flags, off=0, length=10):
        r = c.call(hdr(LOCK, c.mid(), c.sid, c.tid) + b_lock(fid, [(off, length, flags)]))
        return r if isinstance(r, str) else r.status

    def status(self):
        r = subprocess.run([os.path.join(h.BUILD, "smb3ctl"), "-c", self.server.conf, "status"],
                           capture_output=True, text=True, timeout=20)
        return r.stdout + r.stderr

    def detached(self, name):
        """Seconds left for the detached open of `name`, or None."""
        for line in self.status().splitlines():
            if line.strip().startswith("file ") and line.rstrip().endswith(" s left") and " %s " % name in line:
                return float(line.split()[-3])
        return None

    def drop(self, c, name):
        """Lose the connection (no LOGOFF, no CLOSE) and wait until the
        server has detached the open."""
        c.close()
        for _ in range(100):
            if self.detached(name) is not None:
                return
            time.sleep(0.05)
        self.fail("the open of %s was not detached:\n%s" % (name, self.status()))

    def test_lock_kept_across_reconnect(self):
        c = self.conn()
        fid, guid = self.durable_open(c, "kept.txt", 60000)
        self.assertEqual(self.lock(c, fid, EXCLUSIVE_NOW), OK)
        self.drop(c, "kept.txt")
        left = self.detached("kept.txt")
        self.assertTrue(50 < left <= 60, "time left %s" % left)
        c2 = self.conn()
        r = self.reconnect(c2, fid, guid, "kept.txt")
        self.assertEqual(r.status, OK, R.status_name(r.status))
        self.assertEqual(r.body[2], BATCH, "the oplock survives")
        self.assertEqual(R.parse_create_contexts(r.body), {}, "no durable context on a reconnect")
        fid2 = bytes(r.body[64:80])
        self.assertIsNone(self.detached("kept.txt"))
        # the lock is still this open's: taking it again conflicts, releasing it works
        self.assertEqual(self.lock(c2, fid2, EXCLUSIVE_NOW), LOCK_NOT_GRANTED)
        self.assertEqual(self.lock(c2, fid2, UNLOCK), OK)
        c2.close_fid(fid2)

    def test_scavenged_on_time_releases_share_mode_and_lock(self):
        c = self.conn()
        fid, guid = self.durable_open(c, "scav.txt", 1500, share=0)
        self.assertEqual(self.lock(c, fid, EXCLUSIVE_NOW), OK)
        t0 = time.monotonic()
        self.drop(c, "scav.txt")
        left = self.detached("scav.txt")
        self.assertTrue(0 < left <= 1.5, "time left %s" % left)
        while self.detached("scav.txt") is not None and time.monotonic() - t0 < 10:
            time.sleep(0.1)
        gone = time.monotonic() - t0
        self.assertIsNone(self.detached("scav.txt"), "scavenged")
        self.assertTrue(1.3 < gone < 4, "scavenged after %.2f s (timeout 1.5 s)" % gone)
        # its share mode (none) and its lock are gone: another user opens
        # without sharing and takes the same range
        c2 = self.conn(h.USER2)
        r = R.create_full(c2.c, c2.s, "scav.txt", access=0x00120089, share=0, disposition=1)
        self.assertEqual(r.status, OK, R.status_name(r.status))
        fid2 = bytes(r.body[64:80])
        self.assertEqual(self.lock(c2, fid2, EXCLUSIVE_NOW), OK)
        # and the old handle cannot come back
        self.assertEqual(self.reconnect(self.conn(), fid, guid).status, NOT_FOUND)
        c2.close_fid(fid2)

    def test_reconnect_checks(self):
        c = self.conn()
        fid, guid = self.durable_open(c, "checks.txt", 60000)
        # still attached: not found, and nothing changes
        self.assertEqual(self.reconnect(self.conn(), fid, guid).status, NOT_FOUND)
        self.drop(c, "checks.txt")
        self.assertEqual(self.reconnect(self.conn(h.USER2), fid, guid).status, ACCESS_DENIED,
                         "another user")
        self.assertEqual(self.reconnect(self.conn(share="other"), fid, guid).status, NOT_FOUND,
                         "another share")
        self.assertEqual(self.reconnect(self.conn(), fid, uuid.uuid4().bytes).status, NOT_FOUND,
                         "another CreateGuid")
        self.assertIsNotNone(self.detached("checks.txt"), "failed reconnects leave it detached")
        c2 = self.conn()
        r = self.reconnect(c2, fid, guid)
        self.assertEqual(r.status, OK, R.status_name(r.status))
        # TREE_DISCONNECT closes durable opens: nothing to reconnect after it
        fid2 = bytes(r.body[64:80])
        self.assertEqual(c2.call(hdr(TDIS, c2.mid(), c2.sid, c2.tid) + struct.pack("<HH", 4, 0)).status, OK)
        c2.close()
        self.assertIsNone(self.detached("checks.txt"))
        self.assertEqual(self.reconnect(self.conn(), fid2, guid).status, NOT_FOUND)

    def test_purged_by_a_conflicting_open(self):
        c = self.conn()
        fid, guid = self.durable_open(c, "purge.txt", 60000, share=0)
        self.drop(c, "purge.txt")
        # another user's open would break the batch oplock: the detached
        # open cannot hear the break, so it is closed (MS-SMB2 3.3.4.6)
        c2 = self.conn(h.USER2)
        r = R.create_full(c2.c, c2.s, "purge.txt", access=0x00120089, share=0, disposition=1)
        self.assertEqual(r.status, OK, R.status_name(r.status))
        self.assertIsNone(self.detached("purge.txt"))
        self.assertEqual(self.reconnect(self.conn(), fid, guid).status, NOT_FOUND)

    def test_reconnect_races_the_scavenger(self):
        """Reconnects aimed at the moment the scavenger fires (timeouts of
        a few ms): each either wins (the handle works) or finds nothing
        (the file is free again); never both, never a crash.  Run under
        TSan in CI (scripts/test.sh)."""
        won = lost = 0
        for i in range(30):
            name = "race%d.txt" % i
            c = self.conn()
            fid, guid = self.durable_open(c, name, 1 + i % 10, share=0)
            c.close()
            time.sleep((i % 7) * 0.002)
            c2 = self.conn()
            r = self.reconnect(c2, fid, guid)
            if r.status == OK:
                won += 1
                fid2 = bytes(r.body[64:80])
                self.assertEqual(self.lock(c2, fid2, EXCLUSIVE_NOW), OK)
                c2.close_fid(fid2)
            else:
                lost += 1
                self.assertIn(r.status, (NOT_FOUND,), R.status_name(r.status))
            r = R.create_full(c2.c, c2.s, name, share=0, disposition=1)
            self.assertEqual(r.status, OK, "the file is free afterwards: %s" % R.status_name(r.status))
            c2.close_fid(bytes(r.body[64:80]))
        self.assertEqual(won + lost, 30)
        self.assertServerAlive()

    def test_leased_reconnect_checks_the_lease(self):
        """A durable open on an RWH lease: a reconnect without the lease or
        with another key is OBJECT_NAME_NOT_FOUND, the right key with
        another name INVALID_PARAMETER (MS-SMB2 3.3.5.9.12); the right one
        gets the lease back as it stands."""
        client = uuid.uuid4().bytes
        key = uuid.uuid4().bytes

        def conn():
            c, s = R.connect_session("127.0.0.1", self.server.port, h.USER1[0], h.USER1[1], client_guid=client)
            self.addCleanup(c.close)
            return c, s
        c, s = conn()
        guid = uuid.uuid4().bytes
        r = R.create_full(c, s, "leased.txt", oplock=0xFF, contexts=[rqls(key), dh2q(guid, 60000)])
        self.assertEqual(r.status, OK, R.status_name(r.status))
        self.assertEqual(r.body[2], 0xFF, "a lease")
        ctx = R.parse_create_contexts(r.body)
        self.assertIn(b"DH2Q", ctx, "durable on an RWH lease")
        fid = bytes(r.body[64:80])
        c.close()
        for _ in range(100):
            if self.detached("leased.txt") is not None:
                break
            time.sleep(0.05)
        c2, s2 = conn()
        r = R.create_full(c2, s2, "leased.txt", contexts=[dh2c(fid, guid)])
        self.assertEqual(r.status, NOT_FOUND, "no lease context")
        r = R.create_full(c2, s2, "leased.txt", contexts=[dh2c(fid, guid), rqls(uuid.uuid4().bytes)])
        self.assertEqual(r.status, NOT_FOUND, "another lease key")
        r = R.create_full(c2, s2, "other-name.txt", contexts=[dh2c(fid, guid), rqls(key)])
        self.assertEqual(r.status, 0xC000000D, "the right key, another name: INVALID_PARAMETER")
        r = R.create_full(c2, s2, "leased.txt", contexts=[dh2c(fid, guid), rqls(key, 0)])
        self.assertEqual(r.status, OK, R.status_name(r.status))
        self.assertEqual(r.body[2], 0xFF)
        lease = R.parse_create_contexts(r.body)[b"RqLs"]
        self.assertEqual(lease[:16], key)
        self.assertEqual(struct.unpack_from("<I", lease, 16)[0], 0x7, "RWH as it stood")
        R.close(c2, s2, bytes(r.body[64:80]))

    def test_data_change_purges_detached_leased_open_at_once(self):
        """A write, a truncation or a byte-range lock by another client
        takes read caching from a detached open's RH lease: the break
        cannot reach it, so the open is closed then (MS-SMB2 3.3.4.7,
        smbtorture durable-v2-open.purge-disconnected-rh-with-write), not
        only when its client comes back or another open conflicts."""
        for what in ("write", "truncate", "lock"):
            name = "data-%s.txt" % what
            client, key, guid = uuid.uuid4().bytes, uuid.uuid4().bytes, uuid.uuid4().bytes
            c, s = R.connect_session("127.0.0.1", self.server.port, h.USER1[0], h.USER1[1], client_guid=client)
            r = R.create_full(c, s, name, oplock=0xFF, contexts=[rqls(key, 0x3), dh2q(guid, 60000)])
            self.assertEqual(r.status, OK, R.status_name(r.status))
            self.assertIn(b"DH2Q", R.parse_create_contexts(r.body), "durable on an RH lease")
            fid = bytes(r.body[64:80])
            c.close()
            for _ in range(100):
                if self.detached(name) is not None:
                    break
                time.sleep(0.05)
            self.assertIsNotNone(self.detached(name), "detached")
            c2 = self.conn()  # another client (ClientGuid), the same user
            r = R.create_full(c2.c, c2.s, name, access=0x0012019F, disposition=1, oplock=0xFF,
                              contexts=[rqls(uuid.uuid4().bytes, 0x3)])
            self.assertEqual(r.status, OK, R.status_name(r.status))
            self.assertIsNotNone(self.detached(name), "an RH lease next to it leaves it detached")
            fid2 = bytes(r.body[64:80])
            if what == "write":
                c2.write(fid2, 0, b"data")
            elif what == "truncate":  # FileEndOfFileInformation
                r = c2.call(hdr(SINFO, c2.mid(), c2.sid, c2.tid) + b_sinfo(fid2, 1, 20, struct.pack("<Q", 3)))
                self.assertEqual(r.status, OK)
            else:
                self.assertEqual(self.lock(c2, fid2, EXCLUSIVE_NOW), OK)
            self.assertIsNone(self.detached(name), "a %s closes the detached open" % what)
            c3, s3 = R.connect_session("127.0.0.1", self.server.port, h.USER1[0], h.USER1[1], client_guid=client)
            self.addCleanup(c3.close)
            r = R.create_full(c3, s3, name, contexts=[dh2c(fid, guid), rqls(key, 0x3)])
            self.assertEqual(r.status, NOT_FOUND, "nothing to reconnect after the %s" % what)
            c2.close_fid(fid2)

    def test_v2_contexts_need_smb3(self):
        """DH2Q is a 3.x context: a 2.1 CREATE carrying it gets no durable
        handle; DHnQ (v1) works from 2.0.2 on."""
        c = R.Conn("127.0.0.1", self.server.port, dialects=(R.D210,)).negotiate()
        self.addCleanup(c.close)
        st, s = R.session_setup(c, h.USER1[0], h.USER1[1])
        self.assertEqual(st, OK)
        R.tree_connect(c, s, "share")
        r = R.create_full(c, s, "v21.txt", oplock=BATCH, contexts=[dh2q(uuid.uuid4().bytes, 60000)])
        self.assertEqual(r.status, OK)
        self.assertNotIn(b"DH2Q", R.parse_create_contexts(r.body))
        r = R.create_full(c, s, "v21b.txt", oplock=BATCH, contexts=[(b"DHnQ", b"\0" * 16)])
        self.assertEqual(r.status, OK)
        self.assertIn(b"DHnQ", R.parse_create_contexts(r.body))

    def test_option_off_grants_nothing(self):
        c = self.conn(share="nodurable")
        r = R.create_full(c.c, c.s, "no.txt", oplock=BATCH, contexts=[dh2q(uuid.uuid4().bytes, 60000)])
        self.assertEqual(r.status, OK)
        self.assertEqual(r.body[2], BATCH)
        self.assertNotIn(b"DH2Q", R.parse_create_contexts(r.body))
        self.assertServerAlive()


def rqls_parent(key, state, parent):
    """RqLs v2 naming the lease of the parent directory (ParentLeaseKey)."""
    return (b"RqLs", key + struct.pack("<IIQ16sHH", state, 0x4, 0, parent, 0, 0))


class DirLeaseInotify(h.ServerTestCase):
    """Directory leases and changes other programs make on the server's
    file system (cmd/lease_watch.c): a leased directory is watched with
    inotify, and a name created there by a local process breaks its lease
    within a second; a change smb3d itself makes for the lease's own
    client (ParentLeaseKey) still breaks nothing."""

    def lease_break(self, c, timeout):
        """The next lease break notification on c: (key, from, to), or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = c.recv(timeout=max(0.05, deadline - time.monotonic()))
            if isinstance(r, str):
                return None
            if r.command == 0x12 and len(r.body) >= 44 and struct.unpack_from("<H", r.body)[0] == 44:
                return bytes(r.body[8:24]), struct.unpack_from("<I", r.body, 24)[0], \
                    struct.unpack_from("<I", r.body, 28)[0]
        return None

    def test_local_create_breaks_directory_lease(self):
        c = H(self.server.port)
        self.addCleanup(c.close)
        r = R.create_full(c.c, c.s, "dl", access=0x00120089, disposition=3, options=0x1)
        self.assertEqual(r.status, OK, R.status_name(r.status))
        c.close_fid(bytes(r.body[64:80]))
        key = uuid.uuid4().bytes
        r = R.create_full(c.c, c.s, "dl", access=0x00120089, disposition=1, options=0x1, oplock=0xFF,
                          contexts=[rqls(key, 0x3)])
        self.assertEqual(r.status, OK, R.status_name(r.status))
        lease = R.parse_create_contexts(r.body).get(b"RqLs")
        self.assertIsNotNone(lease, "a directory lease")
        self.assertEqual(struct.unpack_from("<I", lease, 16)[0], 0x3, "RH on the directory")
        dfid = bytes(r.body[64:80])
        # smb3d's own change for the lease's client breaks nothing, also
        # not when inotify reports it
        r = R.create_full(c.c, c.s, "dl\\mine.txt", disposition=2, oplock=0xFF,
                          contexts=[rqls_parent(uuid.uuid4().bytes, 0x1, key)])
        self.assertEqual(r.status, OK, R.status_name(r.status))
        c.close_fid(bytes(r.body[64:80]))
        self.assertIsNone(self.lease_break(c, 1.0), "no break for the holder's own create")
        # a local program creates a file there: the lease breaks to none
        t0 = time.monotonic()
        with open(os.path.join(self.server.path(), "dl", "local.txt"), "w") as f:
            f.write("x")
        b = self.lease_break(c, 2.0)
        took = time.monotonic() - t0
        self.assertIsNotNone(b, "a lease break after a local create")
        self.assertEqual(b[0], key)
        self.assertEqual((b[1], b[2]), (0x3, 0x0), "RH -> none")
        self.assertLess(took, 2.0)
        c.close_fid(dfid)
        self.assertServerAlive()


if __name__ == "__main__":
    h.main()
