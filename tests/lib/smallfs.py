"""A small loop-mounted ext4 for the tests that fill a file system (tests/regress/).

    with SmallFs(64) as fs:        # MiB; exits 77 (skip) if it cannot be made
        srv = Srv(base=fs.mnt, ...)
        ...
        fs.used_kib(), fs.avail_kib(), fs.root_free_kib()

The file system is unmounted and its image removed when the block ends, however
it ends (servers on it must be stopped first: done() does, inside the block)."""
import os, shutil, subprocess, sys, tempfile


class SmallFs:
    def __init__(self, mib=64):
        self.mib = mib
        self.dir = self.mnt = None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="rel-smallfs-")
        img, self.mnt = os.path.join(self.dir, "img"), os.path.join(self.dir, "mnt")
        os.makedirs(self.mnt)
        steps = (["truncate", "-s", "%dM" % self.mib, img], ["mkfs.ext4", "-q", "-F", img],
                 ["mount", "-o", "loop", img, self.mnt])
        for argv in steps:
            try:
                r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired) as e:
                r = subprocess.CompletedProcess(argv, 1, "", str(e))
            if r.returncode != 0:
                self._cleanup(mounted=False)
                print("skip: cannot make a loop-mounted ext4 (%s: %s)" % (argv[0], r.stderr.strip()[:200]))
                sys.exit(77)
        os.chmod(self.mnt, 0o755)
        return self

    def __exit__(self, *exc):
        self._cleanup(mounted=True)
        return False

    def _cleanup(self, mounted):
        if mounted and self.mnt and os.path.ismount(self.mnt):
            if subprocess.run(["umount", self.mnt], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", self.mnt], capture_output=True)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _sv(self):
        return os.statvfs(self.mnt)

    def used_kib(self):
        """Blocks in use, as root sees them (root-reserved blocks included)."""
        s = self._sv()
        return (s.f_blocks - s.f_bfree) * s.f_frsize // 1024

    def avail_kib(self):
        """Free space for unprivileged users."""
        s = self._sv()
        return s.f_bavail * s.f_frsize // 1024

    def root_free_kib(self):
        s = self._sv()
        return s.f_bfree * s.f_frsize // 1024

    def size_kib(self):
        s = self._sv()
        return s.f_blocks * s.f_frsize // 1024


def alloc_kib(path):
    """Blocks allocated to a file (KiB)."""
    return os.stat(path).st_blocks * 512 // 1024
