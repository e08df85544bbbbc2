"""D5: one request filled the share's file system.  SET_INFO FileAllocationInformation of 2^40
answered DISK_FULL, but the blocks ext4 had handed out stayed allocated after close; FSCTL_SET_ZERO_DATA
shares the path.  Now (Samba's "strict allocate" semantics): with the default (no) nothing is
preallocated; with yes the space is preallocated as the user; either way a request for more than
the free space (less a reserve of 1% of the file system) is refused with DISK_FULL, and what a
failed preallocation took is given back.  Runs on its own 64 MiB loop-mounted ext4 (skips if it
cannot make one)."""
import os, sys, struct, traceback
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import regress
from regress import *
from smallfs import SmallFs, alloc_kib

OK, DISK_FULL = 0, 0xC000007F
MIB = 1 << 20


def set_info(h, fid, cls, value, send_only=False):
    msg = hdr(SINFO, h.mid(), h.sid, h.tid) + b_sinfo(fid, 1, cls, struct.pack("<Q", value))
    if send_only:
        h.send(msg)
        return None
    return h.call(msg, timeout=60).status


def zero_data(h, fid, off, beyond):
    r = h.call(hdr(IOCTL, h.mid(), h.sid, h.tid) + b_ioctl(0x000980C8, fid, struct.pack("<QQ", off, beyond), max_out=0),
               timeout=60)
    return r.status


def scenario(fs, strict, servers):
    tag = "strict allocate = %s" % ("yes" if strict else "no")
    srv = Srv(tag="alloc", base=fs.mnt, extra={"strict allocate": "yes" if strict else "no"})
    servers.append(srv)
    srv.start()
    h = H(srv.port)
    path = lambda n: os.path.join(srv.share, n)
    fid = h.create("big.bin", disposition=5)

    used = fs.used_kib()
    check(set_info(h, fid, 19, 1 << 40) == DISK_FULL, "%s: FileAllocationInformation 2^40 -> DISK_FULL" % tag)
    check(fs.used_kib() - used < 256, "%s: ... and the file system keeps its space (%d KiB used by it)"
          % (tag, fs.used_kib() - used))
    check(alloc_kib(path("big.bin")) == 0, "%s: ... and the file has no blocks" % tag)

    # More than the free space less the reserve: refused, nothing taken.
    over = max(fs.avail_kib() - fs.size_kib() // 200, 4) * 1024
    used = fs.used_kib()
    check(set_info(h, fid, 19, over) == DISK_FULL, "%s: an allocation into the 1%% reserve -> DISK_FULL" % tag)
    check(fs.used_kib() - used < 256, "%s: ... and nothing is taken" % tag)

    # A reasonable request: preallocated only with strict allocate.
    check(set_info(h, fid, 19, 8 * MIB) == OK, "%s: FileAllocationInformation 8 MiB -> OK" % tag)
    a = alloc_kib(path("big.bin"))
    check(a >= 8192 if strict else a == 0, "%s: ... %d KiB allocated" % (tag, a))
    check(os.path.getsize(path("big.bin")) == 0, "%s: ... and the size stays 0" % tag)
    check(set_info(h, fid, 19, 0) == OK and alloc_kib(path("big.bin")) == 0,
          "%s: a smaller allocation size gives the blocks back" % tag)
    h.close_fid(fid)

    # FSCTL_SET_ZERO_DATA over a 1 TiB sparse range of a non-sparse file.
    fid = h.create("zero.bin", disposition=5)
    h.write(fid, 0, b"x" * 4096)
    check(set_info(h, fid, 20, 1 << 40) == OK, "%s: EndOfFile 2^40 (sparse on disk)" % tag)
    used = fs.used_kib()
    st = zero_data(h, fid, 0, 1 << 40)
    check(st == OK, "%s: FSCTL_SET_ZERO_DATA of 1 TiB -> %s" % (tag, R.status_name(st)))
    check(fs.used_kib() - used < 1024, "%s: ... without filling the file system (%d KiB taken)"
          % (tag, fs.used_kib() - used))
    check(h.read(fid, 0, 16) == b"\0" * 16, "%s: ... and the range reads as zeroes" % tag)
    h.close_fid(fid)
    os.unlink(path("zero.bin"))

    if strict:
        # Two clients each ask for 60% of what may be taken, at once: whatever the order, at
        # most one gets it, the other is refused and keeps nothing (a preallocation that fails
        # midway gives its blocks back).
        allowed = (fs.avail_kib() - fs.size_kib() // 100) * 1024
        each = allowed * 6 // 10
        hs = [H(srv.port), H(srv.port, user=USERS[1])]
        fids = [x.create("race%d.bin" % i, disposition=5) for i, x in enumerate(hs)]
        used = fs.used_kib()
        for x, f in zip(hs, fids):
            set_info(x, f, 19, each, send_only=True)
        sts = [x.recv(60).status for x in hs]
        allocs = [alloc_kib(path("race%d.bin" % i)) for i in range(2)]
        check(sts.count(OK) <= 1 and all(s_ in (OK, DISK_FULL) for s_ in sts),
              "two allocations of 60%% at once: at most one OK, the other DISK_FULL (%s)"
              % [R.status_name(s) for s in sts])
        for s_, a in zip(sts, allocs):
            if s_ != OK:
                check(a == 0, "the refused one keeps no blocks (%d KiB)" % a)
        check(fs.used_kib() - used < each // 1024 + 2048, "only one allocation's space is taken (%d KiB for %d)"
              % (fs.used_kib() - used, each // 1024))
        for x, f in zip(hs, fids):
            x.close_fid(f)
            x.close()
        for i in range(2):
            os.unlink(path("race%d.bin" % i))

    f2 = h.create("other.txt", disposition=5)
    h.write(f2, 0, b"still room")
    check(h.read(f2, 0, 10) == b"still room", "%s: other files can still be written" % tag)
    h.close_fid(f2)
    h.close()
    check(srv.healthy(), "%s: the server serves a well-behaved client" % tag)


servers = []
with SmallFs(64) as fs:
    try:
        scenario(fs, False, servers)
        scenario(fs, True, servers)
    except Exception:
        traceback.print_exc()
        check(False, "the test runs to its end")
    if regress._failures:  # the scratch directories go with the file system
        for srv in servers:
            print("--- %s\n%s" % (srv.log, srv.logtext()[-3000:]))
    done(*servers)   # stops the servers before the file system goes
