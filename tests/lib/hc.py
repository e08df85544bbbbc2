"""Hostile-client helpers on top of tests/lib/smb2raw.py."""
import os, sys, socket, struct, time, random
_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _here)
import smb2raw as R
from srv import Srv, USERS

NEG, SESS, LOGOFF, TCON, TDIS, CREATE, CLOSE, FLUSH, READ, WRITE, LOCK, IOCTL, CANCEL, ECHO, QDIR, NOTIFY, QINFO, SINFO, OPBRK = range(19)
RELATED = 0x4
U16 = lambda s: s.encode("utf-16-le", "surrogatepass")

def hdr(cmd, mid, sid=0, tid=0, charge=1, credreq=64, flags=0, nxt=0, status=0, async_id=None):
    if async_id is not None:
        flags |= 0x2
        return bytearray(struct.pack("<4sHHIHHIIQQQ16s", b"\xfeSMB", 64, charge, status, cmd, credreq,
                                     flags, nxt, mid, async_id, sid, b"\0" * 16))
    return bytearray(struct.pack("<4sHHIHHIIQIIQ16s", b"\xfeSMB", 64, charge, status, cmd, credreq,
                                 flags, nxt, mid, 0, tid, sid, b"\0" * 16))

class H:
    """An authenticated raw connection with a tree and helpers for raw PDUs."""
    def __init__(self, port, user=USERS[0], share="share", negotiate_only=False, timeout=8):
        self.c = R.Conn("127.0.0.1", port, timeout=timeout).negotiate()
        self.s = None
        if not negotiate_only:
            st, self.s = R.session_setup(self.c, user[0], user[1])
            if st:
                raise R.SMBError(st, "session setup")
            R.tree_connect(self.c, self.s, share)
    @property
    def sid(self): return self.s.id
    @property
    def tid(self): return self.s.tree_id
    def mid(self, charge=1):
        m = self.c.mid
        self.c.mid += max(1, charge)
        return m
    def send_raw(self, data):
        self.c.sock.sendall(data)
    def sign_elems(self, msg):
        """Sign every element of a (compound) message that carries this session's id."""
        if self.s is None or not self.s.keys.get(self.c):
            return bytes(msg)
        key = self.s.keys[self.c]
        msg = bytearray(msg); pos = 0
        while pos + 64 <= len(msg) and msg[pos:pos + 4] == b"\xfeSMB":
            nxt = struct.unpack_from("<I", msg, pos + 20)[0]
            end = pos + nxt if nxt and pos + nxt <= len(msg) else len(msg)
            if end - pos < 64:
                break
            sid = struct.unpack_from("<Q", msg, pos + 40)[0]
            cmd = struct.unpack_from("<H", msg, pos + 12)[0]
            fl = struct.unpack_from("<I", msg, pos + 16)[0]
            if (sid == self.s.id or (fl & RELATED)) and cmd != CANCEL or (cmd == CANCEL and sid == self.s.id):
                el = bytearray(msg[pos:end])
                R.Conn.sign(el, key, self.c.sign_alg, self.c.dialect)
                msg[pos:end] = el
            if not nxt or end >= len(msg):
                break
            pos = end
        return bytes(msg)
    def send(self, msg, sign=True):
        self.c._send(self.sign_elems(msg) if sign else bytes(msg))
    def recv(self, timeout=8):
        """Response, 'closed' or 'timeout'."""
        self.c.sock.settimeout(timeout)
        try:
            return self.c._recv()
        except (ConnectionError, OSError) as e:
            if isinstance(e, socket.timeout):
                return "timeout"
            return "closed"
        except struct.error:
            return "closed"
    def recv_interim(self, timeout=8):
        """Like recv but returns STATUS_PENDING interim responses too."""
        self.c.sock.settimeout(timeout)
        try:
            n = struct.unpack(">I", self.c._recv_exact(4))[0] & 0xFFFFFF
            return R.Response(self.c._recv_exact(n))
        except socket.timeout:
            return "timeout"
        except (ConnectionError, OSError, struct.error):
            return "closed"
    def recv_all(self, n, timeout=8):
        out = []
        for _ in range(n):
            r = self.recv(timeout)
            out.append(r)
            if isinstance(r, str):
                break
        return out
    def call(self, msg, timeout=8, sign=True):
        self.send(msg, sign)
        return self.recv(timeout)
    def create(self, name, **kw):
        if "disp" in kw: kw["disposition"] = kw.pop("disp")
        if "opts" in kw: kw["options"] = kw.pop("opts")
        return R.create(self.c, self.s, name, **kw)
    def close_fid(self, fid):
        return R.close(self.c, self.s, fid)
    def write(self, fid, off, data):
        return R.write(self.c, self.s, fid, off, data)
    def read(self, fid, off, n):
        return R.read(self.c, self.s, fid, off, n)
    def close(self):
        self.c.close()

def split_compound(r):
    """A compound response -> list of Response."""
    out = [r]
    raw = r.raw
    while out[-1].next:
        off = sum(x.next for x in out)
        out.append(R.Response(raw[off:]))
    return out

def st(r):
    if isinstance(r, str):
        return r
    return R.status_name(r.status)

# ---- request bodies ----
def b_create(name_u16, access=0x0012019F, disp=1, opts=0x40, share=7, attrs=0x80, ctx=b"", ctx_off=None,
             name_off=None, name_len=None, oplock=0):
    n = name_u16
    nl = len(n) if name_len is None else name_len
    no = 64 + 56 if name_off is None else name_off
    buf = n or b"\0"
    if ctx:
        pad = (8 - (56 + len(buf)) % 8) % 8
        buf = buf + b"\0" * pad
        co = 64 + 56 + len(buf) if ctx_off is None else ctx_off
        cl = len(ctx)
        buf += ctx
    else:
        co = ctx_off or 0
        cl = 0
    return struct.pack("<HBBIQQIIIIIHHII", 57, 0, oplock, 2, 0, 0, access, attrs, share, disp, opts,
                       no, nl, co, cl) + buf

def ctx_item(name, data, nxt=0, name_off=16, data_off=None, data_len=None):
    nb = name
    dof = data_off if data_off is not None else (24 if data else 0)
    if data_off is None and data:
        dof = 16 + ((len(nb) + 7) // 8) * 8
    body = struct.pack("<IHHHHI", nxt, name_off, len(nb), 0, dof, len(data) if data_len is None else data_len)
    body += nb + b"\0" * (((len(nb) + 7) // 8) * 8 - len(nb)) + data
    return body

def b_close(fid, flags=0):
    return struct.pack("<HHI", 24, flags, 0) + fid

def b_read(fid, off, length, minc=0, channel=0, padding=0x50, ci_off=0, ci_len=0):
    return struct.pack("<HBBIQ16sIIIHH", 49, padding, 0, length, off, fid, minc, channel, 0, ci_off, ci_len) + b"\0"

def b_write(fid, off, data, length=None, data_off=None, channel=0, ci_off=0, ci_len=0, flags=0):
    ln = len(data) if length is None else length
    do = 64 + 48 if data_off is None else data_off
    return struct.pack("<HHIQ16sIIHHI", 49, do, ln, off, fid, channel, 0, ci_off, ci_len, flags) + data

def b_ioctl(ctl, fid, inp=b"", max_in=0, max_out=65536, flags=1, in_off=None, in_len=None, out_off=0, out_len=0):
    io = (64 + 56 if inp else 0) if in_off is None else in_off
    il = len(inp) if in_len is None else in_len
    return struct.pack("<HHI16sIIIIIIII", 57, 0, ctl, fid, io, il, max_in, out_off, out_len, max_out, flags, 0) + (inp or b"")

def b_qdir(fid, pattern_u16, cls=0x25, flags=0, index=0, out_len=65536, name_off=None, name_len=None):
    no = 64 + 32 if name_off is None else name_off
    nl = len(pattern_u16) if name_len is None else name_len
    return struct.pack("<HBBI16sHHI", 33, cls, flags, index, fid, no, nl, out_len) + (pattern_u16 or b"\0")

def b_qinfo(fid, itype, cls, out_len=65536, addl=0, flags=0, in_buf=b"", in_off=None, in_len=None):
    io = (64 + 40 if in_buf else 0) if in_off is None else in_off
    il = len(in_buf) if in_len is None else in_len
    return struct.pack("<HBBIHHIII16s", 41, itype, cls, out_len, io, 0, il, addl, flags, fid) + (in_buf or b"\0")

def b_sinfo(fid, itype, cls, buf, buf_off=None, buf_len=None, addl=0):
    bo = 64 + 32 if buf_off is None else buf_off
    bl = len(buf) if buf_len is None else buf_len
    return struct.pack("<HBBIHHI16s", 33, itype, cls, bl, bo, 0, addl, fid) + (buf or b"\0")

def rename_info(name_u16, replace=0, root=0, name_len=None):
    nl = len(name_u16) if name_len is None else name_len
    return struct.pack("<B7sQI", replace, b"\0" * 7, root, nl) + name_u16

def b_echo():
    return struct.pack("<HH", 4, 0)

def b_tcon(path_u16, off=None, ln=None, flags=0):
    o = 64 + 8 if off is None else off
    l = len(path_u16) if ln is None else ln
    return struct.pack("<HHHH", 9, flags, o, l) + (path_u16 or b"\0")

def b_notify(fid, flags=0, out_len=4096, filt=0xFFF):
    return struct.pack("<HHI16sII", 32, flags, out_len, fid, filt, 0)

def b_lock(fid, locks):
    body = struct.pack("<HHI16s", 48, len(locks), 0, fid)
    for off, ln, fl in locks:
        body += struct.pack("<QQII", off, ln, fl, 0)
    return body

def compound(parts):
    """parts: list of (hdr bytearray, body). Sets NextCommand with 8-byte padding."""
    out = b""
    for i, (h, b) in enumerate(parts):
        el = bytes(h) + b
        if i != len(parts) - 1:
            pad = (8 - len(el) % 8) % 8
            el += b"\0" * pad
            el = el[:20] + struct.pack("<I", len(el)) + el[24:]
        out += el
    return out


def bind(port, sess, guid, user=USERS[0], timeout=10):
    """A new connection bound to `sess` as a channel: (conn, status)."""
    c = R.Conn("127.0.0.1", port, client_guid=guid, timeout=timeout).negotiate()
    stt, _ = R.session_setup(c, user[0], user[1], session=sess, bind=True)
    return c, stt


def abort(c):
    """Drop a connection with a TCP reset (no FIN, nothing flushed)."""
    try:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    c.close()
