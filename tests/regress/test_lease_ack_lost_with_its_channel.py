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
import os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403,E402
from leasebrk import *  # noqa: F403,E402

in_own_netns()
lease_answer_lost('lostack', 'lostack.txt', cut_first=True, limit=8.0)  # 6 x 0.2 s to leave A1, about as long for the answer, slack
