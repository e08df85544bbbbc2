"""A lease break delivered on a live channel whose answer goes on a cut
channel the server still trusts must not hold the conflicting open until
the break timer (issue 15, kernel-client scenario shared: client B's open
stalled 14.2 s).

The Linux client sends its lease break acknowledgment once, on whichever
channel it picks.  When the break went to a live channel and the answer
to a channel cut since -- one the server has sent nothing to, so it sees
nothing wrong with it until the client has noticed the cut and
reconnected -- the answer is lost.  The server only sent the break again
once a channel of the client had gone, so B waited.  Now a lease break
of a client with more than one channel is sent again after a second
without an answer; the Linux client answers that second notification
once its first answer has failed, on a channel it still trusts.

In a network namespace of its own, an nftables rule cuts channel A2 both
ways.  B's open breaks A's lease: the break goes to A1 (the oldest) and
is acknowledged there.  A answers on A2 (lost).  The break must come
again on A1 within a few seconds; A's answer there ends it, and B's open
succeeds long before the break timer (20 s here)."""
import os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403,E402
from leasebrk import *  # noqa: F403,E402

in_own_netns()
lease_answer_lost('trustedcut', 'trustedcut.txt', cut_first=False, limit=6.0)  # the break at once, its resend 1 s without an answer, slack
