"""The WATCH_TREE walk of CHANGE_NOTIFY went by absolute path, as the daemon:
a directory swapped for a symlink between the walk's readdir and its opendir
was followed out of the share (its targets were read and watched), and
directories the session's user cannot read were walked and watched all the
same.  An LD_PRELOAD'ed inotify_add_watch makes the swap at the worst moment:
when the walk adds the watch of share/swapme, swapme is renamed away and a
symlink to a directory outside the share takes its name; and when it adds
the watch of share/moveme, moveme is renamed out of the share (the walk holds
its fd).  The server must never watch an inode outside the share through the
symlink nor any of share/secret (mode 0700, root's), must not stay watching
beneath the directory renamed out, and the watch must still work."""
import os, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403
import inotify

SRC = r'''
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	static int (*real)(int, const char *, uint32_t);
	static int done;
	if (!real)
		real = dlsym(RTLD_NEXT, "inotify_add_watch");
	usleep(20000); /* a slow walk: the test samples what is watched meanwhile */
	const char *dir = getenv("NT_SWAP_DIR"), *to = getenv("NT_SWAP_TARGET");
	char buf[PATH_MAX];
	const char *real_path = path;
	ssize_t n = strncmp(path, "/proc/", 6) ? -1 : readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = 0;
		real_path = buf;
	}
	const char *mdir = getenv("NT_MOVE_DIR"), *mto = getenv("NT_MOVE_TARGET");
	if (mdir && mto && !strcmp(real_path, mdir))
		rename(mdir, mto); /* out of the share, while the walk holds its fd */
	if (!done && dir && to && !strcmp(real_path, dir)) {
		char moved[PATH_MAX];
		snprintf(moved, sizeof(moved), "%s.moved", dir);
		if (rename(dir, moved) == 0 && symlink(to, dir) == 0)
			done = 1;
	}
	return real(fd, path, mask);
}
'''
tmp = tempfile.mkdtemp(prefix="swapwalk-")
so = os.path.join(tmp, "swapwalk.so")
open(os.path.join(tmp, "swapwalk.c"), "w").write(SRC)
if subprocess.run(["gcc", "-shared", "-fPIC", "-o", so, os.path.join(tmp, "swapwalk.c"), "-ldl"]).returncode:
    print("cannot build the LD_PRELOAD library")
    sys.exit(77)
if os.geteuid() != 0:
    print("needs root (the server runs file operations as the session's user)")
    sys.exit(77)
srv = Srv(tag="notifyswap")
outside = os.path.join(srv.tmp, "outside")
for i in range(5):
    os.makedirs(os.path.join(outside, "o%d" % i, "deeper"))
swap = os.path.join(srv.share, "swapme")
moveme = os.path.join(srv.share, "moveme")
os.makedirs(os.path.join(srv.tmp, "out"), mode=0o777)
os.chmod(os.path.join(srv.tmp, "out"), 0o777)  # the walk's user renames into it
moved = os.path.join(srv.tmp, "out", "moved")
for d in ("a", "swapme/s1", "swapme/s2", "secret/x1/y", "secret/x2", "moveme/m1/deeper", "moveme/m2"):
    os.makedirs(os.path.join(srv.share, d))
for d, _, _ in os.walk(srv.share):
    os.chmod(d, 0o777)
os.chmod(os.path.join(srv.share, "secret"), 0o700)  # root's: smb3test2 cannot list it
out_inodes = inotify.inodes_under(outside)
secret_inodes = inotify.inodes_under(os.path.join(srv.share, "secret"))
moved_inodes = inotify.inodes_under(moveme)

asan = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
pre = so
if subprocess.run(["sh", "-c", "ldd %s | grep -q libasan" % os.path.join(srv.build, "smb3d")]).returncode == 0:
    pre = asan + ":" + so
os.environ.update(LD_PRELOAD=pre, NT_SWAP_DIR=swap, NT_SWAP_TARGET=outside, NT_MOVE_DIR=moveme,
                  NT_MOVE_TARGET=moved)
srv.start()
for k in ("LD_PRELOAD", "NT_SWAP_DIR", "NT_SWAP_TARGET", "NT_MOVE_DIR", "NT_MOVE_TARGET"):
    os.environ.pop(k)

h = H(srv.port, user=USERS[1])
fid = h.create("", disp=1, opts=0x1, access=0x00120089)
h.send(hdr(NOTIFY, h.mid(), h.sid, h.tid) + b_notify(fid, flags=1, out_len=4096, filt=0x1))  # WATCH_TREE, file names
w = set()  # every inode watched at any time during the walk
t0 = last = time.time()
while time.time() - last < 1.5 and time.time() - t0 < 30:
    cur = {ino for ino, _ in inotify.watches(srv.pid)}
    if not cur <= w:
        w |= cur
        last = time.time()
    time.sleep(0.005)
r = h.recv_interim(timeout=30)
check(not isinstance(r, str) and r.status == 0x103, "the notify goes pending (%r)" % (
    r if isinstance(r, str) else hex(r.status)))
check(os.path.islink(swap), "the directory was swapped for a symlink during the walk")
print("watched inodes:", len(w))
check(not (w & out_inodes), "nothing outside the share is watched (%d of %d)" % (len(w & out_inodes), len(out_inodes)))
check(not (w & secret_inodes), "nothing the user cannot read is watched (%d of %d)" % (
    len(w & secret_inodes), len(secret_inodes)))
check(os.lstat(os.path.join(srv.share, "a")).st_ino in w, "the rest of the tree is watched")
check(os.path.isdir(moved), "a directory was renamed out of the share during the walk")
now = {ino for ino, _ in inotify.wait_stable(srv.pid)}
check(not (now & moved_inodes), "nothing renamed out of the share stays watched (%d of %d)" % (
    len(now & moved_inodes), len(moved_inodes)))
# and the watch works (the swap itself may be reported first)
open(os.path.join(srv.share, "a", "f.txt"), "w").close()
seen = False
for i in range(4):
    r = h.recv_interim(timeout=10)
    while not isinstance(r, str) and r.status == 0x103:
        r = h.recv_interim(timeout=10)
    if isinstance(r, str) or r.status != 0:
        break
    if "f.txt".encode("utf-16-le") in r.body:
        seen = True
        break
    h.send(hdr(NOTIFY, h.mid(), h.sid, h.tid) + b_notify(fid, flags=1, out_len=4096, filt=0x1))
check(seen, "a change in the tree is reported (%r)" % (r if isinstance(r, str) else hex(r.status)))
h.close()
import shutil
shutil.rmtree(tmp, ignore_errors=True)
done(srv)
