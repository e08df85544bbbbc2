"""Stand-alone test scripts run as unittest cases: each prints one line per
check and "N passed, N failed" (or exits non-zero) — this wrapper starts
the server they need and turns the outcome into one case each."""
import os
import re
import subprocess

import harness as h

HERE = os.path.dirname(os.path.abspath(__file__))


def _run(cmd, timeout=600):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace", timeout=timeout)
    return r.returncode, r.stdout


class CreateCases(h.ServerTestCase):
    """CREATE/CLOSE dispositions, access, sharing, names (impacket)."""

    def test_create_cases(self):
        if h.TARGET != "smb3d":
            self.skipTest("smb3d only")
        s = self.server
        rc, out = _run(["/usr/bin/python3", os.path.join(HERE, "test_create.py"), "127.0.0.1",
                        str(s.port), "share", h.USER1[0], h.USER1[1], h.USER2[0], h.USER2[1]])
        self.assertEqual(rc, 0, out)
        self.assertServerAlive()


class Smb3ctl(h.ServerTestCase):
    """smb3ctl config check / user (no server needed, but keeps one order)."""

    def test_smb3ctl(self):
        if h.TARGET != "smb3d":
            self.skipTest("smb3d only")
        rc, out = _run(["bash", os.path.join(HERE, "test_smb3ctl.sh"), os.path.join(h.BUILD, "smb3ctl")])
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"\d+ passed, 0 failed")

    def test_manpages(self):
        if h.TARGET != "smb3d":
            self.skipTest("smb3d only")
        rc, out = _run(["bash", os.path.join(HERE, "test_manpages.sh"), h.BUILD])
        self.assertEqual(rc, 0, out[-3000:])


if __name__ == "__main__":
    h.main()
