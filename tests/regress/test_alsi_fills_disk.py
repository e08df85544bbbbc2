"""D5: a CREATE with an AllocationSize (AlSi) context of 2^40 succeeded and filled the disk; on a
named stream the preallocation ran as root and also took the root-reserved blocks.  Now the
context is bounded by the free space (DISK_FULL, and the object just created is removed),
preallocated only with "strict allocate = yes", and every stream operation that takes space runs
as the user: a user who filled the disk cannot make the server use root's reserve.  Runs on its
own 64 MiB loop-mounted ext4 (skips if it cannot make one)."""
import os, sys, struct, traceback
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import regress
from regress import *
from smallfs import SmallFs, alloc_kib

OK, DISK_FULL = 0, 0xC000007F
MIB = 1 << 20
DEPOT = ".smb3d-streams"


def create_alsi(h, name, size, disp=5):
    ctx = ctx_item(b"AlSi", struct.pack("<Q", size))
    r = h.call(hdr(CREATE, h.mid(), h.sid, h.tid) + b_create(U16(name), disp=disp, ctx=ctx), timeout=60)
    if r.status == 0:
        h.call(hdr(CLOSE, h.mid(), h.sid, h.tid) + b_close(r.body[64:80]))
    return r.status


def stream_files(share):
    out = []
    for root, _, files in os.walk(os.path.join(share, DEPOT)):
        out += [os.path.join(root, f) for f in files]
    return out


def scenario(fs, strict, servers):
    tag = "strict allocate = %s" % ("yes" if strict else "no")
    srv = Srv(tag="alsi", base=fs.mnt, extra={"strict allocate": "yes" if strict else "no"})
    servers.append(srv)
    srv.start()
    h = H(srv.port)
    path = lambda n: os.path.join(srv.share, n)

    for name in ("alsi.bin", "base.txt:strm"):
        used = fs.used_kib()
        st = create_alsi(h, name, 1 << 40)
        check(st == DISK_FULL, "%s: CREATE %s with AllocationSize 2^40 -> %s" % (tag, name, R.status_name(st)))
        check(fs.used_kib() - used < 256, "%s: ... and the file system keeps its space (%d KiB taken)"
              % (tag, fs.used_kib() - used))
    check(not os.path.exists(path("alsi.bin")), "%s: the refused new file is not left behind" % tag)
    check(stream_files(srv.share) == [], "%s: nor the refused new stream" % tag)

    # an existing file overwritten with a too large allocation
    f = h.create("old.bin", disposition=5)
    h.write(f, 0, b"old")
    h.close_fid(f)
    check(create_alsi(h, "old.bin", 1 << 40, disp=5) == DISK_FULL, "%s: OVERWRITE_IF with 2^40 -> DISK_FULL" % tag)

    # a reasonable size: preallocated only with strict allocate, on a stream as on a file
    check(create_alsi(h, "four.bin", 4 * MIB) == OK, "%s: CREATE with AllocationSize 4 MiB -> OK" % tag)
    check(create_alsi(h, "four.txt:s", 4 * MIB) == OK, "%s: CREATE of a stream with 4 MiB -> OK" % tag)
    a, sf = alloc_kib(path("four.bin")), stream_files(srv.share)
    sa = alloc_kib(sf[0]) if sf else -1
    check(os.path.getsize(path("four.bin")) == 0, "%s: ... sizes stay 0" % tag)
    check((a >= 4096 and sa >= 4096) if strict else (a == 0 and sa == 0),
          "%s: ... file %d KiB, stream %d KiB allocated" % (tag, a, sa))
    h.close()


def root_reserve(fs, srv):
    # Root's reserve: smb3test1 fills what users may use, then asks for a new stream (whose depot
    # entries the server makes as root) and a preallocated one: both refused, root's blocks intact.
    h = H(srv.port)
    f = h.create("fill.bin", disposition=5)
    off, chunk, full = 0, b"\xa5" * 65536, None
    while off < 128 * MIB:
        r = h.call(hdr(WRITE, h.mid(), h.sid, h.tid) + b_write(f, off, chunk), timeout=60)
        if r.status:
            full = r.status
            break
        off += len(chunk)
    h.close_fid(f)
    check(full == DISK_FULL, "writing as a user stops at DISK_FULL (%s after %d MiB)" % (R.status_name(full or 0), off >> 20))
    root_free = fs.root_free_kib()
    v = H(srv.port, user=USERS[1])
    for i in range(20):
        create_alsi(v, "v%d.txt:s%d" % (i, i), 0)
    st1 = create_alsi(v, "v.txt:big", 1 * MIB)
    st2 = create_alsi(v, "w.bin", 1 * MIB)
    v.close()
    check(st1 == DISK_FULL and st2 == DISK_FULL, "new streams and allocations on a full disk -> DISK_FULL (%s, %s)"
          % (R.status_name(st1), R.status_name(st2)))
    check(fs.root_free_kib() >= root_free - 64, "root's reserve is untouched (%d KiB free for root, was %d)"
          % (fs.root_free_kib(), root_free))
    os.unlink(os.path.join(srv.share, "fill.bin"))
    check(srv.healthy(), "the server serves a well-behaved client again")


servers = []
with SmallFs(64) as fs:
    try:
        scenario(fs, False, servers)
        scenario(fs, True, servers)
        root_reserve(fs, servers[1])
    except Exception:
        traceback.print_exc()
        check(False, "the test runs to its end")
    if regress._failures:  # the scratch directories go with the file system
        for srv in servers:
            print("--- %s\n%s" % (srv.log, srv.logtext()[-3000:]))
    done(*servers)   # stops the servers before the file system goes
