"""The raw SMB2/3 client of the Python tests, written from [MS-SMB2]; only
the NTLM/SPNEGO tokens and the SP800-108 KDF come from impacket.  Two ways
to drive it, on the same PDU builders and the same MAC:

- Conn, session_setup() and the request functions (create, write, read,
  close, echo, query_interfaces, ...): one request at a time, any dialect
  2.0.2 .. 3.1.1, session binding with per-channel keys, ChannelSequence,
  the REPLAY flag and create contexts.  The multichannel and regression
  tests use it.
- Client: one connection + session + tree over 3.1.1 whose requests are
  built in place from memoryviews, compounded and pipelined, signed
  (HMAC-SHA256, AES-CMAC, AES-GMAC) or sealed (AES-128/256-CCM/GCM), and
  whose every response has its signature or AEAD tag verified.  The data
  path tests use it (impacket caps requests at 1 MiB, seals only with
  AES-128-CCM and checks neither response signatures nor the tag).

Run with /usr/bin/python3 (impacket is a Debian package).
"""

import hashlib
import hmac
import os
import socket
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import cmac as _cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from Cryptodome.Cipher import AES
from impacket import ntlm
from impacket.crypto import KDF_CounterMode
from impacket.spnego import SPNEGO_NegTokenInit, SPNEGO_NegTokenResp, TypesMech

KiB, MiB = 1024, 1024 * 1024
D202, D210, D300, D302, D311 = 0x0202, 0x0210, 0x0300, 0x0302, 0x0311
SIGN_HMAC_SHA256, SIGN_AES_CMAC, SIGN_AES_GMAC = 0, 1, 2
AES_128_CCM, AES_128_GCM, AES_256_CCM, AES_256_GCM = 1, 2, 3, 4

NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT, TREE_DISCONNECT = 0, 1, 2, 3, 4
CREATE, CLOSE, FLUSH, READ, WRITE, LOCK, IOCTL, CANCEL, ECHO = 5, 6, 7, 8, 9, 10, 11, 12, 13

FLAG_RESPONSE, FLAG_ASYNC, FLAG_SIGNED = 0x1, 0x2, 0x8
FLAG_RELATED, FLAG_REPLAY = 0x4, 0x20000000   # SMB2_FLAGS_RELATED_OPERATIONS, _REPLAY_OPERATION
SESSION_FLAG_BINDING = 0x01
CAP_DFS, CAP_LEASING, CAP_LARGE_MTU, CAP_MULTI_CHANNEL = 0x1, 0x2, 0x4, 0x8
CAP_ENCRYPTION = 0x40

STATUS_SUCCESS, STATUS_PENDING = 0, 0x103
STATUS_MORE_PROCESSING_REQUIRED = 0xC0000016
STATUS_END_OF_FILE = 0xC0000011
STATUS_INVALID_PARAMETER = 0xC000000D
STATUS = {
    0x00000000: "STATUS_SUCCESS",
    0xC0000016: "STATUS_MORE_PROCESSING_REQUIRED",
    0xC0000011: "STATUS_END_OF_FILE",
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
HDR = struct.Struct("<4sHHIHHIIQIIQ16s")   # a response header
TF_SIZE = 52                               # the transform header (2.2.41)


def status_name(st):
    return STATUS.get(st, "0x%08x" % st)


class SMBError(Exception):
    def __init__(self, status, what=""):
        self.status = status
        Exception.__init__(self, "%s%s" % ((what + ": ") if what else "", status_name(status)))


def utf16(s):
    return s.encode("utf-16-le")


# ------------------------------------------------- PDU builders, MAC, keys
def header(command, mid, session_id=0, tree_id=0, credit_charge=1, flags=0, channel_sequence=0,
           credits=64):
    """A request header (2.2.1.2).  3.x: ChannelSequence sits where a
    response's Status is."""
    return bytearray(struct.pack("<4sHHHHHHIIQIIQ16s", b"\xfeSMB", 64, credit_charge,
                                 channel_sequence & 0xFFFF, 0, command, credits, flags, 0, mid, 0,
                                 tree_id, session_id, b"\0" * 16))


def credit_charge(length):
    """CreditCharge of a READ or WRITE of length bytes (3.1.5.2)."""
    return max(1, (length + 65535) // 65536)


def mac(parts, key, alg, mid, flags, command):
    """The 16-byte signature over parts (the signature field already zero):
    HMAC-SHA256 (2.x, and 3.x when negotiated), AES-CMAC, or AES-GMAC with
    the nonce MessageId + (bit 0: response, bit 1: CANCEL)."""
    if alg == SIGN_AES_CMAC:
        c = _cmac.CMAC(algorithms.AES(key))
        for p in parts:
            # update() takes bytes only: copy in slices that the allocator
            # can reuse rather than one fresh 8 MiB buffer
            p = memoryview(p)
            for i in range(0, len(p), 256 * KiB):
                c.update(bytes(p[i:i + 256 * KiB]))
        return c.finalize()
    if alg == SIGN_AES_GMAC:
        role = (1 if flags & FLAG_RESPONSE else 0) | (2 if command == CANCEL else 0)
        g = AES.new(key, AES.MODE_GCM, nonce=struct.pack("<QI", mid, role))
        for p in parts:
            g.update(p)
        return g.digest()
    d = hmac.new(key, digestmod=hashlib.sha256)
    for p in parts:
        d.update(p)
    return d.digest()[:16]


def negotiate_body(dialects, sec_mode, caps, client_guid, sign_algs, ciphers):
    """A NEGOTIATE body (2.2.3); with 3.1.1 among the dialects, the preauth
    (SHA-512), encryption (ciphers, if any) and signing contexts."""
    ctxs = []
    if D311 in dialects:
        ctxs.append((1, struct.pack("<HHH", 1, 32, 1) + os.urandom(32)))
        if ciphers:
            ctxs.append((2, struct.pack("<H", len(ciphers)) + b"".join(struct.pack("<H", c) for c in ciphers)))
        ctxs.append((8, struct.pack("<H", len(sign_algs)) + b"".join(struct.pack("<H", a) for a in sign_algs)))
    ctx = b""
    for i, (t, data) in enumerate(ctxs):
        c = struct.pack("<HHI", t, len(data), 0) + data
        if i != len(ctxs) - 1:
            c += b"\0" * ((8 - len(c) % 8) % 8)
        ctx += c
    dl = b"".join(struct.pack("<H", d) for d in dialects)
    fixed_len = 36 + len(dl)
    pad = (8 - (64 + fixed_len) % 8) % 8 if ctxs else 0
    ctx_off = 64 + fixed_len + pad if ctxs else 0
    return struct.pack("<HHHHI16sIHH", 36, len(dialects), sec_mode, 0, caps, client_guid, ctx_off,
                       len(ctxs), 0) + dl + b"\0" * pad + ctx


class Negotiated:
    """What a NEGOTIATE response (the whole message) says: dialect, modes,
    sizes, and from the 3.1.1 contexts the cipher and signing algorithm
    (0 / None without them)."""

    def __init__(self, raw):
        body = raw[64:]
        (_, self.server_sec_mode, self.dialect, n_ctx) = struct.unpack_from("<HHHH", body, 0)
        self.server_guid = bytes(body[8:24])
        (self.caps, self.max_transact, self.max_read, self.max_write) = struct.unpack_from(
            "<IIII", body, 24)
        self.cipher, self.sign_alg = 0, None
        p = struct.unpack_from("<I", body, 60)[0] if self.dialect == D311 else 0
        for _ in range(n_ctx if p else 0):
            t, ln = struct.unpack_from("<HH", raw, p)
            data = raw[p + 8:p + 8 + ln]
            if t == 2 and ln >= 4:
                self.cipher = struct.unpack_from("<H", data, 2)[0]
            elif t == 8 and ln >= 4:
                self.sign_alg = struct.unpack_from("<H", data, 2)[0]
            p += 8 + ln
            p += (8 - p % 8) % 8


def session_setup_body(blob, flags=0, sec_mode=0x1):
    return struct.pack("<HBBIIHHQ", 25, flags, sec_mode, 0, 0, 64 + 24, len(blob), 0) + blob


def ntlm_negotiate(domain=""):
    """(NTLM type 1, the SPNEGO NegTokenInit blob carrying it)."""
    type1 = ntlm.getNTLMSSPType1("", domain, False)
    tok = SPNEGO_NegTokenInit()
    tok["MechTypes"] = [TypesMech["NTLMSSP - Microsoft NTLM Security Support Provider"]]
    tok["MechToken"] = type1.getData()
    return type1, tok.getData()


def ntlm_authenticate(type1, response_raw, user, password, domain=""):
    """(the SPNEGO NegTokenResp blob with NTLM type 3, the session key) for
    the SESSION_SETUP response (the whole message) carrying the challenge."""
    off, ln = struct.unpack_from("<HH", response_raw, 64 + 4)
    resp = SPNEGO_NegTokenResp(bytes(response_raw[off:off + ln]))
    type3, key = ntlm.getNTLMSSPType3(type1, resp["ResponseToken"], user, password, domain, "", "")
    tok = SPNEGO_NegTokenResp()
    tok["ResponseToken"] = type3.getData()
    return tok.getData(), key


def tree_connect_body(host, share):
    path = utf16("\\\\%s\\%s" % (host, share))
    return struct.pack("<HHHH", 9, 0, 64 + 8, len(path)) + path


def create_body(name, access=0x0012019F, disposition=5, options=0x40, share=7, oplock=0, contexts=()):
    """A CREATE body (2.2.13): name, then the create contexts."""
    n = utf16(name) or b"\0"
    ctx = create_contexts(list(contexts))
    ctx_off = (64 + 56 + len(n) + 7) & ~7 if ctx else 0
    body = struct.pack("<HBBIQQIIIIIHHII", 57, 0, oplock, 2, 0, 0, access, 0x80, share,
                       disposition, options, 64 + 56, len(utf16(name)), ctx_off, len(ctx)) + n
    if ctx:
        body += b"\0" * (ctx_off - 64 - len(body)) + ctx
    return body


def close_body(fid, flags=0):
    """flags 1: SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB."""
    return struct.pack("<HHI", 24, flags, 0) + fid


def read_body(fid, offset, length, min_count=0):
    return struct.pack("<HBBIQ16sIIIHH", 49, 0x50, 0, length, offset, fid, min_count, 0, 0, 0, 0) + b"\0"


def write_body(fid, offset, length, gap=0):
    """A WRITE body without its data: DataOffset 0x70 + gap (gap bytes of
    0xee between the fixed part and the data)."""
    return struct.pack("<HHIQ16sIIHHI", 49, 64 + 48 + gap, length, offset, fid, 0, 0, 0, 0, 0) + b"\xee" * gap




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
        return header(command, mid, session_id, tree_id, credit_charge, flags, channel_sequence)

    @staticmethod
    def sign(msg, key, alg, dialect):
        msg[16:20] = struct.pack("<I", struct.unpack_from("<I", msg, 16)[0] | FLAG_SIGNED)
        msg[48:64] = b"\0" * 16
        if dialect < D300:
            alg = SIGN_HMAC_SHA256
        mid = struct.unpack_from("<Q", msg, 24)[0]
        fl = struct.unpack_from("<I", msg, 16)[0]
        cmd = struct.unpack_from("<H", msg, 12)[0]
        msg[48:64] = mac([bytes(msg)], key, alg, mid, fl, cmd)

    def call(self, msg, sign_key=None):
        """Send msg (bytearray), signed with sign_key if given; return the Response."""
        if sign_key is not None:
            self.sign(msg, sign_key, self.sign_alg, self.dialect)
        self._send(bytes(msg))
        return self._recv()

    # -------------------------------------------------------------- negotiate
    def negotiate(self):
        hdr = self.header(NEGOTIATE)
        sec_mode = 0x2 if self.require_signing else 0x1
        caps = CAP_DFS | CAP_LARGE_MTU | CAP_MULTI_CHANNEL | CAP_ENCRYPTION
        msg = hdr + negotiate_body(self.dialects, sec_mode, caps, self.client_guid,
                                   self.offer_sign_algs, (AES_128_CCM,))
        r = self.call(msg)
        if r.status:
            raise SMBError(r.status, "negotiate")
        n = Negotiated(r.raw)
        self.server_sec_mode, self.dialect, self.server_guid = n.server_sec_mode, n.dialect, n.server_guid
        self.caps, self.max_transact, self.max_read, self.max_write = (n.caps, n.max_transact,
                                                                        n.max_read, n.max_write)
        self.sign_alg = SIGN_HMAC_SHA256 if self.dialect < D300 else SIGN_AES_CMAC
        if n.sign_alg is not None:
            self.sign_alg = n.sign_alg
        if self.dialect == D311:
            self.preauth = hashlib.sha512(self.preauth + bytes(msg)).digest()
            self.preauth = hashlib.sha512(self.preauth + r.raw).digest()
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
    type1, blob = ntlm_negotiate(domain)
    if sec_blob is not None:
        blob = sec_blob
    flags = SESSION_FLAG_BINDING if bind else 0

    def leg(blob, sid):
        nonlocal preauth
        hdr = conn.header(SESSION_SETUP, session_id=sid, credit_charge=1)
        msg = hdr + session_setup_body(blob, flags)
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
    blob, key = ntlm_authenticate(type1, r.raw, user, password, domain)
    r = leg(blob, sid)
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
    hdr = conn.header(TREE_CONNECT, session_id=s.id)
    r = conn.call(hdr + tree_connect_body(conn.host, share), _key(conn, s))
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
    hdr = conn.header(CREATE, session_id=s.id, tree_id=s.tree_id, **hdr_kw)
    return hdr + create_body(name, access, disposition, options, share, oplock, contexts)


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
    r = conn.call(hdr + close_body(fid), _key(conn, s))
    if r.status:
        raise SMBError(r.status, "close")


def write(conn, s, fid, offset, data):
    hdr = conn.header(WRITE, session_id=s.id, tree_id=s.tree_id, credit_charge=credit_charge(len(data)))
    r = conn.call(hdr + write_body(fid, offset, len(data)) + data, _key(conn, s))
    if r.status:
        raise SMBError(r.status, "write")
    return struct.unpack_from("<I", r.body, 4)[0]


def read(conn, s, fid, offset, length):
    hdr = conn.header(READ, session_id=s.id, tree_id=s.tree_id, credit_charge=credit_charge(length))
    r = conn.call(hdr + read_body(fid, offset, length), _key(conn, s))
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


# ------------------------------------------- the pipelined, verified client
CREDIT_ASK = 256


class Mode:
    """How a Client protects its session after SESSION_SETUP."""

    def __init__(self, name, sign=None, require_signing=False, cipher=None):
        self.name, self.sign, self.require_signing, self.cipher = name, sign, require_signing, cipher

    def __repr__(self):
        return self.name


MODES = {m.name: m for m in (
    Mode("plain"),
    # signing required by the client (Session.SigningRequired on the server)
    Mode("sign-cmac", sign=SIGN_AES_CMAC, require_signing=True),
    # signing not required, but every request signed (the SMB2_FLAGS_SIGNED test)
    Mode("sign-gmac", sign=SIGN_AES_GMAC),
    Mode("seal-gcm128", cipher=AES_128_GCM),
    Mode("seal-ccm128", cipher=AES_128_CCM),
    Mode("seal-gcm256", cipher=AES_256_GCM),
)}


def overhead(mode, command):
    """Bytes of a Client message around its data: header + body (+ transform)."""
    return 64 + (48 if command == WRITE else 16) + (TF_SIZE if mode.cipher else 0)


class Resp:
    """A response of a Client: a view of its receive buffer (valid until
    the next receive) and the header fields."""
    __slots__ = ("mv", "status", "command", "credits", "flags", "next", "mid", "sealed")

    def __init__(self, mv, sealed):
        self.mv = mv
        (_, _, _, self.status, self.command, self.credits, self.flags, self.next, self.mid,
         _, _, _, _) = HDR.unpack_from(mv, 0)
        self.sealed = sealed


class Client:
    """One connection + session + tree connect, SMB 3.1.1, NTLMv2.

    Requests are built and MACed / sealed in place from memoryviews; responses
    are received into buffers of this object and handed out as memoryviews
    that stay valid until the next receive (compare them at once).  Every
    response after SESSION_SETUP is checked: sealed modes require a transform
    whose tag verifies; signed modes require a valid signature.  name: how
    the client shows in messages."""

    BUF = 16 * MiB + 4096

    def __init__(self, host, port, mode, user, share="share", timeout=120, name=None):
        if isinstance(mode, str):
            mode = MODES[mode]
        self.host, self.mode, self.share = host, mode, share
        self.name = name if name is not None else port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rbuf = bytearray(self.BUF)
        self.pbuf = bytearray(self.BUF + 64)
        self.ebuf = bytearray(self.BUF + 64)
        self.mid = 0
        self.credits = 1
        self.sid = 0
        self.tid = 0
        self.signing = self.sealing = False
        self.nonce_ctr = 0
        self.preauth = b"\0" * 64
        self.unsigned_plain_responses = 0
        try:
            self._negotiate()
            self._session_setup(*user)
            self.tid = self._tree_connect(share)
        except Exception:
            self.close()
            raise

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __repr__(self):
        return "%s@%s" % (self.mode.name, self.name)

    # ---------------------------------------------------------------- wire
    def _hdr(self, command, charge=1, body=b""):
        mid = self.mid
        self.mid += max(1, charge)
        self.credits -= max(1, charge)
        return header(command, mid, self.sid, self.tid, charge, credits=CREDIT_ASK) + body, mid

    def _seal(self, parts, total):
        """Transform header + ciphertext (a view of self.ebuf)."""
        cipher = self.cipher
        self.nonce_ctr += 1
        if cipher in (AES_128_GCM, AES_256_GCM):
            nonce = struct.pack("<Q", self.nonce_ctr) + os.urandom(4)
        else:
            nonce = struct.pack("<Q", self.nonce_ctr) + os.urandom(3)
        tf = bytearray(b"\xfdSMB" + b"\0" * 16 + nonce.ljust(16, b"\0")
                       + struct.pack("<IHHQ", total, 0, 1, self.sid))
        aad = bytes(tf[20:])
        out = memoryview(self.ebuf)
        pos = 0
        if cipher in (AES_128_GCM, AES_256_GCM):
            enc = Cipher(algorithms.AES(self.enc_key), modes.GCM(nonce)).encryptor()
            enc.authenticate_additional_data(aad)
            for p in parts:
                if len(p):
                    pos += enc.update_into(p, out[pos:pos + len(p) + 15])
            enc.finalize()
            tag = enc.tag
        else:
            c = AES.new(self.enc_key, AES.MODE_CCM, nonce=nonce, mac_len=16, msg_len=total,
                        assoc_len=32)
            c.update(aad)
            for p in parts:
                if len(p):
                    c.encrypt(p, output=out[pos:pos + len(p)])
                    pos += len(p)
            tag = c.digest()
        assert pos == total
        tf[4:20] = tag
        return bytes(tf), out[:total]

    def send_chain(self, elems):
        """elems: [(header+body bytearray, data or None)].  Compounds them
        (8-byte aligned), signs / seals, sends.  Returns the MessageIds."""
        all_parts = []
        mids = []
        for i, (hb, data) in enumerate(elems):
            last = i == len(elems) - 1
            length = len(hb) + (len(data) if data is not None else 0)
            pad = 0 if last else (-length) % 8
            if not last:
                struct.pack_into("<I", hb, 20, length + pad)
            parts = [hb]
            if data is not None and len(data):
                parts.append(memoryview(data))
            if pad:
                parts.append(b"\0" * pad)
            mid = struct.unpack_from("<Q", hb, 24)[0]
            mids.append(mid)
            if self.signing:
                struct.pack_into("<I", hb, 16, struct.unpack_from("<I", hb, 16)[0] | FLAG_SIGNED)
                hb[48:64] = b"\0" * 16
                hb[48:64] = mac(parts, self.signing_key, self.sign_alg, mid, 0,
                                struct.unpack_from("<H", hb, 12)[0])
            all_parts += parts
        total = sum(len(p) for p in all_parts)
        if self.sealing:
            tf, ct = self._seal(all_parts, total)
            self.sock.sendall(struct.pack(">I", TF_SIZE + total) + tf)
            self.sock.sendall(ct)
        else:
            self.sock.sendall(struct.pack(">I", total) + bytes(all_parts[0]))
            for p in all_parts[1:]:
                self.sock.sendall(p)
        return mids

    def _recv_into(self, mv, n):
        got = 0
        while got < n:
            k = self.sock.recv_into(mv[got:n], n - got)
            if not k:
                raise ConnectionError("connection closed by the server")
            got += k

    def _decrypt(self, rmv, n):
        """The plaintext (a view of self.pbuf) of the transform message
        rmv[:n], its header and tag checked."""
        tag = bytes(rmv[4:20])
        nonce = bytes(rmv[20:36])
        orig, _, flags, sid = struct.unpack_from("<IHHQ", rmv, 36)
        if orig != n - TF_SIZE or flags != 1 or sid != self.sid:
            raise AssertionError("bad transform header: OriginalMessageSize %d (frame %d), Flags %d, "
                                 "SessionId %x" % (orig, n, flags, sid))
        aad = bytes(rmv[20:TF_SIZE])
        out = memoryview(self.pbuf)
        ct = rmv[TF_SIZE:n]
        try:
            if self.cipher in (AES_128_GCM, AES_256_GCM):
                dec = Cipher(algorithms.AES(self.dec_key), modes.GCM(nonce[:12], tag)).decryptor()
                dec.authenticate_additional_data(aad)
                k = dec.update_into(ct, out[:orig + 15])
                dec.finalize()
                assert k == orig
            else:
                c = AES.new(self.dec_key, AES.MODE_CCM, nonce=nonce[:11], mac_len=16,
                            msg_len=orig, assoc_len=32)
                c.update(aad)
                c.decrypt(ct, output=out[:orig])
                c.verify(tag)
        except (InvalidTag, ValueError) as e:
            raise AssertionError("a sealed response of %d bytes does not decrypt (%s: %s)"
                                 % (orig, type(e).__name__, e))
        return out[:orig]

    def _recv_frame(self):
        """One transport frame -> (message view, sealed)."""
        hdr = bytearray(4)
        self._recv_into(memoryview(hdr), 4)
        n = struct.unpack(">I", hdr)[0]
        if n >> 24:
            raise ConnectionError("bad frame header %s" % hdr.hex())
        if n > len(self.rbuf):
            raise ConnectionError("frame of %d bytes is larger than any response can be" % n)
        rmv = memoryview(self.rbuf)
        self._recv_into(rmv, n)
        if bytes(rmv[:4]) != b"\xfdSMB":
            return rmv[:n], False
        if n < TF_SIZE + 64:
            raise ConnectionError("short transform message (%d bytes)" % n)
        return self._decrypt(rmv, n), True

    def _check(self, r):
        """Signature / sealing rules for a response after SESSION_SETUP."""
        if self.sealing:
            if not r.sealed:
                raise AssertionError("%r: response to MessageId %d (command %d) is not sealed"
                                     % (self, r.mid, r.command))
            return
        if r.sealed:
            raise AssertionError("%r: sealed response to an unsealed request" % self)
        if not self.signing:
            if not r.flags & FLAG_SIGNED:
                self.unsigned_plain_responses += 1
            return
        if r.status == STATUS_PENDING and r.flags & FLAG_ASYNC:
            return  # interim responses are not signed
        if not r.flags & FLAG_SIGNED:
            raise AssertionError("%r: response to MessageId %d (command %d, %s) is not signed"
                                 % (self, r.mid, r.command, status_name(r.status)))
        mv = r.mv
        sig = bytes(mv[48:64])
        mv[48:64] = b"\0" * 16
        try:
            want = mac([mv], self.signing_key, self.sign_alg, r.mid, r.flags, r.command)
        finally:
            mv[48:64] = sig
        if want != sig:
            raise AssertionError("%r: bad signature on the response to MessageId %d (command %d, "
                                 "%s, %d bytes)" % (self, r.mid, r.command, status_name(r.status),
                                                    len(mv)))

    def collect(self, mids, fn, check=True):
        """Receive until every MessageId in mids has its final response;
        fn(Resp) is called on each at once (its view is reused afterwards)."""
        want = set(mids)
        while want:
            msg, sealed = self._recv_frame()
            off = 0
            while True:
                hdr_next = struct.unpack_from("<I", msg, off + 20)[0]
                end = off + hdr_next if hdr_next else len(msg)
                if hdr_next and (hdr_next % 8 or end > len(msg)):
                    raise AssertionError("%r: compound response with NextCommand %d (message %d bytes)"
                                         % (self, hdr_next, len(msg)))
                r = Resp(msg[off:end], sealed)
                self.credits += r.credits
                if check:
                    self._check(r)
                interim = r.status == STATUS_PENDING and r.flags & FLAG_ASYNC
                if not interim:
                    if r.mid not in want:
                        raise AssertionError("%r: unexpected response to MessageId %d" % (self, r.mid))
                    want.discard(r.mid)
                    fn(r)
                if not hdr_next:
                    break
                off = end

    def call(self, hb, data=None, check=True):
        """One request; returns (status, raw copy of the response)."""
        out = []
        self.collect(self.send_chain([(hb, data)]), lambda r: out.append((r.status, bytes(r.mv))),
                     check)
        return out[0]

    def ensure_credits(self, n):
        while self.credits < n:
            hb, _ = self._hdr(ECHO, 1, struct.pack("<HH", 4, 0))
            st, _ = self.call(hb)
            if st:
                raise SMBError(st, "echo")

    # ----------------------------------------------------------- handshake
    def _negotiate(self):
        m = self.mode
        body = negotiate_body((D311,), 0x2 if m.require_signing else 0x1, CAP_LARGE_MTU | CAP_ENCRYPTION,
                              os.urandom(16), (m.sign or SIGN_AES_CMAC,), (m.cipher,) if m.cipher else ())
        hb, _ = self._hdr(NEGOTIATE, 0, body)
        self.preauth = hashlib.sha512(self.preauth + bytes(hb)).digest()
        st, raw = self.call(hb, check=False)
        if st:
            raise SMBError(st, "negotiate")
        self.preauth = hashlib.sha512(self.preauth + raw).digest()
        n = Negotiated(raw)
        self.server_sec_mode, self.dialect = n.server_sec_mode, n.dialect
        self.max_transact, self.max_read, self.max_write = n.max_transact, n.max_read, n.max_write
        self.cipher = n.cipher
        self.sign_alg = n.sign_alg if n.sign_alg is not None else SIGN_AES_CMAC
        if self.dialect != D311:
            raise AssertionError("dialect 0x%04x negotiated, 3.1.1 asked" % self.dialect)
        if m.cipher and self.cipher != m.cipher:
            raise AssertionError("cipher %d negotiated, %d asked" % (self.cipher, m.cipher))
        if m.sign and self.sign_alg != m.sign:
            raise AssertionError("signing algorithm %d negotiated, %d asked" % (self.sign_alg, m.sign))

    def _session_setup(self, user, password):
        type1, blob = ntlm_negotiate()
        sec_mode = 0x2 if self.mode.require_signing else 0x1

        def leg(blob):
            hb, _ = self._hdr(SESSION_SETUP, 1, session_setup_body(blob, 0, sec_mode))
            self.preauth = hashlib.sha512(self.preauth + bytes(hb)).digest()
            return self.call(hb, check=False)

        st, raw = leg(blob)
        if st != STATUS_MORE_PROCESSING_REQUIRED:
            raise SMBError(st, "session setup")
        self.preauth = hashlib.sha512(self.preauth + raw).digest()
        self.sid = struct.unpack_from("<Q", raw, 40)[0]
        blob, key = ntlm_authenticate(type1, raw, user, password)
        st, raw = leg(blob)
        if st:
            raise SMBError(st, "session setup")
        pa = self.preauth
        self.signing_key = KDF_CounterMode(key, b"SMBSigningKey\x00", pa, 128)
        klen = 256 if self.cipher in (AES_256_CCM, AES_256_GCM) else 128
        self.enc_key = KDF_CounterMode(key, b"SMBC2SCipherKey\x00", pa, klen)
        self.dec_key = KDF_CounterMode(key, b"SMBS2CCipherKey\x00", pa, klen)
        session_flags = struct.unpack_from("<H", raw, 64 + 2)[0]
        if session_flags & 0x3:
            raise AssertionError("session is guest/anonymous (flags 0x%x)" % session_flags)
        # MS-SMB2 3.3.5.5.3: the final 3.1.1 SESSION_SETUP response is signed.
        r = Resp(memoryview(bytearray(raw)), False)
        self.signing = True
        try:
            self._check(r)
        finally:
            self.signing = False
        self.signing = self.mode.sign is not None
        self.sealing = self.mode.cipher is not None

    def _tree_connect(self, share):
        hb, _ = self._hdr(TREE_CONNECT, 1, tree_connect_body(self.host, share))
        # a 3.1.1 TREE_CONNECT goes signed even on an unsigned session
        # (Samba refuses it otherwise), and its response comes signed
        plain = not self.signing and not self.sealing
        self.signing |= plain
        try:
            st, raw = self.call(hb)
        finally:
            self.signing = self.mode.sign is not None
        if st:
            raise SMBError(st, "tree connect %s" % share)
        return struct.unpack_from("<I", raw, 36)[0]

    # ------------------------------------------------------------ commands
    def create_req(self, name, disposition=1, access=0x0012019F):
        hb, _ = self._hdr(CREATE, 1, create_body(name, access, disposition))
        return hb

    def create(self, name, disposition=1, access=0x0012019F):
        """FILE_OPEN (1) by default; 5 = FILE_OVERWRITE_IF.  Returns (FileId, EndOfFile)."""
        st, raw = self.call(self.create_req(name, disposition, access))
        if st:
            raise SMBError(st, "create %s" % name)
        return raw[64 + 64:64 + 80], struct.unpack_from("<Q", raw, 64 + 48)[0]

    def close_req(self, fid):
        hb, _ = self._hdr(CLOSE, 1, close_body(fid, 1))
        return hb

    def close_file(self, fid):
        """Returns EndOfFile (SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB)."""
        st, raw = self.call(self.close_req(fid))
        if st:
            raise SMBError(st, "close")
        return struct.unpack_from("<Q", raw, 64 + 48)[0]

    def read_req(self, fid, offset, length, min_count=0):
        hb, _ = self._hdr(READ, credit_charge(length), read_body(fid, offset, length, min_count))
        return hb

    def write_req(self, fid, offset, data, gap=0):
        """gap: bytes between the fixed body and the data (DataOffset 0x70 + gap)."""
        n = len(data)
        hb, _ = self._hdr(WRITE, credit_charge(n), write_body(fid, offset, n, gap))
        return hb, (data if n else b"\0")

    @staticmethod
    def related(hb):
        """Mark a compound element SMB2_FLAGS_RELATED_OPERATIONS."""
        struct.pack_into("<I", hb, 16, struct.unpack_from("<I", hb, 16)[0] | FLAG_RELATED)
        return hb

    @staticmethod
    def read_data(r):
        """(status, data view) of a READ response; checks its layout."""
        if r.status:
            return r.status, None
        mv = r.mv
        size, off, _, n, remaining = struct.unpack_from("<HBBII", mv, 64)
        if size != 17 or remaining != 0:
            raise AssertionError("READ response: StructureSize %d DataRemaining %d" % (size, remaining))
        if n and off < 64 + 16:
            raise AssertionError("READ response: DataOffset %d" % off)
        if off + n > len(mv):
            raise AssertionError("READ response: DataOffset %d + DataLength %d beyond its %d bytes"
                                 % (off, n, len(mv)))
        return 0, mv[off:off + n]

    def read(self, fid, offset, length, min_count=0, fn=None):
        """Single READ.  fn(status, data view) is called with the result
        (the view is only valid during the call); returns fn's result, or
        (status, bytes) without fn."""
        self.ensure_credits(credit_charge(length))
        out = []

        def got(r):
            st, data = self.read_data(r)
            # a single response carries nothing after its data (but the
            # one-byte Buffer of an empty one)
            if not st and len(r.mv) != 80 + len(data) and not (len(data) == 0 and len(r.mv) == 81):
                raise AssertionError("READ response of %d bytes for %d data bytes"
                                     % (len(r.mv), len(data)))
            out.append(fn(st, data) if fn else (st, bytes(data) if data is not None else None))
        self.collect(self.send_chain([(self.read_req(fid, offset, length, min_count), None)]), got)
        return out[0]

    def write(self, fid, offset, data, gap=0):
        """Single WRITE.  Returns (status, Count)."""
        self.ensure_credits(credit_charge(len(data)))
        out = []

        def got(r):
            out.append((r.status, struct.unpack_from("<I", r.mv, 64 + 4)[0] if not r.status else 0))
        self.collect(self.send_chain([self.write_req(fid, offset, data, gap)]), got)
        return out[0]
