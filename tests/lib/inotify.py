"""What a running server watches with inotify, read from /proc (fdinfo lists
every watch of an inotify fd: wd, inode, device), for the change-notify
regression tests."""
import os, time


def watches(pid):
    """[(inode, dev)] of every inotify watch of process `pid`."""
    out = []
    fddir = "/proc/%d/fd" % pid
    for fd in os.listdir(fddir):
        try:
            if os.readlink(os.path.join(fddir, fd)) != "anon_inode:inotify":
                continue
            for line in open("/proc/%d/fdinfo/%s" % (pid, fd)):
                if line.startswith("inotify wd:"):
                    kv = dict(x.split(":", 1) for x in line.split()[1:] if ":" in x)
                    out.append((int(kv["ino"], 16), int(kv["sdev"], 16)))
        except OSError:
            continue
    return out


def wait_count(pid, n, timeout=60):
    """Wait until the process watches at least n inodes; the time it took, or None."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if len(watches(pid)) >= n:
            return time.time() - t0
        time.sleep(0.02)
    return None


def wait_stable(pid, quiet=1.5, timeout=30):
    """Wait until the set of watches has not changed for `quiet` seconds."""
    t0 = last_change = time.time()
    prev = None
    while time.time() - t0 < timeout:
        cur = sorted(watches(pid))
        if cur != prev:
            prev, last_change = cur, time.time()
        elif time.time() - last_change >= quiet:
            break
        time.sleep(0.05)
    return prev or []


def inodes_under(path):
    """{inode} of path and of every directory below it (not following symlinks)."""
    out = {os.lstat(path).st_ino}
    for d, dirs, _ in os.walk(path):
        for x in dirs:
            out.add(os.lstat(os.path.join(d, x)).st_ino)
    return out
