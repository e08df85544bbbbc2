"""A rename through one open rewrites the path of every open of the file
(set_info.c rename_opens), under the file's lock, and freed the old
strings; every other reader of an open's path (a rename through another
open, QUERY_INFO FileNameInformation, QUERY_DIRECTORY, a delete on close,
the lease and notify code) read it without that lock.  Two clients renaming
one file back and forth on two workers was a use-after-free that
ThreadSanitizer reported as a data race.  Now the path is an immutable,
counted string that a rename replaces (state/open.h, struct open_path).
Renames crossing also left the opens naming the file's old name, so the
last delete on close unlinked a name the file no longer had; renames of
one file now take turns (set_info.c, rename_turn_take).

Run under TSan (tests/regress/run --build build-tsan -k renames_free) and
ASan: several clients rename one file concurrently for a few seconds while
others read its name, list and watch its directory; the names they read
are whole, the last close with delete on close removes the file under its
newest name, and the sanitizer reports nothing."""
import os, sys, struct, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

SECONDS = float(os.environ.get("RENAME_RACE_SECONDS", "3"))
NAMES = ["d\\a.txt", "d\\b.txt"]
FILE_ACCESS = 0x0013019F  # read, write, attributes, DELETE
DELETE_ON_CLOSE = 0x1000
# statuses a rename may meet while others rename the same file
# (success, name collision, access denied, sharing violation, object
# name / path not found, delete pending)
RENAME_OK = {0, 0xC0000035, 0xC0000022, 0xC0000043, 0xC0000034, 0xC000003A, 0xC0000056}

srv = Srv(tag="renrace", extra={"worker threads": "4"}).start()
os.makedirs(os.path.join(srv.share, "d"))
os.chmod(os.path.join(srv.share, "d"), 0o777)
for n in ["a.txt"] + ["other%d" % n for n in range(8)]:
    open(os.path.join(srv.share, "d", n), "w").write("x")
    os.chmod(os.path.join(srv.share, "d", n), 0o666)
stop = threading.Event()
errors, counts, lock = [], {}, threading.Lock()


def note(kind, ok=True, why=""):
    with lock:
        counts[kind] = counts.get(kind, 0) + 1
        if not ok and len(errors) < 20:
            errors.append("%s: %s" % (kind, why))


def open_file(h, opts=0, tries=50):
    """An open of the file under whichever name it has now (None: none,
    as when its delete is pending)."""
    for _ in range(tries):
        for name in NAMES:
            r = h.call(hdr(CREATE, h.mid(), h.sid, h.tid) + b_create(U16(name), access=FILE_ACCESS,
                                                                        opts=opts))
            if st(r) == "STATUS_SUCCESS":
                return bytes(r.body[64:80])
    return None


def renamer(h, fid, first):
    i = first
    while not stop.is_set():
        r = h.call(hdr(SINFO, h.mid(), h.sid, h.tid) + b_sinfo(fid, 1, 10, rename_info(U16(NAMES[i % 2]))))
        note("rename", not isinstance(r, str) and r.status in RENAME_OK, st(r))
        i += 1


def name_reader(h, fid):
    while not stop.is_set():
        # FileNameInformation (its name at 0), FileAllInformation (at 96)
        for cls, at in ((9, 0), (18, 96)):
            r = h.call(hdr(QINFO, h.mid(), h.sid, h.tid) + b_qinfo(fid, 1, cls))
            if st(r) != "STATUS_SUCCESS":
                note("qinfo", False, st(r))
                continue
            off, ln = struct.unpack_from("<HI", r.body, 2)
            buf = bytes(r.raw[off:off + ln])
            nl = struct.unpack_from("<I", buf, at)[0]
            name = buf[at + 4:at + 4 + nl].decode("utf-16-le", "replace")
            note("qinfo", name in ("\\" + NAMES[0], "\\" + NAMES[1]), "name %r" % name)


def lister(h, dfid):
    while not stop.is_set():
        r = h.call(hdr(QDIR, h.mid(), h.sid, h.tid) + b_qdir(dfid, U16("*"), flags=0x01))
        note("qdir", st(r) == "STATUS_SUCCESS", st(r))


def watcher(h, dfid):
    while not stop.is_set():
        r = h.call(hdr(NOTIFY, h.mid(), h.sid, h.tid) + b_notify(dfid, out_len=512), timeout=10)
        # success, or STATUS_NOTIFY_ENUM_DIR (more changes than its buffer holds)
        note("notify", not isinstance(r, str) and r.status in (0, 0x10C), st(r))


def closer(h):
    """Opens and closes the file meanwhile (its open joins the file's list)."""
    while not stop.is_set():
        fid = open_file(h, tries=1)
        if fid is None:
            continue
        r = h.call(hdr(CLOSE, h.mid(), h.sid, h.tid) + b_close(fid))
        note("close", st(r) == "STATUS_SUCCESS", st(r))


conns = [H(srv.port) for _ in range(7)]
fids = [open_file(conns[i]) for i in range(4)]
check(None not in fids, "four clients open the file")
dfid = {}
for i in (4, 5):
    r = conns[i].call(hdr(CREATE, conns[i].mid(), conns[i].sid, conns[i].tid) +
                      b_create(U16("d"), access=0x00120089, opts=0x1, attrs=0x10))
    check(st(r) == "STATUS_SUCCESS", "the directory opens (%s)" % st(r))
    dfid[i] = bytes(r.body[64:80])
threads = [threading.Thread(target=renamer, args=(conns[0], fids[0], 0)),
           threading.Thread(target=renamer, args=(conns[1], fids[1], 1)),
           threading.Thread(target=renamer, args=(conns[2], fids[2], 0)),
           threading.Thread(target=name_reader, args=(conns[3], fids[3])),
           threading.Thread(target=lister, args=(conns[4], dfid[4])),
           threading.Thread(target=watcher, args=(conns[5], dfid[5])),
           threading.Thread(target=closer, args=(conns[6],))]
for t in threads:
    t.start()
time.sleep(SECONDS)
# the last phase: an open with delete on close comes and closes while
# renames go on (the file is delete-pending then: renames fail), and the
# last close removes the file under its newest name
dc = H(srv.port)
doc = open_file(dc, opts=DELETE_ON_CLOSE)
check(doc is not None, "an open with delete on close")
r = dc.call(hdr(CLOSE, dc.mid(), dc.sid, dc.tid) + b_close(doc))
check(st(r) == "STATUS_SUCCESS", "it closes while the renames go on (%s)" % st(r))
time.sleep(0.3)
stop.set()
touch = H(srv.port)  # wakes the watcher's pending notify
touch.close_fid(touch.create("d\\wake", disp=2))
for t in threads:
    t.join(30)
check(not any(t.is_alive() for t in threads), "every client finishes")
print("requests:", counts)
check(counts.get("rename", 0) >= 20, "renames ran concurrently (%d)" % counts.get("rename", 0))
check(not errors, "every answer is one a racing rename may give; every name read is whole: %s" % errors[:5])
for h, fid in zip(conns[:4], fids[:4]):
    r = h.call(hdr(CLOSE, h.mid(), h.sid, h.tid) + b_close(fid))
    check(st(r) == "STATUS_SUCCESS", "each open closes (%s)" % st(r))
left = sorted(os.listdir(os.path.join(srv.share, "d")))
check("a.txt" not in left and "b.txt" not in left,
      "the last close removed the file under its newest name (left: %s)" % left)
for h in conns + [touch, dc]:
    h.close()
check(srv.healthy(), "a well-behaved client still works")
done(srv)
