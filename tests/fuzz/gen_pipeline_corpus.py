#!/usr/bin/python3
"""Write the seed corpus of tests/fuzz/fuzz_pipeline.c into tests/fuzz/corpus/fuzz_pipeline/.

Each seed is   mode:u8  (flags:u8 len:u16be message)*   (the format is described at the top of
fuzz_pipeline.c).  The harness fills in MessageIds, SessionIds, TreeIds and signatures; a FileId
written as FID(k) becomes the k-th newest FileId a CREATE returned.  The seeds are ordinary
client conversations (one per command family, the compound shapes, oplock breaks, named pipes,
sealed trees, logoff and tree disconnect in the middle) for the fuzzer to mutate.

    tests/fuzz/gen_pipeline_corpus.py [OUTDIR]"""
import os, struct, sys
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from hc import (b_create, b_close, b_read, b_write, b_ioctl, b_qdir, b_qinfo, b_sinfo, b_echo, b_notify,  # noqa: E402
                b_lock, ctx_item, rename_info, U16,
                NEG, SESS, LOGOFF, TCON, TDIS, CREATE, CLOSE, FLUSH, READ, WRITE, LOCK, IOCTL, CANCEL, ECHO,
                QDIR, NOTIFY, QINFO, SINFO, OPBRK)

RAW, SIGN, SEAL, KEEP_SID, NOWAIT, NOACK = 0x01, 0x02, 0x04, 0x20, 0x40, 0x80
SHARE, IPC, SEALED, NOTREE = 0 << 3, 1 << 3, 2 << 3, 3 << 3
RELATED = 0x4
M311, M202, M210, M300, M302 = 0x04, 0x00, 0x01, 0x02, 0x03
M311_2CH, M302_2CH = 0x05, 0x06   # and a second channel bound to the session
M311_2SESS = 0x07                 # and a second connection with a session of its own
DROP = b""                        # with RAW: the record drops its connection
SIGNREQ = 0x08


def FID(k=0):
    return struct.pack("<QQ", 0xFFFFFFFFFFFFFFF0 + k, 0)


REL = b"\xff" * 16   # the related-compound FileId


def el(cmd, body, flags=0, charge=1):
    """A header (ids left to the harness) + body."""
    return struct.pack("<4sHHIHHIIQIIQ16s", b"\xfeSMB", 64, charge, 0, cmd, 64, flags, 0, 0, 0, 0, 0,
                       b"\0" * 16) + body


def chain(*elems):
    out = b""
    for i, e in enumerate(elems):
        if i != len(elems) - 1:
            e = e + b"\0" * ((8 - len(e) % 8) % 8)
            e = e[:20] + struct.pack("<I", len(e)) + e[24:]
        out += e
    return out


def rec(msg, flags=0, chan=0):
    """One record; chan 1 is the second channel (modes M311_2CH, M302_2CH)."""
    assert len(msg) < 0x8000
    return struct.pack(">BH", flags, len(msg) | (chan << 15)) + msg


def seed(mode, *recs):
    return bytes([mode]) + b"".join(recs)


def create(name, **kw):
    return el(CREATE, b_create(U16(name), **kw))


RPC = os.path.join(HERE, "corpus", "fuzz_rpc")


def rpc(name):
    with open(os.path.join(RPC, name), "rb") as f:
        return f.read()


FSCTL_VALIDATE_NEGOTIATE = 0x00140204
FSCTL_QUERY_NETWORK_INTERFACE_INFO = 0x001401FC
FSCTL_SET_SPARSE = 0x000900C4
FSCTL_SET_ZERO_DATA = 0x000980C8
FSCTL_QUERY_ALLOCATED_RANGES = 0x000940CF
FSCTL_SRV_REQUEST_RESUME_KEY = 0x00140078
FSCTL_SRV_COPYCHUNK = 0x001440F2
FSCTL_PIPE_TRANSCEIVE = 0x0011C017
FSCTL_GET_REPARSE_POINT = 0x000900A8
FSCTL_CREATE_OR_GET_OBJECT_ID = 0x000900C0
ALL = b"\xff" * 16


def seeds():
    s = {}
    s["rw_311"] = seed(M311, rec(create("a.txt", disp=5)), rec(el(WRITE, b_write(FID(), 0, b"hello fuzz" * 10))),
                       rec(el(READ, b_read(FID(), 0, 100))), rec(el(FLUSH, struct.pack("<HHI", 24, 0, 0) + FID())),
                       rec(el(CLOSE, b_close(FID(), 1))))
    for mode, name in ((M202, "rw_202"), (M210, "rw_210"), (M300, "rw_300"), (M302, "rw_302"),
                       (M311 | SIGNREQ, "rw_311_signed"), (M311 | 0x50, "rw_311_ccm_cmac")):
        s[name] = seed(mode, rec(create("b.txt", disp=5)), rec(el(WRITE, b_write(FID(), 3, b"x" * 300))),
                       rec(el(READ, b_read(FID(), 0, 4096))), rec(el(CLOSE, b_close(FID()))))
    s["rw_sealed_tree"] = seed(M311, rec(create("s.txt", disp=5), SEALED),
                               rec(el(WRITE, b_write(FID(), 0, b"sealed")), SEALED),
                               rec(el(READ, b_read(FID(), 0, 6)), SEALED), rec(el(CLOSE, b_close(FID())), SEALED))
    s["rw_sealed_300"] = seed(M300, rec(create("s.txt", disp=5), SEAL), rec(el(READ, b_read(FID(), 0, 6)), SEAL),
                              rec(el(CLOSE, b_close(FID())), SEAL))
    s["dir_list"] = seed(M311, rec(create("d", disp=2, opts=1, access=0x100081)), rec(create("d\\f1", disp=2)),
                         rec(el(CLOSE, b_close(FID()))), rec(create("d", disp=1, opts=1, access=0x100081)),
                         *[rec(el(QDIR, b_qdir(FID(), U16(p), cls=c, flags=fl)))
                           for p, c, fl in (("*", 0x25, 1), ("*", 0x01, 1), ("f*", 0x26, 1), ("*", 0x03, 0),
                                            ("?1", 0x0C, 1), ("*", 0x02, 0x10), ("*", 0x3C, 1))],
                         rec(el(CLOSE, b_close(FID()))))
    qi = [(1, c) for c in (4, 5, 6, 7, 8, 9, 14, 15, 16, 17, 18, 21, 22, 28, 34, 35, 48, 68)]
    qi += [(2, c) for c in (1, 3, 4, 5, 6, 7, 8, 11)] + [(3, 0)]
    s["query_info"] = seed(M311, rec(create("q.txt", disp=5)),
                           *[rec(el(QINFO, b_qinfo(FID(), t, c, addl=0x7 if t == 3 else 0))) for t, c in qi],
                           rec(el(CLOSE, b_close(FID()))))
    basic = struct.pack("<QQQQII", 0, 0, 132000000000000000, 0, 0x20, 0)
    s["set_info"] = seed(M311, rec(create("si.txt", disp=5, access=0x001F01FF)),
                         rec(el(SINFO, b_sinfo(FID(), 1, 4, basic))),
                         rec(el(SINFO, b_sinfo(FID(), 1, 20, struct.pack("<Q", 1000)))),
                         rec(el(SINFO, b_sinfo(FID(), 1, 19, struct.pack("<Q", 4096)))),
                         rec(el(SINFO, b_sinfo(FID(), 1, 14, struct.pack("<Q", 10)))),
                         rec(el(SINFO, b_sinfo(FID(), 1, 10, rename_info(U16("si2.txt"))))),
                         rec(el(SINFO, b_sinfo(FID(), 1, 13, b"\x01"))),
                         rec(el(CLOSE, b_close(FID()))))
    s["rename_over"] = seed(M311, rec(create("r1", disp=5)), rec(create("r2", disp=5)),
                            rec(el(SINFO, b_sinfo(FID(1), 1, 10, rename_info(U16("r2"), replace=1))))
                            , rec(el(SINFO, b_sinfo(FID(), 1, 11, rename_info(U16("r3"))))))
    s["locks"] = seed(M311, rec(create("l.txt", disp=5)), rec(el(WRITE, b_write(FID(), 0, b"z" * 64))),
                      rec(el(LOCK, b_lock(FID(), [(0, 10, 2 | 0x10)]))),
                      rec(el(LOCK, b_lock(FID(), [(5, 10, 1)]))),
                      rec(el(LOCK, b_lock(FID(), [(0, 10, 4)]))),
                      rec(el(LOCK, b_lock(FID(), [(0, 10, 2), (20, 5, 1 | 0x10)]))),
                      rec(el(CANCEL, struct.pack("<HH", 4, 0))),
                      rec(el(CLOSE, b_close(FID()))))
    s["notify_cancel"] = seed(M311, rec(create("n", disp=2, opts=1, access=0x100081)),
                              rec(el(NOTIFY, b_notify(FID(), flags=1))),
                              rec(create("n\\x", disp=2)), rec(el(CLOSE, b_close(FID()))),
                              rec(el(NOTIFY, b_notify(FID(1)))),
                              rec(el(CANCEL, struct.pack("<HH", 4, 0), flags=0x2)),
                              rec(el(CLOSE, b_close(FID(1)))))
    s["ioctls"] = seed(M311, rec(create("i.txt", disp=5)),
                       rec(el(WRITE, b_write(FID(), 0, b"abc" * 100))),
                       rec(el(IOCTL, b_ioctl(FSCTL_VALIDATE_NEGOTIATE, ALL,
                                             struct.pack("<I16sHH", 0x7F, b"\xc1" * 16, 1, 5) +
                                             struct.pack("<5H", 0x202, 0x210, 0x300, 0x302, 0x311)))),
                       rec(el(IOCTL, b_ioctl(FSCTL_QUERY_NETWORK_INTERFACE_INFO, ALL))),
                       rec(el(IOCTL, b_ioctl(FSCTL_SET_SPARSE, FID(), b"\x01")))
                       , rec(el(IOCTL, b_ioctl(FSCTL_SET_ZERO_DATA, FID(), struct.pack("<QQ", 10, 20)))),
                       rec(el(IOCTL, b_ioctl(FSCTL_QUERY_ALLOCATED_RANGES, FID(), struct.pack("<QQ", 0, 1 << 20)))),
                       rec(el(IOCTL, b_ioctl(FSCTL_SRV_REQUEST_RESUME_KEY, FID()))),
                       rec(el(IOCTL, b_ioctl(FSCTL_GET_REPARSE_POINT, FID()))),
                       rec(el(IOCTL, b_ioctl(FSCTL_CREATE_OR_GET_OBJECT_ID, FID()))),
                       rec(el(CLOSE, b_close(FID()))))
    chunk = struct.pack("<24sII", b"\0" * 24, 1, 0) + struct.pack("<QQII", 0, 0, 100, 0)
    s["copychunk"] = seed(M311, rec(create("src.txt", disp=5)), rec(el(WRITE, b_write(FID(), 0, b"c" * 200))),
                          rec(el(IOCTL, b_ioctl(FSCTL_SRV_REQUEST_RESUME_KEY, FID()))),
                          rec(create("dst.txt", disp=5)),
                          rec(el(IOCTL, b_ioctl(FSCTL_SRV_COPYCHUNK, FID(), chunk, max_out=12))))
    s["compound_rw"] = seed(M311, rec(chain(create("c.txt", disp=5),
                                            el(WRITE, b_write(REL, 0, b"compound"), flags=RELATED),
                                            el(READ, b_read(REL, 0, 8), flags=RELATED),
                                            el(QINFO, b_qinfo(REL, 1, 18), flags=RELATED),
                                            el(CLOSE, b_close(REL), flags=RELATED))))
    s["compound_fail"] = seed(M311, rec(chain(create("nope\\x.txt", disp=1),
                                              el(QINFO, b_qinfo(REL, 1, 5), flags=RELATED),
                                              el(CLOSE, b_close(REL), flags=RELATED))))
    s["compound_unrelated"] = seed(M311, rec(chain(el(ECHO, b_echo()), create("u.txt", disp=5),
                                                   el(NOTIFY, b_notify(FID())))),
                                   rec(chain(el(QDIR, b_qdir(FID(), U16("*"))), el(CANCEL, struct.pack("<HH", 4, 0)),
                                             el(CLOSE, b_close(FID())))))
    s["compound_sealed"] = seed(M311, rec(chain(create("cs.txt", disp=5),
                                                el(WRITE, b_write(REL, 0, b"q" * 33), flags=RELATED),
                                                el(READ, b_read(REL, 0, 33), flags=RELATED),
                                                el(CLOSE, b_close(REL), flags=RELATED)), SEALED))
    s["oplock_break_self"] = seed(M311, rec(create("o.txt", disp=5, oplock=9)),
                                  rec(create("o.txt", disp=1, oplock=9)),
                                  rec(el(CLOSE, b_close(FID()))), rec(el(CLOSE, b_close(FID(1)))))
    s["oplock_unacked_logoff"] = seed(M311, rec(create("p.txt", disp=5, oplock=9)),
                                      rec(create("p.txt", disp=1, oplock=9), NOACK | NOWAIT),
                                      rec(el(LOGOFF, struct.pack("<HH", 4, 0)), NOACK))
    s["oplock_lease"] = seed(M311, rec(create("ls.txt", disp=5, oplock=0xFF,
                                              ctx=ctx_item(b"RqLs", b"\x11" * 16 + struct.pack("<IIQ", 7, 0, 0)))),
                             rec(create("ls.txt", disp=1, oplock=8)))
    s["streams"] = seed(M311, rec(create("st.txt", disp=5)), rec(create("st.txt:alt", disp=5)),
                        rec(el(WRITE, b_write(FID(), 0, b"stream data"))),
                        rec(el(QINFO, b_qinfo(FID(1), 1, 22))), rec(el(CLOSE, b_close(FID()))),
                        rec(create("st.txt:alt:$DATA", disp=1)),
                        rec(el(SINFO, b_sinfo(FID(), 1, 10, rename_info(U16(":alt2"))))))
    ea = struct.pack("<IBBH", 0, 0, 4, 5) + b"USER\0" + b"value"
    s["ea"] = seed(M311, rec(create("ea.txt", disp=5, ctx=ctx_item(b"ExtA", ea))),
                   rec(el(QINFO, b_qinfo(FID(), 1, 15))),
                   rec(el(SINFO, b_sinfo(FID(), 1, 15, ea))), rec(el(CLOSE, b_close(FID()))))
    ctxs = (ctx_item(b"MxAc", b"", nxt=24) + ctx_item(b"QFid", b"", nxt=24) +
            ctx_item(b"AlSi", struct.pack("<Q", 4096), nxt=32) + ctx_item(b"DHnQ", b"\0" * 16, nxt=40) +
            ctx_item(b"TWrp", struct.pack("<Q", 132000000000000000)))
    s["create_contexts"] = seed(M311, rec(create("cc.txt", disp=5, ctx=ctxs)), rec(el(CLOSE, b_close(FID()))))
    sd = struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 20) + struct.pack("<BBHI", 2, 0, 8, 0)
    s["security"] = seed(M311, rec(create("sd.txt", disp=5, access=0x001F01FF, ctx=ctx_item(b"SecD", sd))),
                         rec(el(QINFO, b_qinfo(FID(), 3, 0, addl=0x7))),
                         rec(el(SINFO, b_sinfo(FID(), 3, 0, sd, addl=4))), rec(el(CLOSE, b_close(FID()))))
    bind, enum = rpc("bind_srvsvc"), rpc("enum_level1")
    s["ipc_srvsvc"] = seed(M311, rec(create("srvsvc", disp=1, opts=0, access=0x0012019F), IPC),
                           rec(el(WRITE, b_write(FID(), 0, bind)), IPC), rec(el(READ, b_read(FID(), 0, 4280)), IPC),
                           rec(el(IOCTL, b_ioctl(FSCTL_PIPE_TRANSCEIVE, FID(), enum, max_out=4280)), IPC),
                           rec(el(CLOSE, b_close(FID())), IPC))
    s["ipc_wkssvc"] = seed(M311, rec(create("wkssvc", disp=1, opts=0), IPC),
                           rec(el(IOCTL, b_ioctl(FSCTL_PIPE_TRANSCEIVE, FID(), rpc("bind_auth"), max_out=1024)), IPC),
                           rec(el(QINFO, b_qinfo(FID(), 1, 5)), IPC))
    s["logoff_midway"] = seed(M311, rec(create("lo.txt", disp=5)), rec(el(LOGOFF, struct.pack("<HH", 4, 0))),
                              rec(el(READ, b_read(FID(), 0, 10))), rec(create("lo2.txt", disp=5)))
    s["tdis_midway"] = seed(M311, rec(create("td.txt", disp=5)), rec(el(TDIS, struct.pack("<HH", 4, 0))),
                            rec(el(WRITE, b_write(FID(), 0, b"after"))),
                            rec(el(TCON, struct.pack("<HHHH", 9, 0, 72, 30) + U16("\\\\127.0.0.1\\share")), NOTREE))
    s["tcon_again"] = seed(M311, rec(el(TCON, struct.pack("<HHHH", 9, 0, 72, 30) + U16("\\\\127.0.0.1\\share")),
                                     NOTREE), rec(el(TCON, struct.pack("<HHHH", 9, 0, 72, 24) + U16("\\\\x\\nosuch")),
                                                  NOTREE))
    s["negotiate_again"] = seed(M311, rec(el(NEG, struct.pack("<HHHHI16sIHH", 36, 1, 1, 0, 0, b"\0" * 16, 0, 0, 0)
                                            + b"\x02\x02"), NOTREE))
    s["echo_pipelined"] = seed(M311, *[rec(el(ECHO, b_echo()), NOWAIT) for _ in range(6)], rec(el(ECHO, b_echo())))
    s["credits_multi"] = seed(M311, rec(create("big.txt", disp=5)),
                              rec(el(WRITE, b_write(FID(), 0, b"m" * 30000))),
                              rec(el(READ, b_read(FID(), 0, 70000), charge=2)),
                              rec(el(READ, b_read(FID(), 0, 200000), charge=1)))
    s["raw_bad_mid"] = seed(M311, rec(el(ECHO, b_echo()), RAW), rec(el(ECHO, b_echo())))
    s["delete_on_close"] = seed(M311, rec(create("doc.txt", disp=5, opts=0x1000, access=0x00110080)),
                                rec(create("doc.txt", disp=1)), rec(el(CLOSE, b_close(FID(1)))),
                                rec(create("doc.txt", disp=1)))
    s["hardlink"] = seed(M311, rec(create("h1", disp=5)),
                         rec(el(SINFO, b_sinfo(FID(), 1, 11, rename_info(U16("h2")))))
                         , rec(el(QINFO, b_qinfo(FID(), 1, 46))))
    s["fs_info"] = seed(M311, rec(create("", disp=1, opts=1, access=0x100081)),
                        *[rec(el(QINFO, b_qinfo(FID(), 2, c))) for c in (1, 3, 4, 5, 6, 7, 8, 11)],
                        rec(el(SINFO, b_sinfo(FID(), 2, 6, struct.pack("<QQQQQQ", 0, 0, 0, 0, 0, 0)))))
    # found by fuzzing, kept as regression seeds
    s["regress_copychunk_no_input"] = seed(M311, rec(create("cn.txt", disp=5)),
                                           rec(el(IOCTL, b_ioctl(FSCTL_SRV_COPYCHUNK, FID(), b"", max_out=12,
                                                                 in_off=0, in_len=0))))
    # two channels of one session (records with chan=1 go on the bound channel)
    s["bind_rw"] = seed(M311_2CH, rec(create("b1.txt", disp=5)), rec(el(WRITE, b_write(FID(), 0, b"via b")), chan=1),
                        rec(el(READ, b_read(FID(), 0, 5))), rec(el(CLOSE, b_close(FID())), chan=1))
    s["bind_rw_302"] = seed(M302_2CH, rec(create("b2.txt", disp=5), chan=1), rec(el(WRITE, b_write(FID(), 0, b"x" * 99))),
                            rec(el(READ, b_read(FID(), 0, 99)), chan=1), rec(el(CLOSE, b_close(FID()))))
    s["bind_logoff_other"] = seed(M311_2CH, rec(create("lg.txt", disp=5, oplock=9)),
                                  rec(el(LOGOFF, struct.pack("<HH", 4, 0)), chan=1),
                                  rec(el(READ, b_read(FID(), 0, 10))), rec(create("lg.txt", disp=1, oplock=9)))
    s["bind_oplock_cross"] = seed(M311_2CH, rec(create("oc.txt", disp=5, oplock=9)),
                                  rec(create("oc.txt", disp=1, oplock=9), NOACK | NOWAIT, chan=1),
                                  rec(el(CLOSE, b_close(FID())), NOACK),
                                  rec(create("oc.txt", disp=1, oplock=9), chan=1))
    s["bind_oplock_logoff"] = seed(M311_2CH, rec(create("ol.txt", disp=5, oplock=9), chan=1),
                                   rec(create("ol.txt", disp=1, oplock=9), NOACK | NOWAIT),
                                   rec(el(LOGOFF, struct.pack("<HH", 4, 0)), NOACK, chan=1))
    s["bind_tdis_other"] = seed(M311_2CH, rec(create("tt.txt", disp=5)), rec(el(TDIS, struct.pack("<HH", 4, 0)), chan=1),
                                rec(el(WRITE, b_write(FID(), 0, b"after tdis"))))
    s["bind_notify_cross"] = seed(M311_2CH, rec(create("nd", disp=2, opts=1, access=0x100081)),
                                  rec(el(NOTIFY, b_notify(FID()))),
                                  rec(el(CANCEL, struct.pack("<HH", 4, 0)), chan=1),
                                  rec(el(CLOSE, b_close(FID())), chan=1))
    s["bind_lock_cross"] = seed(M311_2CH, rec(create("lk.txt", disp=5)), rec(el(LOCK, b_lock(FID(), [(0, 8, 2)]))),
                                rec(el(LOCK, b_lock(FID(), [(0, 8, 2)])), NOWAIT, chan=1),
                                rec(el(CLOSE, b_close(FID()))))
    s.update(durable_lease_seeds())
    return s


# ---- leases, durable handles, replay, channel and lock sequences ----

REPLAY = 0x20000000
SMBTORTURE_FORCE_UNACKED_TIMEOUT = 0x83848003   # Samba's test FSCTLs: 0x8384xxxx, method neither
FSCTL_LMR_REQUEST_RESILIENCY = 0x001401D4
APP_INSTANCE = b"\x45\xBC\xA6\x6A\xEF\xA7\xF7\x4A\x90\x08\xFA\x46\x2E\x14\x4D\x74"
RWH, RH, R = 7, 5, 1


def ctxs(*items):
    """Create contexts chained by their Next offsets (each item (name, data))."""
    out = b""
    for i, (name, data) in enumerate(items):
        it = ctx_item(name, data)
        if i != len(items) - 1:
            it += b"\0" * ((8 - len(it) % 8) % 8)
            it = struct.pack("<I", len(it)) + it[4:]
        out += it
    return out


def lease1(key, state=RWH):
    return (b"RqLs", key + struct.pack("<IIQ", state, 0, 0))


def lease2(key, state=RWH, parent=None, epoch=0):
    return (b"RqLs", key + struct.pack("<IIQ", state, 4 if parent else 0, 0) + (parent or b"\0" * 16) +
            struct.pack("<HH", epoch, 0))


def dh2q(guid, timeout=0, persistent=0):
    return (b"DH2Q", struct.pack("<IIQ", timeout, 2 if persistent else 0, 0) + guid)


def dh2c(guid, fid=None):
    return (b"DH2C", (fid or FID()) + guid + struct.pack("<I", 0))


def app_instance(aid):
    return (APP_INSTANCE, struct.pack("<HH", 20, 0) + aid)


def el_cs(cmd, body, chanseq=0, flags=0):
    """An element with a ChannelSequence in the header (3.x: where the Status of a response is)."""
    e = el(cmd, body, flags=flags)
    return e[:8] + struct.pack("<HH", chanseq, 0) + e[12:]


def lease_ack(key, state):
    return el(OPBRK, struct.pack("<HHI16sIQ", 36, 0, 0, key, state, 0))


def lock_seq(fid, locks, num, index):
    body = struct.pack("<HHI16s", 48, len(locks), (index << 4) | num, fid)
    for off, ln, fl in locks:
        body += struct.pack("<QQII", off, ln, fl, 0)
    return body


def durable_lease_seeds():
    s = {}
    k1, k2, kp = b"\x21" * 16, b"\x22" * 16, b"\x2f" * 16
    g1, g2 = b"\xa1" * 16, b"\xa2" * 16
    # a v2 lease broken by a second lease; the harness acknowledges (36-byte form)
    s["lease_v2_break"] = seed(M311, rec(create("lv2.txt", disp=5, oplock=0xFF, ctx=ctxs(lease2(k1, parent=kp)))),
                               rec(create("lv2.txt", disp=1, oplock=0xFF, ctx=ctxs(lease2(k2, RH)))),
                               rec(el(CLOSE, b_close(FID()))), rec(el(CLOSE, b_close(FID(1)))))
    # the ack sent by the record: a wrong state, then the right one, then an unknown key
    s["lease_ack_explicit"] = seed(M311, rec(create("la.txt", disp=5, oplock=0xFF, ctx=ctxs(lease1(k1)))),
                                   rec(create("la.txt", disp=1, oplock=0xFF, ctx=ctxs(lease1(k2))), NOACK | NOWAIT),
                                   rec(lease_ack(k1, RWH), NOACK), rec(lease_ack(k1, RH), NOACK),
                                   rec(lease_ack(b"\x99" * 16, 0), NOACK))
    s["lease_v1_dir"] = seed(M311, rec(create("ld", disp=2, opts=1, access=0x100081, oplock=0xFF,
                                              ctx=ctxs(lease2(k1, RH)))),
                             rec(create("ld\\f", disp=2, oplock=0xFF, ctx=ctxs(lease2(k2, RWH, parent=k1)))),
                             rec(el(CLOSE, b_close(FID()))))
    # durable v2 with lease and AppInstanceId; reconnect attempts while it is open
    dur = ctxs(dh2q(g1, 60000), lease2(k1), app_instance(b"\x5a" * 16))
    s["durable_v2_reconnect"] = seed(M311, rec(create("dv2.txt", disp=5, oplock=0xFF, ctx=dur)),
                                     rec(create("dv2.txt", disp=1, oplock=0xFF, ctx=ctxs(dh2c(g1), lease2(k1)))),
                                     rec(create("dv2.txt", disp=1, ctx=ctxs((b"DHnC", FID())))),
                                     rec(create("dv2.txt", disp=1, oplock=0xFF,
                                                ctx=ctxs(dh2q(g2), lease2(k2), app_instance(b"\x5a" * 16)))))
    s["durable_v1_oplock"] = seed(M302, rec(create("dv1.txt", disp=5, oplock=9, ctx=ctxs((b"DHnQ", b"\0" * 16)))),
                                  rec(create("dv1.txt", disp=1, ctx=ctxs((b"DHnC", FID())))),
                                  rec(el(LOGOFF, struct.pack("<HH", 4, 0))))
    # a durable open made on the second channel, a reconnect attempt on the first while it is connected
    s["durable_reconnect_2ch"] = seed(M311_2CH, rec(create("dr.txt", disp=5, oplock=0xFF, ctx=ctxs(dh2q(g1), lease1(k1))),
                                                    chan=1),
                                      rec(create("dr.txt", disp=1, oplock=0xFF, ctx=ctxs(dh2c(g1), lease1(k1)))))
    # the connection of a durable open dropped; reconnected from another session (v2 with a
    # lease, v1 with a batch oplock), a replay and an AppInstanceId from there too
    s["durable_v2_dropped_reconnect"] = seed(M311_2SESS,
                                             rec(create("dd.txt", disp=5, oplock=0xFF, ctx=ctxs(dh2q(g1, 60000), lease2(k1)))),
                                             rec(el(WRITE, b_write(FID(), 0, b"kept"))),
                                             rec(DROP, RAW),
                                             rec(create("dd.txt", disp=1, oplock=0xFF, ctx=ctxs(dh2c(g1), lease2(k1))), chan=1),
                                             rec(el(READ, b_read(FID(), 0, 4)), chan=1),
                                             rec(create("dd.txt", disp=1, oplock=0xFF, ctx=ctxs(dh2c(g1), lease2(k1))), chan=1),
                                             rec(el(CLOSE, b_close(FID())), chan=1))
    s["durable_v2_batch_dropped_reconnect"] = seed(M311_2SESS,
                                                   rec(create("db2.txt", disp=5, oplock=9, ctx=ctxs(dh2q(g2, 60000)))),
                                                   rec(DROP, RAW),
                                                   rec(create("db2.txt", disp=1, oplock=9, ctx=ctxs(dh2c(g1))), chan=1),
                                                   rec(create("db2.txt", disp=1, oplock=9, ctx=ctxs(dh2c(g2))), chan=1),
                                                   rec(el(WRITE, b_write(FID(), 0, b"again")), chan=1),
                                                   rec(create("db2.txt", disp=1, oplock=9, ctx=ctxs(dh2c(g2))), chan=1))
    s["durable_v1_dropped_reconnect"] = seed(M311_2SESS,
                                             rec(create("d1.txt", disp=5, oplock=9, ctx=ctxs((b"DHnQ", b"\0" * 16)))),
                                             rec(DROP, RAW),
                                             rec(create("d1.txt", disp=1, ctx=ctxs((b"DHnC", FID()))), chan=1),
                                             rec(create("d1.txt", disp=1, oplock=9), chan=1))
    s["durable_dropped_replay_appinstance"] = seed(M311_2SESS,
                                                   rec(create("da.txt", disp=5, oplock=0xFF,
                                                              ctx=ctxs(dh2q(g1, 60000), lease1(k1),
                                                                       app_instance(b"\x5b" * 16)))),
                                                   rec(create("db.txt", disp=5, oplock=0xFF, ctx=ctxs(dh2q(g2), lease1(k2)))),
                                                   rec(DROP, RAW),
                                                   rec(el_cs(CREATE, b_create(U16("db.txt"), disp=5, oplock=0xFF,
                                                                              ctx=ctxs(dh2q(g2), lease1(k2))), 1, REPLAY), chan=1),
                                                   rec(create("da.txt", disp=1, oplock=0xFF,
                                                              ctx=ctxs(dh2q(b"\xa3" * 16), lease1(kp),
                                                                       app_instance(b"\x5b" * 16))), chan=1))
    # create replay: the same CreateGuid again with the REPLAY flag, on either channel
    rc = ctxs(dh2q(g1, 30000), lease2(k1))
    s["create_replay"] = seed(M311, rec(create("rp.txt", disp=5, oplock=0xFF, ctx=rc)),
                              rec(el_cs(CREATE, b_create(U16("rp.txt"), disp=5, oplock=0xFF, ctx=rc), 0, REPLAY)),
                              rec(el_cs(CREATE, b_create(U16("rp.txt"), disp=5, oplock=0xFF,
                                                         ctx=ctxs(dh2q(g1, 30000), lease2(k2))), 0, REPLAY)),
                              rec(el_cs(CREATE, b_create(U16("rp2.txt"), disp=5, oplock=9, ctx=ctxs(dh2q(g2))),
                                        1, REPLAY)))
    s["create_replay_2ch"] = seed(M311_2CH, rec(create("r2.txt", disp=5, oplock=0xFF, ctx=rc), NOWAIT),
                                  rec(el_cs(CREATE, b_create(U16("r2.txt"), disp=5, oplock=0xFF, ctx=rc), 0, REPLAY),
                                      chan=1))
    # channel sequence: WRITEs and SET_INFO with ChannelSequence moving on, a stale one, a replayed one
    s["channel_sequence"] = seed(M311_2CH, rec(create("cq.txt", disp=5, ctx=ctxs(dh2q(g1)))),
                                 rec(el_cs(WRITE, b_write(FID(), 0, b"one"), 1)),
                                 rec(el_cs(WRITE, b_write(FID(), 0, b"two"), 2), chan=1),
                                 rec(el_cs(WRITE, b_write(FID(), 0, b"old"), 1)),
                                 rec(el_cs(WRITE, b_write(FID(), 0, b"rep"), 2, REPLAY), chan=1),
                                 rec(el_cs(SINFO, b_sinfo(FID(), 1, 20, struct.pack("<Q", 1)), 0x8002)),
                                 rec(el_cs(IOCTL, b_ioctl(FSCTL_SET_ZERO_DATA, FID(), struct.pack("<QQ", 0, 2)), 0xFFFF)))
    # lock sequences on a resilient and on a durable open, replayed and out of range
    s["lock_sequence"] = seed(M311, rec(create("ls2.txt", disp=5, ctx=ctxs(dh2q(g1)))),
                              rec(el(IOCTL, b_ioctl(FSCTL_LMR_REQUEST_RESILIENCY, FID(), struct.pack("<II", 1000, 0),
                                                    max_out=0))),
                              rec(el(LOCK, lock_seq(FID(), [(0, 10, 2 | 0x10)], 1, 1))),
                              rec(el(LOCK, lock_seq(FID(), [(0, 10, 2 | 0x10)], 1, 1))),
                              rec(el(LOCK, lock_seq(FID(), [(0, 10, 4)], 2, 1))),
                              rec(el(LOCK, lock_seq(FID(), [(0, 10, 1 | 0x10)], 3, 64))),
                              rec(el(LOCK, lock_seq(FID(), [(20, 1, 2 | 0x10)], 15, 0x0FFFFFFF))))
    # the FSCTLs of the table without a seed, on a file and on the server
    fs = [(FSCTL_LMR_REQUEST_RESILIENCY, struct.pack("<II", 0xFFFFFFFF, 0), 0),
          (0x00144064, b"", 16), (0x0009003C, b"", 2), (0x0009C040, b"\0\0", 0), (0x0009C040, b"\2\0", 0),
          (0x00098208, struct.pack("<II", 0, 2) + struct.pack("<QQ", 0, 4096) * 2, 4),
          (0x00098208, struct.pack("<II", 0, 0x10000000), 4), (0x0009009C, b"", 64),
          (0x0009027C, b"", 0), (0x0009C280, b"\0" * 8, 0), (0x00098344, b"\0" * 32, 0),
          (0x00090284, b"\0" * 24, 1024), (0x001441BB, b"\0" * 24, 1024), (0x00060194, b"\0\0" + U16("x"), 1024),
          (0x00110018, b"\0" * 14, 0), (0x0011400C, b"", 24),
          (SMBTORTURE_FORCE_UNACKED_TIMEOUT, b"", 0), (0x83848013, b"", 0), (0x83848023, b"", 0)]
    s["fsctl_table"] = seed(M311, rec(create("ft.txt", disp=5, access=0x001F01FF)),
                            *[rec(el(IOCTL, b_ioctl(c, FID(), i, max_out=o))) for c, i, o in fs],
                            rec(el(IOCTL, b_ioctl(0x00110018, ALL, b"\0" * 14)), IPC),
                            # Samba's test hooks are sent on no open, before or after a session
                            rec(el(IOCTL, b_ioctl(SMBTORTURE_FORCE_UNACKED_TIMEOUT, ALL, max_out=0)), NOTREE),
                            rec(el(IOCTL, b_ioctl(SMBTORTURE_FORCE_UNACKED_TIMEOUT, ALL, b"x", max_out=0))))
    # the other test hooks (fakeconn.c enables them): body padding on the
    # IOCTL response and on every READ after it, and the async sleep with a
    # CLOSE right behind it, cancelled, in a compound, and cut by a dropped
    # connection
    sleep = 0x83848043
    s["torture_hooks"] = seed(M311_2CH, rec(create("th.txt", disp=5)),
                              rec(el(WRITE, b_write(FID(), 0, b"x" * 100))),
                              rec(el(IOCTL, b_ioctl(0x83848013, ALL, max_out=3))),
                              rec(el(IOCTL, b_ioctl(0x83848013, ALL, b"x", max_out=3))),
                              rec(el(IOCTL, b_ioctl(0x83848023, ALL, max_out=0))),
                              rec(el(READ, b_read(FID(), 0, 100))),
                              rec(el(IOCTL, b_ioctl(sleep, FID(), b"\x02", max_out=0)), NOWAIT),
                              rec(el(CLOSE, b_close(FID())), 0, 1),
                              rec(create("th.txt", disp=1)),
                              rec(el(IOCTL, b_ioctl(sleep, FID(), b"", max_out=0))),
                              rec(el(IOCTL, b_ioctl(sleep, FID(), b"\x01\x01", max_out=0))),
                              rec(chain(el(IOCTL, b_ioctl(sleep, FID(), b"\x01", max_out=0)),
                                        el(CLOSE, b_close(REL), RELATED))),
                              rec(create("th.txt", disp=1)),
                              rec(chain(el(READ, b_read(FID(), 0, 10)),
                                        el(IOCTL, b_ioctl(sleep, REL, b"\x01", max_out=0), RELATED))),
                              rec(el(IOCTL, b_ioctl(sleep, FID(), b"\x05", max_out=0)), NOWAIT),
                              rec(el(CANCEL, b_echo())),
                              rec(el(IOCTL, b_ioctl(sleep, FID(), b"\x03", max_out=0)), NOWAIT),
                              rec(el(CLOSE, b_close(FID())), NOWAIT),
                              rec(DROP, RAW))
    # outcomes kept for replays (state/outcome.h): a sleep overtaken by a
    # READ under a newer ChannelSequence on the other channel, its replay
    # there (answered from the record), a replay with another input (run
    # again), and a sleep whose channel is dropped under it, replayed
    s["outcome_replay"] = seed(M311_2CH, rec(create("or.txt", disp=5)),
                               rec(el_cs(IOCTL, b_ioctl(sleep, FID(), b"\x04", max_out=0), 1), NOWAIT),
                               rec(el_cs(READ, b_read(FID(), 0, 10), 2), chan=1),
                               rec(el_cs(IOCTL, b_ioctl(sleep, FID(), b"\x04", max_out=0), 2, REPLAY), chan=1),
                               rec(el_cs(IOCTL, b_ioctl(sleep, FID(), b"\x01", max_out=0), 2, REPLAY), chan=1),
                               rec(el_cs(WRITE, b_write(FID(), 0, b"w" * 64), 2), chan=1),
                               rec(el_cs(IOCTL, b_ioctl(sleep, FID(), b"\x06", max_out=0), 3), NOWAIT),
                               rec(DROP, RAW),
                               rec(el_cs(IOCTL, b_ioctl(sleep, FID(), b"\x06", max_out=0), 4, REPLAY), chan=1),
                               rec(el_cs(WRITE, b_write(FID(), 0, b"w" * 64), 4, REPLAY), chan=1),
                               rec(el_cs(SINFO, b_sinfo(FID(), 1, 20, struct.pack("<Q", 1)), 4, REPLAY), chan=1))
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus", "fuzz_pipeline")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds()), out))


if __name__ == "__main__":
    main()
