"""An LD_PRELOAD library for a test server, compiled from C source at run
time (gcc is on every CI machine).  A sanitized server needs its sanitizer's
runtime first in LD_PRELOAD; preload_value() puts it there."""
import os, subprocess, sys, tempfile


def build_preload(c_source, tag):
    """Compile c_source into a shared library; returns (its directory, its
    path).  Exits 77 (skip) when it cannot be built."""
    tmp = tempfile.mkdtemp(prefix=tag + "-")
    src, so = os.path.join(tmp, tag + ".c"), os.path.join(tmp, tag + ".so")
    open(src, "w").write(c_source)
    if subprocess.run(["gcc", "-shared", "-fPIC", "-o", so, src, "-ldl"]).returncode:
        print("cannot build the LD_PRELOAD library")
        sys.exit(77)
    return tmp, so


def preload_value(server_binary, so):
    """The LD_PRELOAD value that loads `so` into server_binary."""
    libs = subprocess.run(["ldd", server_binary], capture_output=True, text=True).stdout
    for rt in ("libasan.so", "libtsan.so"):
        if rt in libs:
            path = subprocess.run(["gcc", "-print-file-name=" + rt], capture_output=True, text=True).stdout.strip()
            return path + ":" + so
    return so
