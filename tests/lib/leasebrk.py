"""Helpers of the break-retry regression tests: Samba's unacked-timeout hook, the RqLs context,
the lease of a CREATE response, a lease break notification, and a client A
with two channels (A1 oldest, so its lease breaks go there first) plus a
client B of its own ClientGUID."""
import os
import struct
import subprocess
import sys
import time

import smb2raw as R
from regress import check  # noqa: F401

FORCE_UNACKED = 0x83848003  # Samba's FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT
NOFID = b"\xff" * 16
RH, RWH = 0x3, 0x7
ACK_REQUIRED = 1


def rqls(key, state, epoch=0):
    return (b"RqLs", key + struct.pack("<IIQ16sHH", state, 0, 0, b"\0" * 16, epoch, 0))


def lease_of(r):
    """(state, epoch) of a CREATE response's v2 lease context, or None."""
    d = R.parse_create_contexts(r.body).get(b"RqLs", b"")
    if len(d) < 52:
        return None
    return struct.unpack_from("<I", d, 16)[0], struct.unpack_from("<H", d, 48)[0]


def send(c, s, msg):
    c.sign(msg, s.keys[c], c.sign_alg, c.dialect)
    c._send(bytes(msg))


def recv(c, timeout):
    c.sock.settimeout(timeout)
    return c._recv()


def parse_break(r):
    """(key, flags, epoch, current, new) of a lease break notification."""
    ss, epoch, flags, key, cur, new = struct.unpack_from("<HHI16sII", r.body, 0)
    return key, flags, epoch, cur, new


def lease_ack(c, s, key, state=RH):
    """A lease break acknowledgment of `key` on channel c of session s."""
    return c.header(0x12, session_id=s.id, tree_id=s.tree_id) + \
        struct.pack("<HHI16sIQ", 36, 0, 0, key, state, 0)


def expect_break(c, key, timeout, what, t0):
    """Wait for a lease break of `key` on channel c; check it (`what`, with
    the seconds since t0).  The break, or None when none came."""
    try:
        brk = recv(c, timeout)
    except OSError as e:
        check(False, "%s (%s after %.2f s)" % (what, e, time.monotonic() - t0))
        return None
    check(brk.command == 0x12 and parse_break(brk)[0] == key, "%s (%.2f s)" % (what, time.monotonic() - t0))
    return brk


def open_leased(c, s, name, key):
    """Client A's open of `name` with an RWH lease of `key`, on channel c."""
    r = c.call(R.create_request(c, s, name, disposition=3, oplock=0xFF, contexts=[rqls(key, RWH)]), s.keys[c])
    ls = lease_of(r) if r.status == 0 else None
    check(ls is not None and ls[0] == RWH, "A1 gets an RWH lease (%s)" % (ls,))


def open_conflicting(b, sb, name):
    """Client B's open of `name` that breaks A's lease (sent; not waited for)."""
    send(b, sb, R.create_request(b, sb, name, disposition=3, oplock=0xFF, contexts=[rqls(os.urandom(16), RWH)]))


def conflict_answered(b, timeout):
    """Wait for the answer to B's open (past an interim one); check that
    it succeeded.  False when none came in time."""
    try:
        r = recv(b, timeout)
        if r.status == 0x103:
            r = recv(b, timeout)
    except OSError as e:
        check(False, "B's open is answered (%s)" % e)
        return False
    check(r.status == 0 and lease_of(r) is not None, "B's open succeeds (0x%x)" % r.status)
    return True


def bound_pair(port, user, what="A's second channel"):
    """(a1, a2, s): a session s on channel a1 (the oldest) and a2, bound to it."""
    a1, s = R.connect_session("127.0.0.1", port, *user)
    a2 = R.Conn("127.0.0.1", port, client_guid=a1.client_guid).negotiate()
    st_, _ = R.session_setup(a2, user[0], user[1], session=s, bind=True)
    check(st_ == 0, "%s binds (0x%x)" % (what, st_))
    return a1, a2, s


def two_clients(port, user):
    """(a1, a2, s, b, sb): client A's session s on channels a1 (oldest) and
    a2, and client B's session sb on b."""
    a1, a2, s = bound_pair(port, user)
    b, sb = R.connect_session("127.0.0.1", port, *user)  # client B: its own ClientGUID
    return a1, a2, s, b, sb


def in_own_netns(tools="unshare nft ip"):
    """Re-run this test in a network namespace of its own (unshare --net,
    loopback up), so its nftables rules touch nothing else; returns only
    inside it.  Exits 77 (skip) without root or the tools."""
    if os.environ.get("SMB3D_REGRESS_NETNS") == "1":
        return
    if os.geteuid() != 0 or subprocess.run(["sh", "-c", "command -v " + tools],
                                           capture_output=True).returncode:
        print("skip: needs root and " + tools)
        sys.exit(77)
    env = dict(os.environ, SMB3D_REGRESS_NETNS="1")
    sys.exit(subprocess.run(["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" "$@"',
                             sys.executable] + sys.argv, env=env).returncode)


def nft(*args):
    subprocess.run(["nft"] + list(args), check=True)


def cut_both_ways(table, c):
    """Drop everything to and from channel c's port (nftables table `table`
    of this network namespace)."""
    port = str(c.sock.getsockname()[1])
    nft("add", "table", "inet", table)
    nft("add", "chain", "inet", table, "in", "{ type filter hook input priority 0; }")
    nft("add", "rule", "inet", table, "in", "tcp", "dport", port, "drop")
    nft("add", "rule", "inet", table, "in", "tcp", "sport", port, "drop")


def lease_answer_lost(tag, name, cut_first, limit):
    """Client A (channels A1, oldest, and A2) holds an RWH lease that
    client B's open breaks; one of A's channels is cut both ways: A1 when
    cut_first (the break moves from A1 to A2), else A2 (the break goes to
    A1 and is delivered there).  A answers on the cut channel (lost); the
    break must come again on the live one, whose answer ends it, and B's
    open must be answered within `limit` s (the break timer is 20 s)."""
    from regress import Srv, USERS, done
    srv = Srv(tag=tag, extra={"smb3d:oplock break timeout": "20"}).start()
    a1, a2, s, b, sb = two_clients(srv.port, USERS[0])
    key_a = os.urandom(16)
    open_leased(a1, s, name, key_a)
    cut, live = (a1, a2) if cut_first else (a2, a1)
    cut_both_ways(tag, cut)
    t0 = time.monotonic()
    open_conflicting(b, sb, name)
    first = "the break moves from the cut A1 to A2" if cut_first else "the break goes to the live A1"
    if expect_break(live, key_a, 10, first, t0):
        send(cut, s, lease_ack(cut, s, key_a))  # the answer goes on the cut channel: lost
        again = expect_break(live, key_a, 8, "with its answer lost, the break comes again on the live channel", t0)
        if again:
            check(parse_break(again)[4] == RH, "to RH (0x%x)" % parse_break(again)[4])
            r = live.call(lease_ack(live, s, key_a), s.keys[live])
            check(r.status == 0, "the answer on the live channel is accepted (0x%x)" % r.status)
    if conflict_answered(b, 25):
        dt = time.monotonic() - t0
        check(dt < limit, "B's open is answered within %.0f s, not at the break timer (%.2f s)" % (limit, dt))
    cut.sock.close()
    live.close()
    b.close()
    check(srv.healthy(), "a well-behaved client still works")
    done(srv)
