"""A minimal SMB2/3 client for the multichannel tests: negotiate (2.0.2 ..
3.1.1, preauth integrity, signing capabilities), NTLMv2 session setup and
session binding, signing (HMAC-SHA256 / AES-CMAC), tree connect, create,
write, read, close, echo, FSCTL_QUERY_NETWORK_INTERFACE_INFO.

Written for these tests from [MS-SMB2]; only NTLM/SPNEGO token building and
the SP800-108 KDF come from impacket.  Requests are sent one at a time (no
compounding, no async), which is all the bind tests need.
Run with /usr/bin/python3 (impacket is a Debian package).
"""

import hashlib
import hmac
import os
import socket
import struct

from Cryptodome.Cipher import AES
from Cryptodome.Hash import CMAC
from impacket import ntlm
from impacket.crypto import KDF_CounterMode
from impacket.spnego import SPNEGO_NegTokenInit, SPNEGO_NegTokenResp, TypesMech

D202, D210, D300, D302, D311 = 0x0202, 0x0210, 0x0300, 0x0302, 0x0311
SIGN_HMAC_SHA256, SIGN_AES_CMAC, SIGN_AES_GMAC = 0, 1, 2

NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT, TREE_DISCONNECT = 0, 1, 2, 3, 4
CREATE, CLOSE, FLUSH, READ, WRITE, LOCK, IOCTL, CANCEL, ECHO = 5, 6, 7, 8, 9, 10, 11, 12, 13

FLAG_RESPONSE, FLAG_SIGNED = 0x1, 0x8
FLAG_RELATED, FLAG_REPLAY = 0x4, 0x20000000   # SMB2_FLAGS_RELATED_OPERATIONS, _REPLAY_OPERATION
SESSION_FLAG_BINDING = 0x01
CAP_DFS, CAP_LEASING, CAP_LARGE_MTU, CAP_MULTI_CHANNEL = 0x1, 0x2, 0x4, 0x8
CAP_ENCRYPTION = 0x40

STATUS = {
    0x00000000: "STATUS_SUCCESS",
    0xC0000016: "STATUS_MORE_PROCESSING_REQUIRED",
    0xC000000D: "STATUS_INVALID_PARAMETER",
    0xC0000022: "STATUS_ACCESS_DENIED",
    0xC000006D: "STATUS_LOGON_FAILURE",
    0xC00000BB: "STATUS_NOT_SUPPORTED",
    0xC0000203: "STATUS_USER_SESSION_DELETED",
    0xC00000D0: "STATUS_REQUEST_NOT_ACCEPTED",
    0xC000035C: "STATUS_NETWORK_SESSION_EXPIRED",
    0xC0000140: "STATUS_INVALID_CONNECTION",
    0xC000009A: "STATUS_INSUFFICIENT_RESOURCES",
    0xC0000034: "STATUS_OBJECT_NAME_NOT_FOUND",
    0xC0000010: "STATUS_INVALID_DEVICE_REQUEST",
    0xC0000128: "STATUS_FILE_CLOSED",
    0xC00000C9: "STATUS_NETWORK_NAME_DELETED",
    0xC000020C: "STATUS_CONNECTION_DISCONNECTED",
    0xC000022A: "STATUS_DUPLICATE_OBJECTID",
    0xC0000017: "STATUS_NO_MEMORY",
    0xC00000E5: "STATUS_INTERNAL_ERROR",
    0xC000A100: "STATUS_INVALID_SIGNATURE",
}

FSCTL_QUERY_NETWORK_INTERFACE_INFO = 0x001401FC


def status_name(st):
    return STATUS.get(st, "0x%08x" % st)


class SMBError(Exception):
    def __init__(self, status, what=""):
        self.status = status
        Exception.__init__(self, "%s%s" % ((what + ": ") if what else "", status_name(status)))


def utf16(s):
    return s.encode("utf-16-le")


class Response:
    def __init__(self, raw):
        self.raw = raw
        (self.credit_charge, self.status, self.command, self.credits, self.flags, self.next,
         self.mid, self.reserved, self.tree_id, self.session_id) = struct.unpack_from(
            "<HIHHIIQIIQ", raw, 6)
        self.signature = raw[48:64]
        self.body = raw[64:]


class Conn:
    """One TCP connection (channel).  sign_algs: what a 3.1.1 negotiate offers."""

    def __init__(self, host, port, dialects=(D311,), sign_algs=(SIGN_AES_CMAC,),
                 client_guid=None, timeout=15, require_signing=False):
        self.host, self.port = host, port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.mid = 0
        self.client_guid = client_guid or os.urandom(16)
        self.dialects = tuple(dialects)
        self.offer_sign_algs = tuple(sign_algs)
        self.require_signing = require_signing
        self.preauth = b"\0" * 64
        self.dialect = None
        self.sign_alg = None
        self.caps = 0
        self.max_read = self.max_write = 65536

    # ---------------------------------------------------------------- framing
    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _send(self, data):
        self.sock.sendall(struct.pack(">I", len(data)) + data)

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            k = self.sock.recv(n - len(buf))
            if not k:
                raise ConnectionError("connection closed by server")
            buf += k
        return buf

    def _recv(self):
        while True:
            n = struct.unpack(">I", self._recv_exact(4))[0] & 0xFFFFFF
            raw = self._recv_exact(n)
            r = Response(raw)
            if r.status == 0x00000103 and (r.flags & 0x2):  # STATUS_PENDING interim
                continue
            return r

    def header(self, command, session_id=0, tree_id=0, credit_charge=1, flags=0,
               channel_sequence=0, replay=False, mid=None):
        """A request header.  3.x: ChannelSequence sits where a response's
        Status is ([MS-SMB2] 2.2.1.2); replay sets SMB2_FLAGS_REPLAY_OPERATION;
        mid reuses a MessageId (a replay on another channel)."""
        if mid is None:
            mid = self.mid
            self.mid += max(1, credit_charge)
        if replay:
            flags |= FLAG_REPLAY
        return bytearray(struct.pack("<4sHHHHHHIIQIIQ16s", b"\xfeSMB", 64, credit_charge,
                                     channel_sequence & 0xFFFF, 0, command, 64, flags, 0, mid, 0,
                                     tree_id, session_id, b"\0" * 16))

    @staticmethod
    def sign(msg, key, alg, dialect):
        msg[16:20] = struct.pack("<I", struct.unpack_from("<I", msg, 16)[0] | FLAG_SIGNED)
        msg[48:64] = b"\0" * 16
        if dialect < D300 or alg == SIGN_HMAC_SHA256:
            sig = hmac.new(key, bytes(msg), hashlib.sha256).digest()[:16]
        elif alg == SIGN_AES_CMAC:
            c = CMAC.new(key, ciphermod=AES)
            c.update(bytes(msg))
            sig = c.digest()
        else:  # AES-128-GMAC: nonce = MessageId, then 4 bytes (bit 0: response, bit 1: cancel)
            mid = struct.unpack_from("<Q", msg, 24)[0]
            fl = struct.unpack_from("<I", msg, 16)[0]
            cmd = struct.unpack_from("<H", msg, 12)[0]
            role = (1 if fl & FLAG_RESPONSE else 0) | (2 if cmd == CANCEL else 0)
            g = AES.new(key, AES.MODE_GCM, nonce=struct.pack("<QI", mid, role))
            g.update(bytes(msg))
            sig = g.digest()
        msg[48:64] = sig

    def call(self, msg, sign_key=None):
        """Send msg (bytearray), signed with sign_key if given; return the Response."""
        if sign_key is not None:
            self.sign(msg, sign_key, self.sign_alg, self.dialect)
        self._send(bytes(msg))
        return self._recv()

    # -------------------------------------------------------------- negotiate
    def negotiate(self):
        ctx = b""
        n_ctx = 0
        if D311 in self.dialects:
            salt = os.urandom(32)
            ctxs = [(1, struct.pack("<HHH", 1, 32, 1) + salt),         # SHA-512
                    (2, struct.pack("<HH", 1, 0x0001)),                  # AES-128-CCM
                    (8, struct.pack("<H", len(self.offer_sign_algs)) +
                     b"".join(struct.pack("<H", a) for a in self.offer_sign_algs))]
            for i, (t, data) in enumerate(ctxs):
                c = struct.pack("<HHI", t, len(data), 0) + data
                if i != len(ctxs) - 1:
                    c += b"\0" * ((8 - len(c) % 8) % 8)
                ctx += c
            n_ctx = len(ctxs)
        hdr = self.header(NEGOTIATE)
        sec_mode = 0x2 if self.require_signing else 0x1
        caps = CAP_DFS | CAP_LARGE_MTU | CAP_MULTI_CHANNEL | CAP_ENCRYPTION
        dl = b"".join(struct.pack("<H", d) for d in self.dialects)
        fixed_len = 36 + len(dl)
        pad = (8 - (64 + fixed_len) % 8) % 8 if n_ctx else 0
        ctx_off = 64 + fixed_len + pad if n_ctx else 0
        body = struct.pack("<HHHHI16sIHH", 36, len(self.dialects), sec_mode, 0, caps,
                           self.client_guid, ctx_off, n_ctx, 0) + dl + b"\0" * pad + ctx
        msg = hdr + body
        r = self.call(msg)
        if r.status:
            raise SMBError(r.status, "negotiate")
        (_, self.server_sec_mode, self.dialect, n_rctx) = struct.unpack_from("<HHHH", r.body, 0)
        self.server_guid = r.body[8:24]
        (self.caps, self.max_transact, self.max_read, self.max_write) = struct.unpack_from(
            "<IIII", r.body, 24)
        self.sign_alg = SIGN_HMAC_SHA256 if self.dialect < D300 else SIGN_AES_CMAC
        if self.dialect == D311:
            self.preauth = hashlib.sha512(self.preauth + bytes(msg)).digest()
            self.preauth = hashlib.sha512(self.preauth + r.raw).digest()
            off = struct.unpack_from("<I", r.body, 60)[0]
            p = off
            for _ in range(n_rctx):
                t, ln = struct.unpack_from("<HH", r.raw, p)
                data = r.raw[p + 8:p + 8 + ln]
                if t == 8 and ln >= 4:
                    self.sign_alg = struct.unpack_from("<H", data, 2)[0]
                p += 8 + ln
                p += (8 - p % 8) % 8
        return self


class Session:
    """A session, possibly with several channels (one per Conn)."""

    def __init__(self):
        self.id = 0
        self.session_key = None
        self.signing_key = None   # channel 0 == Session.SigningKey
        self.keys = {}            # Conn -> channel signing key
        self.dialect = None
        self.sign_alg = None      # algorithm of the connection that set the session up
        self.tree_id = 0


def _kdf_signing(session_key, dialect, preauth):
    if dialect == D311:
        return KDF_CounterMode(session_key, b"SMBSigningKey\x00", preauth, 128)
    if dialect >= D300:
        return KDF_CounterMode(session_key, b"SMB2AESCMAC\x00", b"SmbSign\x00", 128)
    return session_key[:16]


def session_setup(conn, user, password, domain="", session=None, bind=False,
                  sign_bind=True, corrupt_sig=False, sec_blob=None, stop_after_first=False):
    """Authenticate on conn.  Returns (status, Session).  With bind=True the
    request carries SMB2_SESSION_FLAG_BINDING and session.id, and (3.x) is
    signed with session.signing_key and the session's signing algorithm
    (what Windows and Samba clients do) unless sign_bind is False; on success the
    channel key is stored in session.keys[conn].
    sec_blob: replace the first leg's security buffer (garbage tests).
    stop_after_first: return after the first leg (the exchange is abandoned)."""
    s = session if session is not None else Session()
    preauth = conn.preauth
    sid = s.id if bind else 0
    type1 = ntlm.getNTLMSSPType1("", domain, False)
    tok = SPNEGO_NegTokenInit()
    tok["MechTypes"] = [TypesMech["NTLMSSP - Microsoft NTLM Security Support Provider"]]
    tok["MechToken"] = type1.getData()
    blob = tok.getData() if sec_blob is None else sec_blob
    flags = SESSION_FLAG_BINDING if bind else 0

    def leg(blob, sid):
        nonlocal preauth
        hdr = conn.header(SESSION_SETUP, session_id=sid, credit_charge=1)
        body = struct.pack("<HBBIIHHQ", 25, flags, 0x1, 0, 0, 64 + 24, len(blob), 0) + blob
        msg = hdr + body
        key = None
        if bind and sign_bind and conn.dialect >= D300 and s.signing_key:
            key = s.signing_key
        if key is not None:
            Conn.sign(msg, key, s.sign_alg if s.sign_alg is not None else conn.sign_alg, conn.dialect)
            if corrupt_sig:
                msg[60] ^= 0xFF
        conn._send(bytes(msg))
        if conn.dialect == D311:
            preauth = hashlib.sha512(preauth + bytes(msg)).digest()
        r = conn._recv()
        return r

    s.sig_errors = []
    r = leg(blob, sid)
    # Every answer to a bind but the final success is signed with
    # Session.SigningKey and the session's algorithm (Samba's client refuses
    # an unsigned one: smbtorture smb2.session.bind*).
    if bind and sign_bind and s.signing_key and r.status not in (0, 0xC0000203) and conn.dialect >= D300 and not (
            r.flags & FLAG_SIGNED and verify_response(conn, s.signing_key, r, s.sign_alg)):
        s.sig_errors.append("%s response to bind leg 1 is not signed with Session.SigningKey"
                            % status_name(r.status))
    if r.status != 0xC0000016:
        return r.status, s
    if conn.dialect == D311:
        preauth = hashlib.sha512(preauth + r.raw).digest()
    if stop_after_first:
        s.pending_id = r.session_id
        return r.status, s
    sid = r.session_id
    off, ln = struct.unpack_from("<HH", r.body, 4)
    resp = SPNEGO_NegTokenResp(r.raw[off:off + ln])
    type3, key = ntlm.getNTLMSSPType3(type1, resp["ResponseToken"], user, password, domain,
                                      "", "")
    tok2 = SPNEGO_NegTokenResp()
    tok2["ResponseToken"] = type3.getData()
    r = leg(tok2.getData(), sid)
    if r.status != 0:
        if bind and sign_bind and s.signing_key and conn.dialect >= D300 and r.status != 0xC0000203 and not (
                r.flags & FLAG_SIGNED and verify_response(conn, s.signing_key, r, s.sign_alg)):
            s.sig_errors.append("%s response to bind leg 2 is not signed with Session.SigningKey"
                                % status_name(r.status))
        return r.status, s
    chan_key = _kdf_signing(key, conn.dialect, preauth)
    if bind and conn.dialect >= D300 and not (r.flags & FLAG_SIGNED and verify_response(conn, chan_key, r)):
        s.sig_errors.append("final bind response is not signed with the channel's signing key")
    if not bind:
        s.id = r.session_id
        s.session_key = key
        s.signing_key = chan_key
        s.dialect = conn.dialect
        s.sign_alg = conn.sign_alg
    s.keys[conn] = chan_key
    s.last_final = r
    return 0, s


def verify_response(conn, key, r, alg=None):
    """True if the response's signature verifies with key (and alg, default
    the connection's)."""
    m = bytearray(r.raw)
    sig = bytes(m[48:64])
    Conn.sign(m, key, conn.sign_alg if alg is None else alg, conn.dialect)
    return bytes(m[48:64]) == sig


# ------------------------------------------------------------------ commands
def _key(conn, s):
    return s.keys.get(conn) if s is not None else None


def echo(conn, s=None):
    hdr = conn.header(ECHO, session_id=s.id if s else 0)
    return conn.call(hdr + struct.pack("<HH", 4, 0), _key(conn, s)).status


def tree_connect(conn, s, share):
    path = utf16("\\\\%s\\%s" % (conn.host, share))
    hdr = conn.header(TREE_CONNECT, session_id=s.id)
    r = conn.call(hdr + struct.pack("<HHHH", 9, 0, 64 + 8, len(path)) + path, _key(conn, s))
    if r.status:
        raise SMBError(r.status, "tree connect")
    s.tree_id = r.tree_id
    return r.tree_id


def create_contexts(items):
    """CREATE contexts ([MS-SMB2] 2.2.13.2) from (name bytes, data bytes)
    pairs, 8-aligned and chained: e.g. [(b"DH2Q", dh2q), (b"RqLs", rqls)]."""
    out = b""
    for i, (name, data) in enumerate(items):
        name_off, data_off = 16, (16 + len(name) + 7) & ~7
        ent = struct.pack("<IHHHHI", 0, name_off, len(name), 0, data_off if data else 0, len(data))
        ent += name + b"\0" * (data_off - 16 - len(name)) + data
        if i + 1 < len(items):
            ent += b"\0" * (-len(ent) % 8)
            ent = struct.pack("<I", len(ent)) + ent[4:]
        out += ent
    return out


def parse_create_contexts(body):
    """The create contexts of a CREATE response body: {name: data}."""
    off, length = struct.unpack_from("<II", body, 80)
    out = {}
    pos = off - 64
    while length and 0 <= pos < len(body):
        nxt, noff, nlen, _, doff, dlen = struct.unpack_from("<IHHHHI", body, pos)
        out[bytes(body[pos + noff:pos + noff + nlen])] = bytes(body[pos + doff:pos + doff + dlen])
        if not nxt:
            break
        pos += nxt
    return out


def create_request(conn, s, name, access=0x0012019F, disposition=5, options=0x40, share=7,
                   oplock=0, contexts=(), **hdr_kw):
    """A CREATE request (bytearray, unsigned).  hdr_kw: header() options
    (channel_sequence, replay, mid)."""
    n = utf16(name) or b"\0"
    ctx = create_contexts(list(contexts))
    ctx_off = (64 + 56 + len(n) + 7) & ~7 if ctx else 0
    hdr = conn.header(CREATE, session_id=s.id, tree_id=s.tree_id, **hdr_kw)
    body = struct.pack("<HBBIQQIIIIIHHII", 57, 0, oplock, 2, 0, 0, access, 0x80, share,
                       disposition, options, 64 + 56, len(utf16(name)), ctx_off, len(ctx)) + n
    if ctx:
        body += b"\0" * (ctx_off - 64 - len(body)) + ctx
    return hdr + body


def create_full(conn, s, name, **kw):
    """CREATE; returns the Response (status unchecked): FileId is
    r.body[64:80], oplock level r.body[2], contexts parse_create_contexts(r.body)."""
    return conn.call(create_request(conn, s, name, **kw), _key(conn, s))


def create(conn, s, name, access=0x0012019F, disposition=5, options=0x40, share=7):
    """Returns FileId (16 bytes).  Default: read/write, OVERWRITE_IF, non-directory."""
    r = create_full(conn, s, name, access=access, disposition=disposition, options=options, share=share)
    if r.status:
        raise SMBError(r.status, "create %s" % name)
    return r.body[64:80]


def close(conn, s, fid):
    hdr = conn.header(CLOSE, session_id=s.id, tree_id=s.tree_id)
    r = conn.call(hdr + struct.pack("<HHI", 24, 0, 0) + fid, _key(conn, s))
    if r.status:
        raise SMBError(r.status, "close")


def write(conn, s, fid, offset, data):
    charge = max(1, (len(data) + 65535) // 65536)
    hdr = conn.header(WRITE, session_id=s.id, tree_id=s.tree_id, credit_charge=charge)
    body = struct.pack("<HHIQ16sIIHHI", 49, 64 + 48, len(data), offset, fid, 0, 0, 0, 0, 0) + data
    r = conn.call(hdr + body, _key(conn, s))
    if r.status:
        raise SMBError(r.status, "write")
    return struct.unpack_from("<I", r.body, 4)[0]


def read(conn, s, fid, offset, length):
    charge = max(1, (length + 65535) // 65536)
    hdr = conn.header(READ, session_id=s.id, tree_id=s.tree_id, credit_charge=charge)
    body = struct.pack("<HBBIQ16sIIIHH", 49, 0x50, 0, length, offset, fid, 0, 0, 0, 0, 0) + b"\0"
    r = conn.call(hdr + body, _key(conn, s))
    if r.status:
        raise SMBError(r.status, "read")
    off = r.body[2]
    ln = struct.unpack_from("<I", r.body, 4)[0]
    return r.raw[off:off + ln]


def logoff(conn, s):
    hdr = conn.header(LOGOFF, session_id=s.id)
    return conn.call(hdr + struct.pack("<HH", 4, 0), _key(conn, s)).status


def query_interfaces(conn, s):
    """FSCTL_QUERY_NETWORK_INTERFACE_INFO -> list of dicts
    {ifindex, capability, speed, family, addr}."""
    hdr = conn.header(IOCTL, session_id=s.id, tree_id=s.tree_id)
    body = struct.pack("<HHI16sIIIIIIII", 57, 0, FSCTL_QUERY_NETWORK_INTERFACE_INFO,
                       b"\xff" * 16, 0, 0, 0, 0, 0, 65536, 1, 0)
    r = conn.call(hdr + body, _key(conn, s))
    if r.status:
        raise SMBError(r.status, "FSCTL_QUERY_NETWORK_INTERFACE_INFO")
    out_off, out_len = struct.unpack_from("<II", r.body, 32)
    data = r.raw[out_off:out_off + out_len]
    res = []
    p = 0
    while p + 152 <= len(data):
        nxt, ifindex, cap, _, speed = struct.unpack_from("<IIIIQ", data, p)
        fam = struct.unpack_from("<H", data, p + 24)[0]
        if fam == 0x0002:
            addr = socket.inet_ntop(socket.AF_INET, data[p + 28:p + 32])
        elif fam == 0x0017:
            addr = socket.inet_ntop(socket.AF_INET6, data[p + 32:p + 48])
        else:
            addr = None
        res.append({"ifindex": ifindex, "capability": cap, "speed": speed, "family": fam,
                    "addr": addr})
        if not nxt:
            break
        p += nxt
    return res


def connect_session(host, port, user, password, share="share", **kw):
    """New connection + session + tree connect.  Returns (conn, session)."""
    c = Conn(host, port, **kw).negotiate()
    st, s = session_setup(c, user, password)
    if st:
        c.close()
        raise SMBError(st, "session setup")
    tree_connect(c, s, share)
    return c, s
