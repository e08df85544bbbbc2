"""'obey pam restrictions = yes' (Debian's default smb.conf has it) was warned
about and ignored: a user whose unix account had expired still logged on.
Now the account goes through PAM account management (service "samba") after
the password is proven: an expired account is refused (LOGON_FAILURE with
Debian's PAM stack, whose pam_deny answers for pam_unix; ACCOUNT_EXPIRED
where pam_unix answers itself); with the option off (Samba's default) the
same logon succeeds."""
import os, subprocess, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403
from srv import ensure_unix_user  # noqa: E402

USER, PW = "smb3test3", "Passw0rd-Three"
if not os.path.exists("/etc/pam.d/samba") or os.geteuid() != 0:
    print("needs root and /etc/pam.d/samba (Debian's samba package)")
    sys.exit(77)
uid = ensure_unix_user(USER)
subprocess.run(["chage", "-E", "0", USER], check=True)  # expired since 1970
servers = []
try:
    for obey, want in (("yes", (0xC000006D, 0xC0000193)), ("no", (0,))):
        srv = Srv(tag="pam-" + obey, extra={"obey pam restrictions": obey}).start()
        servers.append(srv)
        subprocess.run([os.path.join(srv.build, "smb3ctl"), "-c", srv.conf, "user", "add", USER, "--uid", str(uid),
                        "-s"], input="%s\n%s\n" % (PW, PW), text=True, check=True, capture_output=True)
        c = R.Conn("127.0.0.1", srv.port).negotiate()
        st, _ = R.session_setup(c, USER, PW)
        c.close()
        check(st in want, "obey pam restrictions = %s: an expired account's logon answers 0x%x" % (obey, st))
        if obey == "yes":
            check("(PAM)" in srv.logtext() or "refused by PAM" in srv.logtext(), "the refusal is logged with its reason")
            check(srv.healthy(), "a user whose account is valid still logs on")
finally:
    subprocess.run(["chage", "-E", "-1", USER])
done(*servers)
