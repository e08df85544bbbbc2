"""Every directory a CHANGE_NOTIFY watches (the one it names, and with
WATCH_TREE up to 4,096 below it) holds an inotify watch, and inotify
counts those per uid: the server's, one budget (fs.inotify.max_user_watches)
for every client.  One user's WATCH_TREE requests over many directories
could take them all, leaving every other client's change notifies and
directory leases without watches.  Now one user's watches hold at most
16,384 directories (NT_MAX_DIRS_PER_USER); past that its further
directories go unwatched, and the other users' still are.

User 1 watches four trees of 4,095 subdirectories (16,384 directories with
their roots), then directory x; user 2 watches x too.  A file made in x
must reach user 2's CHANGE_NOTIFY, not user 1's (past its share)."""
import os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, USERS, check, done, hdr, b_notify, NOTIFY, R

TREES, SUBDIRS = 4, 4095
PENDING = 0x103
DIR, LIST = 0x1, 0x1 | 0x80 | 0x100000   # FILE_DIRECTORY_FILE; LIST_DIRECTORY | READ_ATTRIBUTES | SYNCHRONIZE


def watch(h, name, tree):
    """Open directory name and send a CHANGE_NOTIFY on it; its MessageId."""
    fid = h.create(name, access=LIST, disp=1, opts=DIR)
    m = h.mid()
    h.send(hdr(NOTIFY, m, h.sid, h.tid) + b_notify(fid, flags=1 if tree else 0, filt=0x3))
    r = h.recv_interim(20)
    check(not isinstance(r, str) and r.status == PENDING, "the CHANGE_NOTIFY on %s goes async" % name)
    return m


def answered(h, m, timeout):
    """Did the CHANGE_NOTIFY m get its final answer within timeout?"""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = h.recv_interim(max(0.1, end - time.monotonic()))
        if isinstance(r, str):
            return False
        if r.mid == m and r.status != PENDING:
            return True
    return False


srv = Srv(tag="notifyshare").start()
for t in range(TREES):
    for i in range(SUBDIRS):
        os.makedirs(os.path.join(srv.share, "t%d" % t, "d%04d" % i))
os.mkdir(os.path.join(srv.share, "x"))

hog = H(srv.port, user=USERS[0], timeout=30)
for t in range(TREES):
    watch(hog, "t%d" % t, tree=True)
time.sleep(3 + 2 * TREES)  # the walks run on the vfs pool after the interim answer
m1 = watch(hog, "x", tree=False)
other = H(srv.port, user=USERS[1], timeout=30)
m2 = watch(other, "x", tree=False)
time.sleep(0.5)
with open(os.path.join(srv.share, "x", "new.txt"), "w") as f:
    f.write("x")
check(answered(other, m2, 5), "user 2's CHANGE_NOTIFY on x reports the new file")
check(not answered(hog, m1, 2), "user 1's does not: x is past its share of 16,384 watched directories")

for c in (hog, other):
    c.close()
done(srv)
