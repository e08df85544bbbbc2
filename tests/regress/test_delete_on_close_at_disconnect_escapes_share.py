"""Delete-on-close at disconnect ran unlinkat() as the daemon, by path and
without RESOLVE_BENEATH: a directory of the path swapped for a symlink between
the open and the disconnect made the server delete a file outside the share.

A client opens d/x with FILE_DELETE_ON_CLOSE; a local process then moves d away
and puts a symlink d -> (a directory outside the share holding x); the client
disconnects.  The file outside must survive."""
import os, shutil, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

srv = Srv(tag="docesc").start()
outside = tempfile.mkdtemp(prefix="docesc-outside-")
os.chmod(outside, 0o777)
victim = os.path.join(outside, "x")
open(victim, "w").write("must survive")
os.chmod(victim, 0o666)
d = os.path.join(srv.share, "d")
os.mkdir(d)
os.chmod(d, 0o777)
c, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
R.create(c, s, "d\\x", access=0x00130197, disposition=2, options=0x1040)  # DELETE | rw, CREATE, DELETE_ON_CLOSE
os.rename(d, d + "2")
os.symlink(outside, d)
c.close()
time.sleep(1.5)
check(os.path.exists(victim), "the file outside the share survives the disconnect")
# and delete-on-close at disconnect still works where nothing was swapped
c, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
R.create(c, s, "y", access=0x00130197, disposition=2, options=0x1040)
check(os.path.exists(os.path.join(srv.share, "y")), "y exists while open")
c.close()
time.sleep(1.5)
check(not os.path.exists(os.path.join(srv.share, "y")), "a delete-on-close file is removed at disconnect")
check(srv.healthy(), "a well-behaved client still works")
shutil.rmtree(outside, ignore_errors=True)
done(srv)
