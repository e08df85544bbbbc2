/* smb.conf-syntax configuration (parsed with inih) turned into an immutable
 * snapshot.  A reload builds a new snapshot and swaps the pointer; readers
 * hold a reference while they use one (conf_get / conf_put). */
#ifndef SMB3D_CONF_H
#define SMB3D_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/log.h"

enum conf_tristate { CONF_OFF = 0, CONF_AUTO = 1, CONF_DESIRED = 1, CONF_MANDATORY = 2, CONF_REQUIRED = 2 };
enum conf_map_to_guest { MAP_GUEST_NEVER = 0, MAP_GUEST_BAD_USER, MAP_GUEST_BAD_PASSWORD };
enum conf_io_backend { IO_BACKEND_URING = 0, IO_BACKEND_THREADS };
enum conf_inherit_owner { INHERIT_OWNER_NO = 0, INHERIT_OWNER_WINDOWS_AND_UNIX, INHERIT_OWNER_UNIX_ONLY };

/* A list option as written, split on blanks and commas, quotes removed. */
struct conf_list {
	char **v;
	size_t n;
};

/* SMB dialect numbers as on the wire: 0x0202 0x0210 0x0300 0x0302 0x0311 */

struct conf_share {
	char *name;        /* section name as written (case kept; lookups ignore case) */
	char *path;        /* absolute; NULL for IPC$ */
	char *comment;
	bool ipc;          /* the built-in IPC$ share */
	bool read_only;    /* "read only" (default yes, as Samba); "writable"/"writeable"/"write ok" invert it */
	bool guest_ok;     /* "guest ok" / "public" */
	bool browseable;   /* "browseable" / "browsable" (default yes) */
	int smb_encrypt;   /* -1 = inherit global, else enum conf_tristate (off/desired/required) */
	char **valid_users; /* NULL = everyone; entries as written (user names; "@group" kept as is) */
	size_t n_valid_users;
	bool case_insensitive; /* "case sensitive = no" (default) -> true */
	bool strict_allocate;  /* "strict allocate": preallocate what clients ask for (default no) */
	bool durable_handles;  /* "durable handles": grant DHnQ/DH2Q (default yes) */
	bool oplocks;          /* "oplocks" (default yes): no = no oplock and no lease on this share */
	bool level2_oplocks;   /* "level2 oplocks" (default yes): no = no shared read caching (level II, R and RH leases) */
	bool available;    /* "available" (default yes): no = the share refuses every tree connect */
	int max_connections; /* "max connections" in a share section: tree connects to it, 0 = no limit */
	/* User lists, entries as in "valid users" (names, "@group", "+group", "&group"). */
	struct conf_list invalid_users; /* refused even when "valid users" names them */
	struct conf_list read_list;     /* read-only for these users */
	struct conf_list write_list;    /* read-write for these users, even on a "read only" share (wins over read list) */
	/* Share-level "hosts allow" / "hosts deny", checked at tree connect
	 * (the [global] ones are struct conf's, checked at accept). */
	struct conf_list hosts_allow, hosts_deny;
	/* Modes of new files and directories (Samba's unix_mode()):
	 * file = (0666 | 0100 with map_archive) & create_mask | force_create_mode
	 * (a new file has the archive attribute, which Samba maps to u+x),
	 * directory = 0777 & directory_mask | force_directory_mode;
	 * with inherit_permissions the parent directory's mode instead
	 * (without execute bits for files). */
	unsigned create_mask;          /* "create mask" / "create mode", default 0744 */
	unsigned directory_mask;       /* "directory mask" / "directory mode", default 0755 */
	unsigned force_create_mode;    /* default 0 */
	unsigned force_directory_mode; /* default 0 */
	bool inherit_permissions;      /* default no */
	bool inherit_acls;             /* "inherit acls": under a directory with a default POSIX ACL,
	                                  0777 & the masks, so the ACL is not cut down (default no) */
	bool map_archive;              /* "map archive", default yes */
	/* "force group": new files and directories get this group
	 * ("+group": only those made by members of it); -1 = none */
	long force_gid;
	bool force_group_members_only;
	/* "inherit owner": new files and directories are owned by their parent
	 * directory's owner (unix only, or also as their NT ACL's owner) */
	int inherit_owner;             /* enum conf_inherit_owner */
	/* "force user": operations on the share run as this unix user (with
	 * its primary group, unless "force group", and its groups), once the
	 * connecting user has passed the share's user lists; -1 = none */
	long force_uid;
	/* "admin users": these connecting users (names, @group, +group) act as
	 * root on the share (uid 0; their groups stay), as Samba */
	struct conf_list admin_users;
	/* "vfs objects": the Samba modules whose on-disk formats smb3d
	 * implements; any other module is a configuration error */
	bool streams_xattr;            /* named streams in user.DosStream.* xattrs, not the depot */
	bool acl_xattr;                /* NT ACLs also written in Samba's security.NTACL */
	/* Name patterns ('*' and '?'), from Samba's "/a/b*c/" syntax. */
	struct conf_list veto_files;   /* unreachable by any path and never listed */
	struct conf_list hide_files;   /* listed with FILE_ATTRIBUTE_HIDDEN */
	bool hide_dot_files;           /* names starting with '.' are hidden (default yes) */
	bool hide_unreadable;          /* files the user cannot read are not listed */
	bool delete_veto_files;        /* a directory holding only vetoed names can be deleted, and takes them along */
};

struct conf_iface {        /* one entry of "interfaces" */
	char *name;        /* interface name, IP address or CIDR as written, quotes removed */
	uint32_t if_index; /* 0 = not given */
	uint64_t speed;    /* bits/s, 0 = not given */
	bool rss, rdma;    /* "capability=RSS" / "capability=RDMA" */
};

struct conf {
	char *path;                 /* file it was read from */
	/* [global] */
	char *netbios_name;         /* "netbios name", default: hostname upper-cased, max 15 */
	char *workgroup;            /* "workgroup", default WORKGROUP */
	char *server_string;        /* "server string", default "smb3d" */
	uint16_t ports[8];          /* "smb ports", default 445 */
	size_t n_ports;
	struct conf_iface *ifaces;  /* "interfaces" */
	size_t n_ifaces;
	bool bind_interfaces_only;
	bool obey_pam_restrictions; /* a logon also passes PAM account management (service "samba") */
	uint16_t min_protocol;      /* "server min protocol": SMB2_02, SMB2_10, SMB3_00, SMB3_02, SMB3_11,
	                               also SMB2 (=2.0.2 min / 3.1.1 max), SMB3 (=3.0 min / 3.1.1 max); default SMB2_02 */
	uint16_t max_protocol;      /* default SMB3_11 */
	int server_signing;         /* auto (default) / mandatory / disabled(=off); "required" = mandatory */
	int smb_encrypt;            /* off / desired / required (default off); "auto"/"default" = off,
	                               "mandatory" = required, "if_required" = desired */
	bool multi_channel;         /* "server multi channel support", default yes */
	bool smb2_leases;           /* "smb2 leases", default yes: SMB2_GLOBAL_CAP_LEASING (2.1 and later) */
	bool dir_leases;            /* "smb3 directory leases", default yes: SMB2_GLOBAL_CAP_DIRECTORY_LEASING (3.x, with smb2 leases) */
	char *passdb_path;          /* from "passdb backend = smbpasswd:PATH"; default /etc/smb3d/smbpasswd */
	int map_to_guest;           /* "Never" (default) / "Bad User" / "Bad Password" */
	char *guest_account;        /* default "nobody" */
	int log_level;              /* 0 error,1 warn(default)... as Samba's "log level" first number */
	int log_class_level[LOG_CLASS_N]; /* "log level = 1 auth:3": -1 follows log_level */
	char *log_file;             /* "log file": NULL = stderr; "%m" becomes "smb3d" */
	int max_log_size;           /* "max log size" KiB before PATH.old, 0 = no limit (default 5000) */
	int io_backend;             /* "io backend": io_uring (default) / threads */
	int workers;                /* "worker threads", 0 = one per CPU */
	uint32_t max_credits;       /* "smb2 max credits", default 8192 */
	uint32_t max_io_size;       /* "smb2 max read/write/trans", default 8 MiB */
	int max_connections;        /* "max connections", 0 = unlimited (default) */
	int deadtime;               /* "deadtime" minutes idle before disconnect with no opens, 0 = never (default) */
	int negotiate_timeout;      /* "negotiate timeout" seconds, default 20 */
	int pdu_timeout;            /* "pdu timeout": seconds for one PDU once it began, 0 = none, default 60 */
	int oplock_break_timeout;   /* "smb3d:oplock break timeout": seconds a break waits for its ack, default 35 */
	bool disable_lock_sequence_checking; /* "smb2 disable lock sequence checking": only durable and
	                               resilient opens detect LOCK replays (Windows), default no */
	int durable_timeout;        /* "smb3d:durable handle timeout": most seconds a v2 durable open waits detached, default 300 */
	int replay_outcome_timeout; /* "smb3d:replay outcome timeout": seconds the outcome of a request whose
	                               channel died answers its replay (state/outcome.h), default 60 */
	bool disable_oplock_break_retry; /* "smb2 disable oplock break retry": an oplock break goes once to
	                               the newest channel, never retried (Windows), default no */
	bool fsctl_smbtorture;      /* "smbd:FSCTL_SMBTORTURE": Samba's smbtorture test FSCTLs, default no */
	int max_unauth_conns;       /* "max unauthenticated connections", 0 = no bound, default 1024 */
	int max_open_files;         /* "max open files": opens in the server, 0 = from RLIMIT_NOFILE (default) */
	int max_open_files_session; /* "max open files per session", default 16384 */
	int max_open_files_user;    /* "max open files per user" (all sessions of one uid), default 65536 */
	int max_tree_connects;      /* "max tree connects per session", default 1024 */
	int max_sessions_conn;      /* "max sessions per connection", default 1024 */
	bool null_session;          /* "restrict anonymous" = 0 (default) allows anonymous sessions */
	char *control_socket;       /* "control socket", default /run/smb3d/control.sock */
	char *pid_dir;              /* "pid directory"; NULL = the control socket's directory (/run/smb3d) */
	int metrics_port;           /* "metrics port", 0 = off */
	char **hosts_allow;         /* "hosts allow" / "allow hosts": addresses, a.b.c. prefixes, CIDR, ALL */
	size_t n_hosts_allow;
	char **hosts_deny;          /* "hosts deny" / "deny hosts" (hosts allow wins, as in Samba) */
	size_t n_hosts_deny;
	bool use_sendfile;          /* "use sendfile": plain READs spliced file -> socket (default no) */
	int ring_entries;           /* "io_uring ring size", SQ entries per worker (default 1024) */
	bool sqpoll;                /* "io_uring sqpoll" (default no) */
	bool fixed_buffers;         /* "io_uring registered buffers" (default yes) */
	int buffer_pool_mb;         /* "buffer pool size": MiB of I/O buffers kept per thread (default 64) */
	bool case_insensitive_default;
	/* [homes]: a template, not a share; a tree connect to a unix user's
	 * name (not otherwise a share) serves that user's home directory with
	 * these settings (NULL = no [homes] section) */
	struct conf_share *homes;
	/* shares; index 0 is always IPC$ (added automatically if not declared) */
	struct conf_share *shares;
	size_t n_shares;
	/* private: references held (the loader's, conf_current_*); atomic */
	unsigned refcount;
};

/* Parse `path`.  On success returns a snapshot (refcount 1).  On failure
 * returns NULL and writes one line per error, each naming the file and line
 * ("smb.conf:12: unknown value 'maybe' for 'read only'"), to `err`.
 * Unknown options produce a warning line on `warn` (may be NULL) and are
 * otherwise ignored. */
struct conf *conf_load(const char *path, FILE *err, FILE *warn);
/* Same from a string (for tests); `name` is used in messages. */
struct conf *conf_load_string(const char *text, const char *name, FILE *err, FILE *warn);
void conf_free(struct conf *c);

/* The pid file, "<pid directory>/smb3d.pid", into buf; false if too long. */
bool conf_pid_file(const struct conf *c, char *buf, size_t size);

/* Samba's % substitutions (conf/subst.c): values for the variables; a NULL
 * one leaves its variable as written.  The result is malloc'd. */
struct conf_subst {
	const char *user, *group, *share, *home; /* %U %u, %G %g, %S, %H */
	const char *hostname, *netbios_name;     /* %h, %L */
	const char *client;                      /* %I, %m */
};
char *conf_subst(const char *in, const struct conf_subst *s);
bool conf_has_subst(const char *in);

/* Samba's name of a debug class of smb3d (LOG_CLASS_AUTH: "auth"). */
const char *conf_log_class_name(int cls);

/* Print the effective settings in smb.conf syntax, like `testparm -s`. */
void conf_dump(const struct conf *c, FILE *out);

/* May a client at this address connect ("hosts allow" / "hosts deny")? */
struct sockaddr;
bool conf_host_allowed(const struct conf *c, const struct sockaddr *sa);

/* The share-level "hosts allow" / "hosts deny". */
bool conf_share_host_allowed(const struct conf_share *s, const struct sockaddr *sa);

/* Case-insensitive share lookup; NULL if absent. */
const struct conf_share *conf_share_find(const struct conf *c, const char *name);
/* Is `user` allowed by the share's "valid users" (NULL list = yes)? */
bool conf_share_user_ok(const struct conf_share *s, const char *user);
/* Tree-connect access decision for an authenticated user (Samba's order):
 * refused if named by "invalid users" or not by "valid users"; otherwise
 * *read_only is the share's "read only", set by "read list", cleared by
 * "write list".  Returns false when refused, with *why a static reason. */
bool conf_share_access(const struct conf_share *s, const char *user, bool *read_only, const char **why);
/* Does `l` name `user` (directly or through a group)? */
bool conf_list_has_user(const struct conf_list *l, const char *user);

/* A deep copy of a share's settings (for a tree connect), and its free. */
struct conf_share *conf_share_dup(const struct conf_share *s);
void conf_share_free(struct conf_share *s);

/* The process-wide current snapshot, reference counted so a reload can swap
 * it while requests still use the old one. */
struct conf *conf_current_get(void);   /* takes a reference */
void conf_current_put(struct conf *c); /* drops it */
void conf_current_set(struct conf *c); /* installs c (takes ownership) and drops the old */

#endif
