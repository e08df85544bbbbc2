#!/usr/bin/python3
"""Quick CREATE/CLOSE checks with impacket against a running smb3d.

usage: test_create.py HOST PORT SHARE USER PASS [USER2 PASS2]
Prints one line per case and exits non-zero when one fails."""
import os
import sys
from impacket.smbconnection import SMBConnection, SessionError
from impacket import smb3structs as s3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402,F401  (impacket without directory leases: harness.py)

FILE_SUPERSEDE, FILE_OPEN, FILE_CREATE, FILE_OPEN_IF, FILE_OVERWRITE, FILE_OVERWRITE_IF = range(6)
GENERIC_READ, GENERIC_WRITE, DELETE, MAX_ALLOWED = 0x80000000, 0x40000000, 0x10000, 0x02000000
SHARE_ALL = 7
DIR, NONDIR, DOC = 0x1, 0x40, 0x1000

host, port, share, user, pw = sys.argv[1:6]
fails = 0


def conn(u, p):
    c = SMBConnection(host, host, sess_port=int(port))
    c.login(u, p)
    return c, c.connectTree(share)


def status(fn):
    try:
        r = fn()
        return 0, r
    except SessionError as e:
        return e.getErrorCode(), None


def check(name, got, want):
    global fails
    ok = got == want
    fails += not ok
    print('%-4s %-45s got %#010x want %#010x' % ('ok' if ok else 'FAIL', name, got, want))


c, t = conn(user, pw)
cf = lambda n, acc=GENERIC_READ | GENERIC_WRITE, sh=SHARE_ALL, opt=NONDIR, disp=FILE_OPEN_IF, attr=0: \
    status(lambda: c.createFile(t, n, acc, sh, opt, disp, attr))
# cleanup from earlier runs
for n in ('t1.txt', 'td', 'td\\x'):
    st, f = cf(n, acc=DELETE, opt=DOC, disp=FILE_OPEN)
    if f is not None:
        c.closeFile(t, f)

st, f = cf('t1.txt', disp=FILE_CREATE); check('create new', st, 0); c.closeFile(t, f)
st, f = cf('t1.txt', disp=FILE_CREATE); check('create existing', st, 0xC0000035)
st, f = cf('t1.txt', disp=FILE_OPEN); check('open existing', st, 0)
st2, f2 = cf('t1.txt', sh=0, disp=FILE_OPEN); check('share violation', st2, 0xC0000043)
st2, f2 = cf('T1.TXT', sh=SHARE_ALL, disp=FILE_OPEN); check('case-insensitive open', st2, 0)
c.closeFile(t, f2); c.closeFile(t, f)
st, f = cf('t1.txt', disp=FILE_OVERWRITE_IF); check('overwrite_if', st, 0); c.closeFile(t, f)
st, f = cf('t1.txt', opt=DIR, disp=FILE_OPEN); check('DIRECTORY_FILE on file', st, 0xC0000103)
st, f = cf('nope.txt', disp=FILE_OPEN); check('open missing', st, 0xC0000034)
st, f = cf('nodir\\nope.txt', disp=FILE_OPEN); check('open missing path', st, 0xC000003A)
st, f = cf('a<b', disp=FILE_OPEN_IF); check('invalid char', st, 0xC0000033)
st, f = cf('..\\x', disp=FILE_OPEN); check('dotdot', st, 0xC000003B)
st, f = cf('td', opt=DIR, disp=FILE_CREATE); check('mkdir', st, 0); c.closeFile(t, f)
st, f = cf('td', opt=DIR, disp=FILE_CREATE); check('mkdir dup', st, 0xC0000035)
st, f = cf('td', opt=NONDIR, disp=FILE_OPEN); check('NON_DIRECTORY on dir', st, 0xC00000BA)
st, f = cf('td\\x', disp=FILE_CREATE); check('create in dir', st, 0); c.closeFile(t, f)
st, f = cf('td\\x', acc=GENERIC_READ, opt=DOC, disp=FILE_OPEN); check('DOC without DELETE', st, 0xC0000022)
st, f = cf('td', acc=DELETE, opt=DIR | DOC, disp=FILE_OPEN); check('DOC non-empty dir open', st, 0)
if f is not None:
    check('close DOC non-empty dir', status(lambda: c.closeFile(t, f))[0], 0)
st, f = cf('td\\x', acc=DELETE, opt=DOC, disp=FILE_OPEN); check('DOC file', st, 0)
st2, f2 = cf('TD\\x', acc=GENERIC_READ, disp=FILE_OPEN); check('open while open DOC (shared)', st2, 0)
c.closeFile(t, f2)
c.closeFile(t, f)
st, f = cf('td\\x', disp=FILE_OPEN); check('DOC file gone', st, 0xC0000034)
st, f = cf('td', acc=DELETE, opt=DIR | DOC, disp=FILE_OPEN); c.closeFile(t, f)
st, f = cf('td', opt=DIR, disp=FILE_OPEN); check('DOC dir gone', st, 0xC0000034)
st, f = cf('', acc=GENERIC_READ, opt=DIR, disp=FILE_OPEN); check('share root', st, 0); c.closeFile(t, f)
st, f = cf('t1.txt', acc=DELETE, opt=DOC, disp=FILE_OPEN); c.closeFile(t, f)
sys.exit(1 if fails else 0)
