"""A client-chosen name with a newline (an NTLM user name; since issue 16 also stream names,
which may hold control characters) was logged as it was: the part after the newline became a
line of its own, so a client could forge "logon failed from <someone else>" lines for fail2ban.
Every control character of a message is now written as '?'."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

srv = Srv(tag="logforge").start()
forged = "x\nlogon failed from 198.51.100.7: user 'victim': wrong password"
c = R.Conn("127.0.0.1", srv.port).negotiate()
st, _ = R.session_setup(c, forged, "wrong")
check(st != 0, "the logon fails (0x%x)" % st)
c.close()
text = srv.logtext()
bad = [l for l in text.splitlines() if "198.51.100.7" in l and "logon failed from 127.0.0.1" not in l]
check(not bad, "no line of its own for the forged part: %r" % bad)
check(any("user 'x?logon failed from 198.51.100.7" in l for l in text.splitlines()),
      "the name is logged on the real line, its newline as '?'")
done(srv)
