/* Samba options smb3d does not implement, and whether ignoring them is safe.
 *
 * Fail closed: an option that restricts access (or changes whose identity
 * or which permissions a file gets) may only be ignored while it has the
 * value under which ignoring it changes nothing -- Samba's default, or a
 * value that grants more than smb3d does anyway.  Any other value makes the
 * configuration invalid, so the server refuses to start or to reload.
 * Options that cannot restrict access are warned about once and ignored.
 * The list was audited against Samba 4.17-4.25's `testparm -sv` output. */
#include "conf/conf_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum safe_when {
	SAFE_ALWAYS,   /* ignoring it can never grant access */
	SAFE_EMPTY,    /* only an empty value ("admin users =") */
	SAFE_NO,       /* only a false boolean */
	SAFE_YES,      /* only a true boolean */
	SAFE_ZERO,     /* only the number 0 (octal modes too) */
	SAFE_OCTAL,    /* only the octal number `num` */
	SAFE_ONE_OF,   /* only one of the normalized values in `vals` ("a|b|c") */
};

struct samba_opt {
	const char *name;
	enum safe_when when;
	const char *vals;  /* SAFE_ONE_OF */
	long num;          /* SAFE_OCTAL */
	const char *why;   /* why a restricting value cannot be ignored */
};

#define ALWAYS(n) { n, SAFE_ALWAYS, NULL, 0, NULL }

static const struct samba_opt samba_opts[] = {
	/* --- restrict access or change identity/permissions: error unless harmless --- */
	{ "username map", SAFE_EMPTY, NULL, 0, "mapping client names to other accounts is not supported" },
	{ "username map script", SAFE_EMPTY, NULL, 0, "mapping client names to other accounts is not supported" },
	{ "guest only", SAFE_NO, NULL, 0, "guest-only shares are not supported" },
	{ "only guest", SAFE_NO, NULL, 0, "guest-only shares are not supported" },
	{ "only user", SAFE_NO, NULL, 0, "the 'username' list is not supported" },
	{ "username", SAFE_EMPTY, NULL, 0, "the 'username' list is not supported" },
	{ "user", SAFE_EMPTY, NULL, 0, "the 'username' list is not supported" },
	{ "users", SAFE_EMPTY, NULL, 0, "the 'username' list is not supported" },
	{ "access based share enum", SAFE_NO, NULL, 0, "hiding shares a user cannot access is not supported" },
	{ "hide unwriteable files", SAFE_NO, NULL, 0, "hiding unwritable files is not supported" },
	{ "hide special files", SAFE_NO, NULL, 0, "hiding special files is not supported" },
	{ "dont descend", SAFE_EMPTY, NULL, 0, "'dont descend' is not supported" },
	{ "follow symlinks", SAFE_YES, NULL, 0, "refusing to follow symbolic links is not supported" },
	{ "copy", SAFE_EMPTY, NULL, 0, "copying another share's settings is not supported; write them out" },
	{ "preexec", SAFE_EMPTY, NULL, 0, "connect scripts are not supported" },
	{ "exec", SAFE_EMPTY, NULL, 0, "connect scripts are not supported" },
	{ "postexec", SAFE_EMPTY, NULL, 0, "disconnect scripts are not supported" },
	{ "root preexec", SAFE_EMPTY, NULL, 0, "connect scripts are not supported" },
	{ "root postexec", SAFE_EMPTY, NULL, 0, "disconnect scripts are not supported" },
	{ "preexec close", SAFE_NO, NULL, 0, "connect scripts are not supported" },
	{ "root preexec close", SAFE_NO, NULL, 0, "connect scripts are not supported" },
	{ "printable", SAFE_NO, NULL, 0, "printer shares are not supported" },
	{ "print ok", SAFE_NO, NULL, 0, "printer shares are not supported" },
	{ "config file", SAFE_EMPTY, NULL, 0, "reading another configuration file instead is not supported; use include" },
	{ "config backend", SAFE_ONE_OF, "file", 0, "only file configuration is supported" },
	{ "registry shares", SAFE_NO, NULL, 0, "registry shares are not supported" },
	{ "security", SAFE_ONE_OF, "user|auto", 0, "only 'security = user' (smbpasswd) is supported" },
	{ "server role", SAFE_ONE_OF, "auto|standalone|standaloneserver", 0,
	  "only a standalone server is supported" },
	{ "ntlm auth", SAFE_ONE_OF, "ntlmv2only|mschapv2andntlmv2only|yes|no|ntlmv1permitted|true|false|1|0|on|off", 0,
	  "smb3d authenticates with NTLMv2 only; it cannot refuse NTLM" },
	{ "server smb3 encryption algorithms", SAFE_ONE_OF,
	  "default|aes128gcm,aes128ccm,aes256gcm,aes256ccm", 0,
	  "restricting the ciphers is not supported" },
	{ "server smb3 signing algorithms", SAFE_ONE_OF,
	  "default|aes128gmac,aes128cmac,hmacsha256", 0,
	  "restricting the signing algorithms is not supported" },
	/* identity and permissions of new files */
	/* --- cannot grant access when ignored: a warning --- */
	ALWAYS("hide new files timeout"),
	ALWAYS("wide links"), ALWAYS("allow insecure wide links"),
	ALWAYS("acl allow execute always"), ALWAYS("acl check permissions"), ALWAYS("acl group control"),
	ALWAYS("acl map full control"), ALWAYS("acl flag inherited canonicalization"),
	ALWAYS("delete readonly"), ALWAYS("dos filemode"), ALWAYS("force unknown acl user"),
	ALWAYS("null passwords"), ALWAYS("encrypt passwords"), ALWAYS("lanman auth"), ALWAYS("raw ntlmv2 auth"),
	ALWAYS("reject md5 clients"), ALWAYS("server schannel"), ALWAYS("server schannel require seal"),
	ALWAYS("allow nt4 crypto"), ALWAYS("auto services"), ALWAYS("preload"), ALWAYS("default service"),
	ALWAYS("usershare allow guests"), ALWAYS("usershare max shares"), ALWAYS("usershare owner only"),
	ALWAYS("usershare path"), ALWAYS("usershare prefix allow list"), ALWAYS("usershare prefix deny list"),
	ALWAYS("usershare template share"), ALWAYS("nt acl support"), ALWAYS("map acl inherit"),
	ALWAYS("store dos attributes"), ALWAYS("map hidden"), ALWAYS("map system"),
	ALWAYS("map readonly"), ALWAYS("ea support"),
	ALWAYS("kernel oplocks"), ALWAYS("fake oplocks"), ALWAYS("locking"), ALWAYS("posix locking"),
	ALWAYS("blocking locks"), ALWAYS("strict locking"), ALWAYS("strict sync"), ALWAYS("sync always"),
	ALWAYS("strict rename"), ALWAYS("kernel share modes"),
	ALWAYS("veto oplock files"),
	ALWAYS("preserve case"), ALWAYS("short preserve case"), ALWAYS("default case"), ALWAYS("mangled names"),
	ALWAYS("mangling method"), ALWAYS("mangling char"), ALWAYS("unix extensions"),
	ALWAYS("smb1 unix extensions"), ALWAYS("smb3 unix extensions"), ALWAYS("msdfs root"),
	ALWAYS("msdfs proxy"), ALWAYS("host msdfs"), ALWAYS("csc policy"), ALWAYS("volume"),
	ALWAYS("administrative share"), ALWAYS("dfree command"), ALWAYS("dfree cache time"),
	ALWAYS("magic script"), ALWAYS("magic output"), ALWAYS("spotlight"), ALWAYS("fstype"),
	ALWAYS("aio read size"), ALWAYS("aio write size"), ALWAYS("aio write behind"), ALWAYS("read raw"),
	ALWAYS("write raw"), ALWAYS("socket options"), ALWAYS("min receivefile size"), ALWAYS("getwd cache"),
	ALWAYS("max xmit"), ALWAYS("max open files"), ALWAYS("keepalive"), ALWAYS("large readwrite"),
	ALWAYS("logging"), ALWAYS("syslog"), ALWAYS("syslog only"),
	ALWAYS("timestamp logs"), ALWAYS("debug timestamp"), ALWAYS("debug hires timestamp"), ALWAYS("debug pid"),
	ALWAYS("debug uid"), ALWAYS("debug prefix timestamp"), ALWAYS("debug class"),
	ALWAYS("private dir"), ALWAYS("lock directory"), ALWAYS("state directory"), ALWAYS("cache directory"),
	ALWAYS("ncalrpc dir"), ALWAYS("binddns dir"), ALWAYS("unix password sync"), ALWAYS("passwd program"),
	ALWAYS("passwd chat"), ALWAYS("passwd chat debug"), ALWAYS("pam password change"),
	ALWAYS("check password script"), ALWAYS("panic action"), ALWAYS("enable core files"),
	ALWAYS("load printers"), ALWAYS("printing"), ALWAYS("printcap name"), ALWAYS("disable spoolss"),
	ALWAYS("show add printer wizard"), ALWAYS("dns proxy"), ALWAYS("wins support"), ALWAYS("wins server"),
	ALWAYS("wins proxy"), ALWAYS("disable netbios"), ALWAYS("netbios aliases"), ALWAYS("local master"),
	ALWAYS("domain master"), ALWAYS("preferred master"), ALWAYS("os level"), ALWAYS("name resolve order"),
	ALWAYS("nmbd bind explicit broadcast"), ALWAYS("multicast dns register"), ALWAYS("hostname lookups"),
	ALWAYS("realm"), ALWAYS("kerberos method"), ALWAYS("dedicated keytab file"), ALWAYS("template shell"),
	ALWAYS("template homedir"), ALWAYS("winbind separator"), ALWAYS("winbind enum users"),
	ALWAYS("winbind enum groups"), ALWAYS("winbind use default domain"), ALWAYS("idmap backend"),
	ALWAYS("idmap uid"), ALWAYS("idmap gid"), ALWAYS("enable privileges"), ALWAYS("username level"),
	ALWAYS("unix charset"), ALWAYS("dos charset"), ALWAYS("change notify"), ALWAYS("kernel change notify"),
	ALWAYS("stat cache"), ALWAYS("use mmap"), ALWAYS("utmp"), ALWAYS("server services"),
	ALWAYS("dcerpc endpoint servers"), ALWAYS("rpc start on demand helpers"), ALWAYS("smbd:backgroundqueue"),
	ALWAYS("include system krb5 conf"), ALWAYS("client min protocol"), ALWAYS("client max protocol"),
	ALWAYS("client signing"), ALWAYS("client ipc signing"), ALWAYS("client smb encrypt"),
	ALWAYS("client ntlmv2 auth"), ALWAYS("client lanman auth"), ALWAYS("client plaintext auth"),
	ALWAYS("client use spnego"), ALWAYS("client ipc min protocol"), ALWAYS("client ipc max protocol"),
	ALWAYS("map untrusted to domain"), ALWAYS("allow trusted domains"), ALWAYS("unicode"),
	ALWAYS("nt pipe support"), ALWAYS("nt status support"), ALWAYS("defer sharing violations"),
	ALWAYS("time server"),
};

/* Booleans as Samba spells them; -1 if not one. */
static int bool_of(const char *v)
{
	static const char *const yes[] = { "yes", "true", "1", "on" };
	static const char *const no[] = { "no", "false", "0", "off" };
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i]))
			return 1;
		if (!strcasecmp(v, no[i]))
			return 0;
	}
	return -1;
}

static bool octal_is(const char *v, long want)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 8);
	return *v && !*end && !errno && x == want;
}

/* Normalized like conf_normalize, and without '-' ("AES-128-GCM, X" -> "aes128gcm,x"). */
static bool one_of(const char *vals, const char *v)
{
	char n[256];
	conf_normalize(v, n, sizeof(n));
	size_t o = 0;
	for (size_t i = 0; n[i]; i++)
		if (n[i] != '-')
			n[o++] = n[i];
	n[o] = '\0';
	size_t len = strlen(n);
	for (const char *p = vals; *p;) {
		size_t l = strcspn(p, "|");
		if (l == len && !strncmp(p, n, l))
			return true;
		p += l + (p[l] == '|');
	}
	return false;
}

static bool harmless(const struct samba_opt *o, const char *v)
{
	switch (o->when) {
	case SAFE_ALWAYS: return true;
	case SAFE_EMPTY: return !*v;
	case SAFE_NO: return bool_of(v) == 0;
	case SAFE_YES: return bool_of(v) == 1;
	case SAFE_ZERO: return octal_is(v, 0);
	case SAFE_OCTAL: return octal_is(v, o->num);
	case SAFE_ONE_OF: return one_of(o->vals, v);
	}
	return false;
}

static const struct samba_opt *find(const char *name)
{
	char want[128], have[128];
	conf_normalize(name, want, sizeof(want));
	for (size_t i = 0; i < sizeof(samba_opts) / sizeof(samba_opts[0]); i++) {
		conf_normalize(samba_opts[i].name, have, sizeof(have));
		if (!strcmp(want, have))
			return &samba_opts[i];
	}
	return NULL;
}

void conf_samba_option(struct pstate *st, const char *name, const char *value)
{
	const struct samba_opt *o = find(name);
	if (!o) {
		conf_warning(st, "unknown option '%s' ignored", name);
		return;
	}
	if (harmless(o, value)) {
		if (o->when == SAFE_ALWAYS && o->why)
			conf_warning(st, "option '%s' is not supported, ignored: %s", o->name, o->why);
		else
			conf_warning(st, "option '%s' is not supported, ignored", o->name);
		return;
	}
	conf_error(st, "'%s = %s': %s (smb3d refuses options it cannot enforce)", o->name, value, o->why);
}
