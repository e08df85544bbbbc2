"""Oplock helpers for tests/regress/ programs (raw SMB2 through hc.py)."""
import struct
from hc import H, hdr, b_create, st, CREATE, OPBRK, U16

NONE, LEVEL_II, EXCLUSIVE, BATCH = 0x00, 0x01, 0x08, 0x09
STAT_ACCESS = 0x00100180  # READ_ATTRIBUTES | WRITE_ATTRIBUTES | SYNCHRONIZE
ALL_ACCESS = 0x001F01FF
OPEN, CREATE_NEW, OPEN_IF, OVERWRITE, OVERWRITE_IF = 1, 2, 3, 4, 5


def open_file(port_or_h, name, oplock=NONE, access=ALL_ACCESS, disp=OPEN_IF, share=7, timeout=8):
    """CREATE on a new connection (port) or on H: (H, response, FileId or None)."""
    h = H(port_or_h) if isinstance(port_or_h, int) else port_or_h
    h.send(hdr(CREATE, h.mid(), h.sid, h.tid) + b_create(U16(name), access=access, disp=disp, share=share,
                                                         oplock=oplock))
    r = h.recv(timeout=timeout)
    fid = bytes(r.body[64:80]) if not isinstance(r, str) and st(r) == "STATUS_SUCCESS" else None
    return h, r, fid


def granted(r):
    return None if isinstance(r, str) or st(r) != "STATUS_SUCCESS" else r.body[2]


def recv_break(h, timeout=2):
    """The next oplock break notification on h: (level, FileId), or None."""
    r = h.recv(timeout=timeout)
    if isinstance(r, str) or r.command != OPBRK or r.mid != 0xFFFFFFFFFFFFFFFF:
        return None
    return r.body[2], bytes(r.body[8:24])


def ack(h, fid, level):
    return h.call(hdr(OPBRK, h.mid(), h.sid, h.tid) + struct.pack("<HBBI16s", 24, level, 0, 0, fid))
