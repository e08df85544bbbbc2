"""A lease break's answer lost with a channel must not hold the conflicting
open until the break timer (issue 15, kernel-client scenario shared).

The Linux client sends its lease break acknowledgment once, on whichever
channel it picks, and never again when that channel dies.  When the
channel it picks is the one that was cut under the break -- the server
gave up on it and moved the break to another channel, and the client has
not noticed the cut yet -- the answer is lost, and the open that caused
the break waited for the break timer (35 s by default; client B's open
stalled 13.7 s once in CI, until client A closed the file).  Now a lease
break whose answer is overdue, after a channel of the client went since
the break began, is sent again; the client answers it with the state it
holds, and the break ends.

In a network namespace of its own, an nftables rule cuts channel A1 both
ways.  B's open breaks A's lease: the break goes to A1, is not
acknowledged, and moves to A2.  A answers on A1 (lost).  The break must
come again on A2 within a few seconds; A's answer there ends it, and B's
open succeeds long before the break timer (20 s here)."""
import os, sys, time, uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403,E402
from leasebrk import *  # noqa: F403,E402

in_own_netns()

U1 = USERS[0]
NAME = "lostack.txt"
LIMIT = 8.0  # 6 x 0.2 s to leave A1, about as long for the answer, slack; the timer is 20 s

srv = Srv(tag="lostack", extra={"smb3d:oplock break timeout": "20"}).start()
a1, a2, s, b, sb = two_clients(srv.port, U1)
key_a = uuid.uuid4().bytes
open_leased(a1, s, NAME, key_a)
port = str(a1.sock.getsockname()[1])
nft("add", "table", "inet", "lostack")
nft("add", "chain", "inet", "lostack", "in", "{ type filter hook input priority 0; }")
nft("add", "rule", "inet", "lostack", "in", "tcp", "dport", port, "drop")
nft("add", "rule", "inet", "lostack", "in", "tcp", "sport", port, "drop")

t0 = time.monotonic()
open_conflicting(b, sb, NAME)
if expect_break(a2, key_a, 10, "the break moves from the cut A1 to A2", t0):
    send(a1, s, lease_ack(a1, s, key_a))  # the answer goes on the cut channel: lost
    again = expect_break(a2, key_a, 8, "with its answer lost, the break comes again on A2", t0)
    if again:
        check(parse_break(again)[4] == RH, "to RH (0x%x)" % parse_break(again)[4])
        r = a2.call(lease_ack(a2, s, key_a), s.keys[a2])
        check(r.status == 0, "the answer on A2 is accepted (0x%x)" % r.status)
if conflict_answered(b, 25):
    dt = time.monotonic() - t0
    check(dt < LIMIT, "B's open is answered within %.0f s, not at the break timer (%.2f s)" % (LIMIT, dt))
a1.sock.close(); a2.close(); b.close()
check(srv.healthy(), "a well-behaved client still works")
done(srv)
