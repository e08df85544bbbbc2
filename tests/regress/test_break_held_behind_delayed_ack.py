"""A lease break must reach a channel whose client stopped acknowledging
right after the response before it (issue 15).

A Linux client that answers requests delays its ACK of a lone small
segment by 40 ms or more, to send it with its next request.  When the
client's packets were dropped from just after a CREATE response
(smbtorture's iptables "block" drops what the client sends, some
milliseconds after the response), that ACK was lost: the server's TCP
retransmitted the response and sent nothing new, so a later lease break
for the channel never left the server on it, and smbtorture
smb2.multichannel.leases.test2 / test4 and oplocks.test3_specification,
which count the break on the blocked channel, failed in about 2 runs of 3.
Now a response after which a multichannel connection falls idle goes out
as two segments (the framing header first), which a Linux peer
acknowledges as soon as it has read them.

The test runs in a network namespace of its own (unshare), where an
nftables rule drops what channel A1 sends, a few milliseconds after its
CREATE response; the break must then arrive on A1 (where nobody
acknowledges it) and be resent on A2 after about 6 x RTO."""
import os, sys, time, uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403,E402
from leasebrk import *  # noqa: F403,E402

in_own_netns()

U1 = USERS[0]
NAME = "held.txt"

srv = Srv(tag="brkheld", extra={"smb3d:oplock break timeout": "10"}).start()
a1, a2, s, b, sb = two_clients(srv.port, U1)
key_a = uuid.uuid4().bytes
nft("add", "table", "inet", "held")
nft("add", "chain", "inet", "held", "out", "{ type filter hook output priority 0; }")

# A request/response exchange or two first, so A1's socket answers the way
# a client's does (it delays its ACK of a response to ride on its next request).
for _ in range(3):
    R.echo(a1, s)
r = a1.call(R.create_request(a1, s, NAME, disposition=3, oplock=0xFF, contexts=[rqls(key_a, RWH)]), s.keys[a1])
nft("add", "rule", "inet", "held", "out", "tcp", "sport", str(a1.sock.getsockname()[1]), "drop")
ls = lease_of(r) if r.status == 0 else None
check(ls is not None and ls[0] == RWH, "A1 gets an RWH lease (%s)" % (ls,))

time.sleep(0.5)  # the server's TCP has retransmitted the response by now if it was never acknowledged
t0 = time.monotonic()
send(b, sb, R.create_request(b, sb, NAME, disposition=3, oplock=0xFF, contexts=[rqls(uuid.uuid4().bytes, RWH)]))
try:
    brk = recv(a1, 3)
    check(brk.command == 0x12 and parse_break(brk)[0] == key_a,
          "the break arrives on A1 (%.2f s after the open)" % (time.monotonic() - t0))
except OSError as e:
    check(False, "the break arrives on A1 (%s)" % e)
if expect_break(a2, key_a, 8, "and is resent on A2", t0):
    r = a2.call(lease_ack(a2, s, key_a), s.keys[a2])
    check(r.status == 0, "the ack on A2 is accepted (0x%x)" % r.status)
try:
    r = recv(b, 5)
    check(r.status == 0x103 or r.status == 0, "B's open is answered (0x%x)" % r.status)
    if r.status == 0x103:
        r = recv(b, 5)
    check(r.status == 0 and lease_of(r) is not None, "B's open succeeds (0x%x)" % r.status)
except OSError as e:
    check(False, "B's open is answered (%s)" % e)
a1.sock.close(); a2.close(); b.close()
check(srv.healthy(), "a well-behaved client still works")
done(srv)
