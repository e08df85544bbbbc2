"""D8: one session opening handles until the process ran out of descriptors
locked every other client out.  Now "max open files per session" / "per
user" / "max open files" (bounded by RLIMIT_NOFILE less a reserve) refuse
the offender with STATUS_TOO_MANY_OPENED_FILES, and the last opens are kept
for users holding few: a new client still connects and opens files."""
import os, sys, time, resource, subprocess
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, USERS, check, done, hdr, b_create, compound, split_compound, U16, CREATE, R

TOO_MANY = "STATUS_TOO_MANY_OPENED_FILES"
NOFILE = 1500   # the server inherits it: reserve 512, so 988 opens in all
resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
srv = Srv(tag="maxfid", extra={"max open files per session": "600"}).start()
base_fds = srv.fds()

def flood(h, limit=2000):
    """Open maxfid.txt until refused; (opened, first error status)."""
    opened = 0
    while opened < limit:
        parts = [(hdr(CREATE, h.mid(), h.sid, h.tid), b_create(U16("maxfid.txt"), access=0x00120089, disp=1))
                 for _ in range(32)]
        h.send(compound(parts))
        r = h.recv(20)
        if isinstance(r, str):
            return opened, r
        for x in split_compound(r):
            if x.status == 0:
                opened += 1
            else:
                return opened, TOO_MANY if x.status == 0xC000011F else R.status_name(x.status)
    return opened, None

h = H(srv.port)
h.close_fid(h.create("maxfid.txt", disposition=5))
n1, e1 = flood(h)
print("session 1:", n1, e1)
check(n1 == 600, "the per-session bound stops the first session at 600 (%d)" % n1)
check(e1 == "STATUS_TOO_MANY_OPENED_FILES", "with STATUS_TOO_MANY_OPENED_FILES (%s)" % e1)
h2 = H(srv.port)  # the same user, a second session
n2, e2 = flood(h2)
print("session 2 of the same user:", n2, e2, "fds", srv.fds())
check(n2 > 0 and e2 == "STATUS_TOO_MANY_OPENED_FILES", "a second session of the same user is stopped too")
check(srv.fds() < NOFILE - 400, "the descriptor reserve is untouched (%d of %d used)" % (srv.fds(), NOFILE))
# another user: connect, session, tree connect and a few opens work
t0 = time.time()
h3 = H(srv.port, user=USERS[1])
fids = [h3.create("other%d.txt" % i, disposition=5) for i in range(8)]
check(len(fids) == 8, "a new user connects and opens 8 files while one user holds %d" % (n1 + n2))
for f in fids:
    h3.close_fid(f)
h3.close()
check(srv.healthy(USERS[1]), "a raw client of the other user works")
r = subprocess.run(["timeout", "30", "smbclient", "//127.0.0.1/share", "-p", str(srv.port),
                    "-U", "%s%%%s" % USERS[1], "-c", "ls"], capture_output=True, text=True)
check(r.returncode == 0, "smbclient (the other user) lists the share meanwhile")
h.close()
h2.close()
time.sleep(3)
print("fds: baseline", base_fds, "after", srv.fds())
check(srv.fds() <= base_fds + 8, "descriptors back to the baseline after the disconnect")
h = H(srv.port)
n4, e4 = flood(h, 100)
check(n4 >= 100, "the user's count went back to zero (%d, %s)" % (n4, e4))
h.close()
done(srv)
