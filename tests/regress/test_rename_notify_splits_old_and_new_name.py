"""A rename inside a watched directory is one change with two actions,
RENAMED_OLD_NAME then RENAMED_NEW_NAME, reported in one CHANGE_NOTIFY
response ([MS-FSA] 2.1.4.1, [MS-SMB2] 3.3.5.19; smbtorture 4.25
smb2.notify.mask, "Testing rename file").  smb3d woke the parked request
at the OLD_NAME and let it take only the changes queued at that moment,
so the response carried the OLD_NAME alone and the NEW_NAME waited for
the next request.  Now an OLD_NAME does not wake a waiter: its NEW_NAME,
from the same inotify batch, does (and the end of the batch, whatever
came of the pair).

A WATCH_TREE CHANGE_NOTIFY (filter FILE_NAME) is pending on directory d;
another connection renames d\\a<i> to d\\b<i> through an open handle
(SET_INFO FileRenameInformation).  The response must hold both names.
20 rounds, for the timing between the two events.  In CI (ASan, 2 cores
shared) a read still fell between a rename's IN_MOVED_FROM and IN_MOVED_TO
once (round 17 of 20: REMOVED alone): now an IN_MOVED_FROM that ends a read
waits for the next one (vfs/notify_events.c, nt_carry)."""
import os, struct, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, check, done, hdr, b_notify, b_sinfo, rename_info, NOTIFY, SINFO, U16

PENDING = 0x103
DIR, LIST = 0x1, 0x1 | 0x80 | 0x100000      # FILE_DIRECTORY_FILE; LIST_DIRECTORY | READ_ATTRIBUTES | SYNCHRONIZE
FILE_ACCESS = 0x0012019F | 0x10000           # read/write and DELETE (needed to rename)
OLD, NEW = 4, 5                              # FILE_ACTION_RENAMED_OLD_NAME / _NEW_NAME
ROUNDS = 20


def changes(r):
    """FILE_NOTIFY_INFORMATION list of a CHANGE_NOTIFY response: [(action, name)]."""
    off, ln = struct.unpack_from("<HI", r.body, 2)
    buf, out, pos = bytes(r.raw[off:off + ln]), [], 0
    while pos + 12 <= len(buf):
        nxt, action, nl = struct.unpack_from("<III", buf, pos)
        out.append((action, buf[pos + 12:pos + 12 + nl].decode("utf-16-le")))
        if not nxt:
            break
        pos += nxt
    return out


def final(h, m, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = h.recv_interim(max(0.1, end - time.monotonic()))
        if isinstance(r, str):
            return r
        if r.mid == m and r.status != PENDING:
            return r
    return "timeout"


srv = Srv(tag="renamenotify").start()
watcher = H(srv.port, timeout=20)
renamer = H(srv.port, timeout=20)
watcher.close_fid(watcher.create("d", disp=2, opts=DIR))
for i in range(ROUNDS):  # made by the server, as the user
    renamer.close_fid(renamer.create("d\\a%d.txt" % i, disp=2))
dfid = watcher.create("d", access=LIST, disp=1, opts=DIR)
good = 0
for i in range(ROUNDS):
    m = watcher.mid()
    watcher.send(hdr(NOTIFY, m, watcher.sid, watcher.tid) + b_notify(dfid, flags=1, filt=0x1))
    r = watcher.recv_interim(10)
    if not check(not isinstance(r, str) and r.mid == m and r.status == PENDING,
                 "round %d: the CHANGE_NOTIFY goes async" % i):
        break
    fid = renamer.create("d\\a%d.txt" % i, access=FILE_ACCESS, disp=1)
    r2 = renamer.call(hdr(SINFO, renamer.mid(), renamer.sid, renamer.tid) +
                      b_sinfo(fid, 1, 10, rename_info(U16("d\\b%d.txt" % i))))
    if not check(not isinstance(r2, str) and r2.status == 0, "round %d: the rename succeeds" % i):
        break
    renamer.close_fid(fid)
    r = final(watcher, m)
    got = changes(r) if not isinstance(r, str) and r.status == 0 else r
    want = [(OLD, "a%d.txt" % i), (NEW, "b%d.txt" % i)]
    if got == want:
        good += 1
    else:
        check(False, "round %d: one response with OLD_NAME a%d.txt and NEW_NAME b%d.txt, got %r"
              % (i, i, i, got))
        break
check(good == ROUNDS, "%d of %d renames reported as OLD_NAME + NEW_NAME in one response" % (good, ROUNDS))

# A move out to a directory nobody watches has no IN_MOVED_TO: its
# IN_MOVED_FROM, kept back in case the rest of the rename is still to be
# read, is reported as REMOVED once nothing more comes (10 ms).
renamer.close_fid(renamer.create("e", disp=2, opts=DIR))
m = watcher.mid()
watcher.send(hdr(NOTIFY, m, watcher.sid, watcher.tid) + b_notify(dfid, flags=1, filt=0x1))
r = watcher.recv_interim(10)
check(not isinstance(r, str) and r.mid == m and r.status == PENDING, "out: the CHANGE_NOTIFY goes async")
fid = renamer.create("d\\b0.txt", access=FILE_ACCESS, disp=1)
t0 = time.monotonic()
r2 = renamer.call(hdr(SINFO, renamer.mid(), renamer.sid, renamer.tid) +
                  b_sinfo(fid, 1, 10, rename_info(U16("e\\b0.txt"))))
check(not isinstance(r2, str) and r2.status == 0, "out: the move to e succeeds")
renamer.close_fid(fid)
r = final(watcher, m)
got = changes(r) if not isinstance(r, str) and r.status == 0 else r
check(got == [(2, "b0.txt")] and time.monotonic() - t0 < 1.0,
      "out: one REMOVED b0.txt within a second (%r, %.3f s)" % (got, time.monotonic() - t0))
watcher.close_fid(dfid)
for c in (watcher, renamer):
    c.close()
done(srv)
