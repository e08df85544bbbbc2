#!/usr/bin/python3
"""Hold N idle authenticated SMB sessions open, one TCP connection each.

    sessions.py PORT N USER PASSWORD HOLD_SECONDS [PROCS]

PROCS client processes (default 4) each log in N/PROCS times (NTLMv2 over
SPNEGO, SMB 3.x, impacket) within HOLD_SECONDS; when all are done
"READY <ok> <failed>" is printed on stdout, and the connections stay open,
idle, until stdin is closed or HOLD_SECONDS more have passed.  Used by bench/sessions.sh.
"""
import os
import select
import sys
import time

from impacket.smbconnection import SMBConnection


def worker(port, n, user, pw, deadline, hold, wfd, rfd_stop):
    conns, failed, err = [], 0, ""
    for _ in range(n):
        if time.time() > deadline:
            failed += 1
            continue
        try:
            c = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=port, timeout=60)
            c.login(user, pw, "")
            conns.append(c)
        except Exception as e:  # noqa: BLE001 -- counted and reported
            failed += 1
            err = err or repr(e)[:200]
    os.write(wfd, ("%d %d %s\n" % (len(conns), failed, err)).encode())
    os.close(wfd)
    # idle until the parent closes the stop pipe (bounded: hold seconds more)
    select.select([rfd_stop], [], [], hold)
    os._exit(0)


def main():
    port, n, user, pw, hold = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
    procs = int(sys.argv[6]) if len(sys.argv) > 6 else 4
    procs = max(1, min(procs, n))
    deadline = time.time() + hold
    stop_r, stop_w = os.pipe()
    readers, pids = [], []
    for i in range(procs):
        share = n // procs + (1 if i < n % procs else 0)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            os.close(stop_w)
            worker(port, share, user, pw, deadline, hold, w, stop_r)
        os.close(w)
        readers.append(r)
        pids.append(pid)
    ok = bad = 0
    for r in readers:
        data = b""
        while True:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            data += chunk
        os.close(r)
        parts = data.decode().split(" ", 2)
        if len(parts) >= 2:
            ok += int(parts[0])
            bad += int(parts[1])
            if len(parts) > 2 and parts[2].strip():
                sys.stderr.write("sessions.py: %s\n" % parts[2].strip())
    sys.stdout.write("READY %d %d\n" % (ok, bad))
    sys.stdout.flush()
    deadline = time.time() + hold
    while time.time() < deadline:
        rl, _, _ = select.select([sys.stdin], [], [], max(0.0, deadline - time.time()))
        if rl and not sys.stdin.read(1):
            break
    os.close(stop_w)
    for pid in pids:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
