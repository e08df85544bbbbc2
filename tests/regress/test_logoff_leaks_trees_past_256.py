"""D7: session teardown collected at most 256 tree ids; the rest, their share
root fds and their opens were never closed (and pointed at the freed session).

One session connects 300 trees with an open file in each, then logs off (and,
in a second round, just disconnects): the server's fd count must come back to
its baseline and no open may remain."""
import os, re, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

TREES = 300
srv = Srv(tag="trees").start()
fd0 = srv.fds()
for how in ("logoff", "disconnect"):
    c, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
    made = 0
    for i in range(TREES):
        try:
            R.tree_connect(c, s, "share")
            R.create(c, s, "t_%s_%d.txt" % (how, i))
            made += 1
        except R.SMBError as e:
            print("tree %d: %s" % (i, e))
            break
    check(made == TREES, "%s: %d trees with an open file each" % (how, made))
    if how == "logoff":
        R.logoff(c, s)
    c.close()
    time.sleep(1.5)
    check(0 <= srv.fds() <= fd0 + 2, "%s: server fds back to baseline (%d before, %d after)" % (how, fd0, srv.fds()))
    st = srv.status()
    check(not re.findall(r"^  file ", st, re.M), "%s: no open survives" % how)
check(srv.healthy(), "a well-behaved client still works")
done(srv)
