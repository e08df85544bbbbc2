#!/usr/bin/python3
"""Session binding tests on loopback (no namespaces needed).

1. smbtorture: smb2.session.bind1, bind2, bind_different_user,
   bind_invalid_auth, every smb2.session.bind_negative_*,
   smb2.multichannel.generic.interface_info and .num_channels
   (second user via torture:user2name / torture:user2password).
2. Raw binds (tests/lib/smb2raw.py): one good bind (both channels usable,
   bind responses correctly signed), then every failed-bind case; after each
   failed bind the target session must still work on its own channel (echo,
   create/write/read/close with a checksum) and must still have one channel
   in `smb3ctl status`.

  tests/mc/test_bind.py [--port 4481] [--no-torture] [--no-raw] [-k PATTERN]
Last line: "N passed, N failed"; exit 1 on failure.
"""

import argparse
import hashlib
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import mclib  # noqa: E402
import smb2raw as R  # noqa: E402
from mclib import USER1, USER2, log  # noqa: E402

TORTURE_FIXED = ["smb2.session.bind1", "smb2.session.bind2", "smb2.session.bind_different_user",
                 "smb2.session.bind_invalid_auth", "smb2.multichannel.generic.interface_info",
                 "smb2.multichannel.generic.num_channels"]


def torture_tests():
    r = subprocess.run(["smbtorture", "--list", "smb2.session"], capture_output=True, text=True)
    neg = sorted(set(re.findall(r"^(smb2\.session\.bind_negative_\w+?)\.", r.stdout + r.stderr, re.M)))
    return TORTURE_FIXED[:4] + neg + TORTURE_FIXED[4:]


def run_torture(srv, test, res):
    cmd = ["smbtorture", "//127.0.0.1/share", "-p", str(srv.port), "-s", srv.client_conf,
           "-U", "%s%%%s" % USER1,
           "--option=torture:user2name=%s" % USER2[0],
           "--option=torture:user2password=%s" % USER2[1],
           "--maximum-runtime=120", test]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=180, errors="replace")
        out = r.stdout + r.stderr
    except subprocess.TimeoutExpired:
        return res.check(False, test, "smbtorture timed out")
    ok = r.returncode == 0 and re.search(r"^success: ", out, re.M) is not None
    skip = re.search(r"^skip: .*", out, re.M)
    detail = ""
    if not ok:
        m = re.search(r"^(failure|error): \S+ \[\n(.*?)\n\]", out, re.M | re.S)
        detail = m.group(2).strip().splitlines()[-1] if m else out.strip().splitlines()[-1]
        if not srv.alive():
            detail += " (smb3d died)"
    elif skip:
        detail = skip.group(0)
    res.check(ok, test, detail)


# ---------------------------------------------------------------- raw binds
def session_works(srv, conn, s, tag):
    """The target session still does I/O on its own channel.  Returns '' or why not."""
    try:
        st = R.echo(conn, s)
        if st:
            return "echo: " + R.status_name(st)
        data = hashlib.sha256(tag.encode()).digest() * 2048  # 64 KiB
        name = "after-%s.dat" % tag
        fid = R.create(conn, s, name)
        R.write(conn, s, fid, 0, data)
        back = R.read(conn, s, fid, 0, len(data))
        R.close(conn, s, fid)
        if hashlib.sha256(back).digest() != hashlib.sha256(data).digest():
            return "data read back differs"
        with open(os.path.join(srv.share, name), "rb") as f:
            if f.read() != data:
                return "file on disk differs"
    except (R.SMBError, OSError, ConnectionError) as e:
        return str(e)
    rc, text = srv.status()
    m = re.search(r"session 0x0*%x\b.*channels (\d+)" % s.id, text)
    if rc == 0 and m and m.group(1) != "1":
        return "smb3ctl status shows %s channels for the session (want 1):\n%s" % (m.group(1), text)
    return ""


def raw_tests(srv, res, pattern):
    host, port = "127.0.0.1", srv.port

    def new_target():
        return R.connect_session(host, port, *USER1)

    # ------------------------------------------------------ positive bind
    if not pattern or re.search(pattern, "raw.bind_ok"):
        a, s = new_target()
        b = R.Conn(host, port, client_guid=a.client_guid).negotiate()
        st, _ = R.session_setup(b, *USER1, session=s, bind=True)
        res.check(st == 0, "raw.bind_ok: bind succeeds", R.status_name(st))
        res.check(not s.sig_errors, "raw.bind_ok: bind responses signed per MS-SMB2 3.3.4.1.1",
                  "; ".join(s.sig_errors))
        if st == 0:
            why = ""
            try:
                data = os.urandom(100000)
                fid = R.create(b, s, "bound.dat")
                R.write(b, s, fid, 0, data)
                R.close(b, s, fid)
                fid = R.create(a, s, "bound.dat", disposition=1)
                back = R.read(a, s, fid, 0, len(data))
                R.close(a, s, fid)
                if back != data:
                    why = "data written on channel 2 differs when read on channel 1"
            except (R.SMBError, ConnectionError) as e:
                why = str(e)
            res.check(not why, "raw.bind_ok: I/O on the new channel, read back on the first", why)
            rc, text = srv.status()
            m = re.search(r"session 0x0*%x\b.*channels (\d+)" % s.id, text)
            res.check(bool(m) and m.group(1) == "2", "raw.bind_ok: smb3ctl status shows 2 channels",
                      text)
        b.close()
        a.close()

    # ------------------------------------------------------ negative binds
    # name -> (expected statuses, function(target conn, session) -> status)
    def bind_with(**kw):
        conn_kw = {k: kw.pop(k) for k in ("dialects", "sign_algs") if k in kw}
        user = kw.pop("user", USER1)

        def f(a, s):
            b = R.Conn(host, port, client_guid=a.client_guid, **conn_kw).negotiate()
            try:
                st, _ = R.session_setup(b, user[0], user[1], session=s, bind=True, **kw)
                return st
            finally:
                b.close()
        return f

    def bind_unknown_session(a, s):
        b = R.Conn(host, port).negotiate()
        try:
            fake = R.Session()
            fake.id = s.id ^ 0x5A5A000000000000
            fake.signing_key = s.signing_key
            st, _ = R.session_setup(b, *USER1, session=fake, bind=True)
            return st
        finally:
            b.close()

    def bind_same_connection(a, s):
        st, _ = R.session_setup(a, *USER1, session=s, bind=True)
        return st

    def bind_abandoned(a, s):
        b = R.Conn(host, port, client_guid=a.client_guid).negotiate()
        st, _ = R.session_setup(b, *USER1, session=s, bind=True, stop_after_first=True)
        b.close()
        time.sleep(0.3)
        return 0xC000006D if st == 0xC0000016 else st  # abandoned after leg 1: counts as failed

    def bind_in_progress(a, s):
        # a third connection starts a session and stops after leg 1; bind to it
        c = R.Conn(host, port).negotiate()
        try:
            st1, half = R.session_setup(c, *USER1, stop_after_first=True)
            if st1 != 0xC0000016:
                return 0
            prog = R.Session()
            prog.id = half.pending_id
            prog.signing_key = s.signing_key
            b = R.Conn(host, port).negotiate()
            try:
                st, _ = R.session_setup(b, *USER1, session=prog, bind=True)
                return st
            finally:
                b.close()
        finally:
            c.close()

    DENIED, LOGON, INVAL, NOTACC = 0xC0000022, 0xC000006D, 0xC000000D, 0xC00000D0
    cases = [
        ("wrong_password", (LOGON,), bind_with(user=(USER1[0], "wrong-" + USER1[1]))),
        ("different_user", (DENIED,), bind_with(user=USER2)),
        ("unsigned", (INVAL, DENIED), bind_with(sign_bind=False)),
        ("bad_signature", (DENIED,), bind_with(corrupt_sig=True)),
        ("garbage_blob", None, bind_with(sec_blob=b"\x60\x05garbage-not-spnego")),
        ("unknown_session", (0xC0000203,), bind_unknown_session),
        ("dialect_3.0.2", (INVAL,), bind_with(dialects=(R.D300, R.D302))),
        ("dialect_2.1", (NOTACC, INVAL), bind_with(dialects=(R.D202, R.D210))),
        # not a failure: each channel signs with its own connection's
        # algorithm (smbtorture bind_negative_smb3signCtoH* expect success)
        ("hmac_channel_cmac_session_allowed", (0,), bind_with(sign_algs=(R.SIGN_HMAC_SHA256,))),
        ("same_connection", (NOTACC, DENIED), bind_same_connection),
        ("abandoned_after_leg1", None, bind_abandoned),
        ("session_in_progress", (NOTACC,), bind_in_progress),
    ]
    for name, expect, fn in cases:
        tag = "raw.bind_negative.%s" % name
        if pattern and not re.search(pattern, tag):
            continue
        try:
            a, s = new_target()
        except (R.SMBError, OSError, ConnectionError) as e:
            res.check(False, tag + ": target session", str(e))
            continue
        try:
            s.sig_errors = []
            st = fn(a, s)
            if s.sig_errors:
                res.check(False, tag + ": refusal signed with Session.SigningKey", "; ".join(s.sig_errors))
            if expect is None:
                res.check(st != 0, tag + ": bind fails", "got %s" % R.status_name(st))
            else:
                res.check(st in expect, tag + ": bind ends with " +
                          "|".join(R.status_name(x) for x in expect), "got %s" % R.status_name(st))
        except (R.SMBError, OSError, ConnectionError) as e:
            res.check(True, tag + ": bind fails (connection dropped: %s)" % e)
        why = session_works(srv, a, s, name)
        res.check(not why, tag + ": target session still works", why)
        a.close()
    res.check(srv.alive(), "smb3d still running after the raw bind tests")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=4481)
    ap.add_argument("--no-torture", action="store_true")
    ap.add_argument("--no-raw", action="store_true")
    ap.add_argument("-k", dest="pattern", default="")
    o = ap.parse_args()
    res = mclib.Results()
    if os.geteuid() != 0:
        log("SKIP: must run as root (creates unix users)")
        log("0 passed, 0 failed")
        return 77
    if not mclib.smb3d_bin():
        log("FAIL: no smb3d in %s (set SMB3D_BUILD)" % mclib.BUILD)
        log("0 passed, 1 failed")
        return 1
    srv = mclib.Server(o.port, log_level=int(os.environ.get("SMB3D_LOG_LEVEL", "4")))
    try:
        srv.start()
        log("smb3d pid %d, port %d, dir %s" % (srv.pid, srv.port, srv.tmp))
        if not o.no_torture:
            for t in torture_tests():
                if o.pattern and not re.search(o.pattern, t):
                    continue
                run_torture(srv, t, res)
                if not srv.alive():
                    log(srv.log_tail())
                    srv.start()
        if not o.no_raw:
            raw_tests(srv, res, o.pattern)
        if res.failed:
            log("--- server log tail (%s)" % srv.log_path)
            log(srv.log_tail(3000))
    finally:
        srv.cleanup()
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
