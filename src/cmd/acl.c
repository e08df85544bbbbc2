/* Stored NT ACLs: storage, access evaluation, inheritance (see acl.h). */
#undef LOG_CLASS
#define LOG_CLASS LOG_CLASS_VFS /* log lines of Samba's "vfs" class */

#include "cmd/acl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "cmd/fileops.h"
#include "cmd/secdesc.h"
#include "state/state.h"
#include "util/log.h"
#include "vfs/vfs.h"
#include "wire/cursor.h"
#include "wire/info.h"
#include "wire/samba_ntacl.h"

#define NTACL_VERSION 1
#define NTACL_HDR 4
#define NTACL_MAX 65536 /* XATTR_SIZE_MAX */

/* Root: the trusted namespace, which no client can reach through EAs (EAs
 * are user.* xattrs).  Not root: identities are not switched and only
 * user.* is writable. */
static const char *ntacl_name(void)
{
	return geteuid() == 0 ? "security.smb3d.ntacl" : "user.smb3d.ntacl";
}

/* ---- xattr access, O_PATH fds included ---- */

/* An O_PATH fd refuses f*xattr (EBADF): go through /proc/self/fd, which
 * names the same inode (the server's own identity does the call, the
 * caller has already been authorized through its open). */
struct proc_xattr {
	int fd;
	const char *name;
	void *buf;
	size_t len;
	bool set;
};

static long proc_xattr_fn(void *arg)
{
	struct proc_xattr *x = arg;
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", x->fd);
	long r = x->set ? setxattr(p, x->name, x->buf, x->len, 0)
			: getxattr(p, x->name, x->buf, x->len);
	return r < 0 ? -errno : r;
}

static ssize_t xattr_get(int fd, const char *name, void *buf, size_t len)
{
	ssize_t r = vfs_fgetxattr(NULL, fd, name, buf, len);
	if (r == -EBADF) {
		struct proc_xattr x = { fd, name, buf, len, false };
		r = vfs_call(NULL, proc_xattr_fn, &x);
	}
	return r;
}

static ssize_t ntacl_get(int fd, void *buf, size_t len)
{
	return xattr_get(fd, ntacl_name(), buf, len);
}

/* A share moved from Samba (vfs objects = acl_xattr) keeps its descriptors
 * in security.NTACL: read, never written, and only ever a further limit on
 * top of the unix permissions (samba_ntacl.h), so a file Samba protected
 * stays protected.  0, or -ENODATA. */
static int samba_ntacl_load(int fd, uint8_t *b, struct acl_stored *out)
{
	if (geteuid() != 0)
		return -ENODATA; /* only root sees what Samba (as root) stored */
	uint8_t *raw = malloc(NTACL_MAX);
	if (!raw)
		return -ENODATA;
	ssize_t n = xattr_get(fd, SAMBA_NTACL_XATTR, raw, NTACL_MAX);
	size_t sd_len = 0;
	const char *why = "not a Samba xattr_NTACL of version 1 to 4";
	int located = n < 0 ? -1 : wire_samba_ntacl_sd(raw, (size_t)n, b, NTACL_MAX, &sd_len);
	free(raw);
	if (n < 0)
		return -ENODATA;
	if (located < 0 || wire_sd_decode(b, sd_len, &out->sd, &why) < 0) {
		/* fail closed: a descriptor we cannot read grants nothing */
		log_warn("Samba's NT ACL (security.NTACL) not understood: %s; access refused", why);
		static const uint8_t deny_all[] = { 1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						     20, 0, 0, 0, 2, 0, 8, 0, 0, 0, 0, 0 };
		memcpy(b, deny_all, sizeof(deny_all)); /* a DACL with no ACE: nobody but the owner's rights */
		wire_sd_decode(b, sizeof(deny_all), &out->sd, &why);
		out->len = sizeof(deny_all);
		return 0;
	}
	out->len = sd_len;
	return 0;
}


static int xattr_put(int fd, const char *name, const void *buf, size_t len)
{
	int r = vfs_fsetxattr(NULL, fd, name, buf, len, 0);
	if (r == -EBADF) {
		struct proc_xattr x = { fd, name, (void *)buf, len, true };
		r = (int)vfs_call(NULL, proc_xattr_fn, &x);
	}
	return r;
}

struct proc_rm {
	int fd;
	const char *name;
};

static long proc_rm_fn(void *arg)
{
	struct proc_rm *x = arg;
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", x->fd);
	return removexattr(p, x->name) < 0 ? -errno : 0;
}

/* "vfs objects = acl_xattr" (as root): the descriptor in Samba's
 * security.NTACL (version 1, which Samba reads as it is), and smb3d's own
 * copy removed so the two never disagree.  -errno. */
static int store_samba(int fd, const uint8_t *sd, size_t len)
{
	uint8_t *b = malloc(NTACL_MAX);
	if (!b)
		return -ENOMEM;
	size_t n = wire_samba_ntacl_encode_v1(sd, len, b, NTACL_MAX);
	int r = n ? xattr_put(fd, SAMBA_NTACL_XATTR, b, n) : -E2BIG;
	free(b);
	if (r == 0) {
		struct proc_rm x = { fd, ntacl_name() };
		long rr = vfs_call(NULL, proc_rm_fn, &x);
		if (rr < 0 && rr != -ENODATA)
			log_warn("removing smb3d's NT ACL copy: %s", strerror((int)-rr));
	}
	return r;
}

static int ntacl_put(int fd, const void *buf, size_t len)
{
	return xattr_put(fd, ntacl_name(), buf, len);
}

/* Store a descriptor already validated (or built by us); `samba`: in
 * Samba's format (store_samba). */
static int store_sd(int fd, const struct wire_sd *sd, bool samba)
{
	size_t need = wire_sd_encode(sd, NULL, 0);
	if (need > NTACL_MAX - NTACL_HDR)
		return -E2BIG;
	uint8_t *b = calloc(1, NTACL_HDR + need);
	if (!b)
		return -ENOMEM;
	b[0] = NTACL_VERSION;
	wire_sd_encode(sd, b + NTACL_HDR, need);
	int r = samba && geteuid() == 0 ? store_samba(fd, b + NTACL_HDR, need) : ntacl_put(fd, b, NTACL_HDR + need);
	free(b);
	return r;
}

int acl_load(int fd, struct acl_stored *out)
{
	memset(out, 0, sizeof(*out));
	uint8_t *b = malloc(NTACL_MAX);
	if (!b)
		return -ENOMEM;
	ssize_t n = ntacl_get(fd, b, NTACL_MAX);
	if ((n == -ENODATA || n == -EOPNOTSUPP) && samba_ntacl_load(fd, b, out) == 0) {
		out->buf = b;
		return 0;
	}
	if (n < 0) {
		free(b);
		return n == -ENODATA || n == -EOPNOTSUPP ? -ENODATA : (int)n;
	}
	const char *why = "version";
	if (n < NTACL_HDR || b[0] != NTACL_VERSION ||
	    wire_sd_decode(b + NTACL_HDR, (size_t)n - NTACL_HDR, &out->sd, &why) < 0) {
		log_warn("stored NT ACL ignored: %s", why);
		free(b);
		memset(out, 0, sizeof(*out));
		return -ENODATA;
	}
	out->buf = b;
	out->len = (size_t)n;
	return 0;
}

void acl_stored_free(struct acl_stored *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

/* ---- the user's SIDs ---- */

#define AUTH_WORLD 1
#define AUTH_CREATOR 3
#define AUTH_NT 5
#define AUTH_UNIX 22
#define GENERIC_BITS (GENERIC_ALL | GENERIC_EXECUTE | GENERIC_WRITE | GENERIC_READ) /* S-1-22-1-<uid> unix user, S-1-22-2-<gid> unix group */

/* The authority of a SID (valid, per wire_sid_len) when it fits in a byte,
 * else -1. */
static int sid_auth(const uint8_t *sid)
{
	for (int i = 2; i < 7; i++)
		if (sid[i])
			return -1;
	return sid[7];
}

static bool sid_is(const uint8_t *sid, size_t len, int auth, uint32_t sub0)
{
	return len == 12 && sid_auth(sid) == auth && get_le32(sid + 8) == sub0;
}

/* Is the SID one of the session user's ([MS-DTYP] 2.5.3.2 token)? */
static bool token_has(const struct token *s, const uint8_t *sid, size_t len)
{
	if (sid_is(sid, len, AUTH_WORLD, 0))
		return true; /* Everyone */
	if (sid_is(sid, len, AUTH_NT, 11))
		return s->authenticated; /* Authenticated Users */
	if (len != 16 || sid_auth(sid) != AUTH_UNIX)
		return false;
	uint32_t kind = get_le32(sid + 8), id = get_le32(sid + 12);
	if (kind == 1)
		return id == (uint32_t)s->uid;
	if (kind != 2)
		return false;
	if (id == (uint32_t)s->gid)
		return true;
	for (int i = 0; i < s->n_groups; i++)
		if (id == (uint32_t)s->groups[i])
			return true;
	return false;
}

uint32_t acl_access(const struct token *s, const struct wire_sd *sd)
{
	if (!(sd->control & SE_DACL_PRESENT) || !sd->dacl)
		return FILE_ALL_ACCESS; /* NULL DACL: no protection */
	uint32_t granted = 0, denied = 0;
	bool owner = sd->owner && token_has(s, sd->owner, sd->owner_len);
	struct wire_acl_iter it;
	struct wire_ace ace;
	/* MS-DTYP 2.5.3.2: the owner may always read and change the DACL,
	 * unless the DACL has an OWNER RIGHTS (S-1-3-4) ACE: then that ACE
	 * says what the owner gets (smbtorture smb2.acls.OWNER-RIGHTS*). */
	bool owner_rights = false;
	wire_acl_iter_init(&it, sd->dacl, sd->dacl_len);
	while (wire_acl_iter_next(&it, &ace))
		if (!(ace.flags & ACE_INHERIT_ONLY) && ace.sid && sid_is(ace.sid, ace.sid_len, AUTH_CREATOR, 4))
			owner_rights = true;
	if (owner && !owner_rights)
		granted |= READ_CONTROL | WRITE_DAC;
	wire_acl_iter_init(&it, sd->dacl, sd->dacl_len);
	while (wire_acl_iter_next(&it, &ace)) {
		if ((ace.flags & ACE_INHERIT_ONLY) || !ace.sid)
			continue;
		if (!token_has(s, ace.sid, ace.sid_len) && !(owner && sid_is(ace.sid, ace.sid_len, AUTH_CREATOR, 4)))
			continue;
		uint32_t m = fileops_map_generic(ace.mask) & FILE_ALL_ACCESS;
		if (ace.type == ACE_ACCESS_ALLOWED)
			granted |= m & ~denied;
		else if (ace.type == ACE_ACCESS_DENIED)
			denied |= m & ~granted;
	}
	return granted;
}

int acl_load_parent(const struct vfs_ident *id, int root, const char *parent,
		    struct acl_stored *psd)
{
	memset(psd, 0, sizeof(*psd));
	int pfd = vfs_open(id, root, parent ? parent : "", O_PATH | O_DIRECTORY, 0);
	if (pfd < 0)
		return pfd;
	int r = acl_load(pfd, psd);
	vfs_close(pfd);
	return r;
}

uint32_t acl_open_limit(const struct token *s, const struct vfs_ident *id, int root,
			const char *parent, int fd)
{
	struct acl_stored a;
	if (acl_load(fd, &a) < 0)
		return ~0u;
	uint32_t m = acl_access(s, &a.sd);
	acl_stored_free(&a);
	if ((m & (DELETE_ACCESS | FILE_READ_ATTRIBUTES)) != (DELETE_ACCESS | FILE_READ_ATTRIBUTES) && parent) {
		/* MS-FSA 2.1.5.1.2.1: DELETE_CHILD on the parent allows DELETE,
		 * FILE_LIST_DIRECTORY allows FILE_READ_ATTRIBUTES; a parent
		 * without a stored DACL leaves both to the unix check */
		struct acl_stored p;
		int r = acl_load_parent(id, root, parent, &p);
		uint32_t pm = r == -ENODATA ? FILE_ALL_ACCESS : r == 0 ? acl_access(s, &p.sd) : 0;
		if (pm & FILE_DELETE_CHILD)
			m |= DELETE_ACCESS;
		if (pm & FILE_READ_DATA)
			m |= FILE_READ_ATTRIBUTES;
		if (r == 0)
			acl_stored_free(&p);
	}
	return m | ~FILE_ALL_ACCESS;
}

bool acl_create_allowed(const struct token *s, const struct acl_stored *psd, bool is_dir)
{
	/* FILE_ADD_FILE = FILE_WRITE_DATA, FILE_ADD_SUBDIRECTORY = FILE_APPEND_DATA */
	uint32_t need = is_dir ? FILE_APPEND_DATA : FILE_WRITE_DATA;
	return (acl_access(s, &psd->sd) & need) == need;
}

/* ---- inheritance ([MS-DTYP] 2.5.3.4.2 ComputeInheritedACLFromParent) ---- */

static size_t inherit_acl(const struct wire_sd *parent, bool is_dir, const uint8_t *owner,
			  size_t owner_len, const uint8_t *group, size_t group_len, uint8_t *buf,
			  size_t cap)
{
	struct wire_acl_builder b;
	wire_acl_begin(&b, buf, cap);
	/* inherited ACEs are marked so only under a parent whose DACL is
	 * auto-inherited ([MS-DTYP] 2.5.3.4.2 DACL_AUTO_INHERIT; smbtorture
	 * smb2.acls.INHERITANCE/INHERITFLAGS) */
	uint8_t inh = (parent->control & SE_DACL_AUTO_INHERITED) ? ACE_INHERITED : 0;
	struct wire_acl_iter it;
	struct wire_ace ace;
	wire_acl_iter_init(&it, parent->dacl, parent->dacl_len);
	while (wire_acl_iter_next(&it, &ace)) {
		uint8_t f = ace.flags;
		bool applies = is_dir ? (f & ACE_CONTAINER_INHERIT) : (f & ACE_OBJECT_INHERIT);
		/* a directory passes the ACE on unless NO_PROPAGATE */
		bool passes = is_dir && (f & (ACE_OBJECT_INHERIT | ACE_CONTAINER_INHERIT)) &&
			      !(f & ACE_NO_PROPAGATE_INHERIT);
		if (!applies && !passes)
			continue;
		const uint8_t *sid = ace.sid;
		size_t sid_len = ace.sid_len;
		bool creator = sid && (sid_is(sid, sid_len, AUTH_CREATOR, 0) ||
				       sid_is(sid, sid_len, AUTH_CREATOR, 1));
		bool generic = ace.raw[0] <= ACE_ACCESS_DENIED && (ace.mask & GENERIC_BITS);
		if (applies && passes && !creator && !generic) {
			/* one ACE both effective here and inherited further */
			wire_acl_add_raw(&b, &ace, (uint8_t)((f & ~ACE_INHERIT_ONLY) | inh));
			continue;
		}
		if (applies) {
			/* effective on this object only, CREATOR OWNER/GROUP
			 * replaced by the creator's SIDs */
			if (creator && sid_is(sid, sid_len, AUTH_CREATOR, 0)) {
				sid = owner;
				sid_len = owner_len;
			} else if (creator) {
				sid = group;
				sid_len = group_len;
			}
			/* the effective copy has its generic rights mapped, the
			 * inheritable one keeps them (as Windows) */
			if (sid && ace.raw[0] <= ACE_ACCESS_DENIED)
				wire_acl_add(&b, ace.type, inh, fileops_map_generic(ace.mask), sid, sid_len);
			else
				wire_acl_add_raw(&b, &ace, inh);
		}
		if (passes) /* kept for the children only */
			wire_acl_add_raw(&b, &ace,
					 (uint8_t)((f & (ACE_OBJECT_INHERIT | ACE_CONTAINER_INHERIT)) |
						   ACE_INHERIT_ONLY | inh));
	}
	if (b.count == 0)
		return 0;
	return wire_acl_finish(&b);
}

int acl_inherit(const struct token *s, const struct acl_stored *psd, bool is_dir, int fd)
{
	if (!psd->sd.dacl)
		return 0;
	uint8_t owner[WIRE_SID_MAX], group[WIRE_SID_MAX];
	uint32_t ou[2] = { 1, (uint32_t)s->uid }, gu[2] = { 2, (uint32_t)s->gid };
	size_t olen = wire_sid_make(owner, AUTH_UNIX, ou, 2);
	size_t glen = wire_sid_make(group, AUTH_UNIX, gu, 2);
	uint8_t *acl = malloc(65535);
	if (!acl)
		return -ENOMEM;
	size_t n = inherit_acl(&psd->sd, is_dir, owner, olen, group, glen, acl, 65535);
	int r = 0;
	if (n) {
		struct wire_sd sd = {
			.control = SE_DACL_PRESENT | (psd->sd.control & SE_DACL_AUTO_INHERITED),
			.owner = owner, .owner_len = olen,
			.group = group, .group_len = glen,
			.dacl = acl, .dacl_len = n,
		};
		r = store_sd(fd, &sd, s->samba_acls);
	}
	free(acl);
	return r;
}

/* ---- SET_INFO / QUERY_INFO ---- */

/* The DACL as stored: generic rights of the ACEs that apply to the object
 * itself mapped to the file rights ([MS-DTYP] 2.5.3.4 / Windows; smbtorture
 * smb2.acls.CREATOR/GENERIC); inherit-only ACEs keep them for the
 * children.  The length into buf[cap], or 0 when nothing changes. */
static size_t map_generic_acl(const uint8_t *dacl, size_t dacl_len, uint8_t *buf, size_t cap)
{
	struct wire_acl_builder b;
	struct wire_acl_iter it;
	struct wire_ace ace;
	bool changed = false;
	wire_acl_begin(&b, buf, cap);
	wire_acl_iter_init(&it, dacl, dacl_len);
	while (wire_acl_iter_next(&it, &ace)) {
		if (ace.sid && ace.raw[0] <= ACE_ACCESS_DENIED && !(ace.flags & ACE_INHERIT_ONLY) &&
		    (ace.mask & GENERIC_BITS)) {
			wire_acl_add(&b, ace.type, ace.flags, fileops_map_generic(ace.mask), ace.sid, ace.sid_len);
			changed = true;
		} else {
			wire_acl_add_raw(&b, &ace, ace.flags);
		}
	}
	return changed ? wire_acl_finish(&b) : 0;
}

/* The base of a SET_INFO: the stored descriptor, else the one derived
 * from unix (its buffer in *derived, the caller frees it). */
static NTSTATUS acl_base(int fd, struct acl_stored *base, uint8_t **derived)
{
	*derived = NULL;
	int r = acl_load(fd, base);
	if (r != -ENODATA)
		return r < 0 ? vfs_nt_status(r) : STATUS_SUCCESS;
	struct statx st;
	r = vfs_statx(NULL, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &st);
	if (r < 0)
		return vfs_nt_status(r);
	uint32_t all = OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
	bool dir = S_ISDIR(st.stx_mode);
	size_t need = secdesc_build(st.stx_uid, st.stx_gid, st.stx_mode, dir, all, NULL, 0);
	*derived = malloc(need);
	if (!*derived)
		return STATUS_NO_MEMORY;
	secdesc_build(st.stx_uid, st.stx_gid, st.stx_mode, dir, all, *derived, need);
	if (wire_sd_decode(*derived, need, &base->sd, NULL) < 0) {
		free(*derived);
		*derived = NULL;
		return STATUS_INTERNAL_ERROR;
	}
	return STATUS_SUCCESS;
}

/* The DACL part of a SET_INFO into m; `mapped` (65535 bytes) holds a DACL
 * rewritten with its generic rights mapped. */
static void merge_dacl(struct wire_sd *m, const struct wire_sd *nsd, uint8_t *mapped)
{
	m->dacl = nsd->dacl;
	m->dacl_len = nsd->dacl_len;
	/* A DACL set without SE_DACL_PRESENT is a NULL DACL, stored as one
	 * (Windows; smbtorture smb2.create.nulldacl): no further limit on top
	 * of the unix permissions. */
	m->control = (m->control & ~SE_DACL_BITS) | (nsd->control & SE_DACL_BITS) | SE_DACL_PRESENT;
	/* AUTO_INHERITED is kept only when asked for with AUTO_INHERIT_REQ,
	 * which is a request, never stored (Windows; smb2.acls.INHERITFLAGS) */
	if (!(nsd->control & SE_DACL_AUTO_INHERIT_REQ))
		m->control &= ~SE_DACL_AUTO_INHERITED;
	m->control &= ~SE_DACL_AUTO_INHERIT_REQ;
	size_t ml = m->dacl ? map_generic_acl(m->dacl, m->dacl_len, mapped, 65535) : 0;
	if (ml) {
		m->dacl = mapped;
		m->dacl_len = ml;
	}
}

NTSTATUS acl_set(const struct token *s, int fd, uint32_t secinfo, const uint8_t *in, size_t in_len)
{
	struct wire_sd nsd;
	const char *why = NULL;
	if (wire_sd_decode(in, in_len, &nsd, &why) < 0) {
		log_debug("SET_INFO security: invalid descriptor: %s", why);
		return STATUS_INVALID_SECURITY_DESCR;
	}
	if ((secinfo & OWNER_SECURITY_INFORMATION) && !nsd.owner)
		return STATUS_INVALID_OWNER;
	struct acl_stored base;
	uint8_t *derived;
	NTSTATUS st = acl_base(fd, &base, &derived);
	if (st != STATUS_SUCCESS)
		return st;
	struct wire_sd m = base.sd;
	uint8_t *mapped = malloc(65535);
	int r = 0;
	if (!mapped) {
		st = STATUS_NO_MEMORY;
		goto out;
	}
	/* [MS-DTYP] 2.5.3 / Windows: the new owner must be the user or one of
	 * its groups (no SeRestorePrivilege here), unless it is unchanged. */
	if ((secinfo & OWNER_SECURITY_INFORMATION) && s->uid != 0 &&
	    !wire_sid_equal(nsd.owner, nsd.owner_len, base.sd.owner, base.sd.owner_len) &&
	    !token_has(s, nsd.owner, nsd.owner_len)) {
		st = STATUS_INVALID_OWNER;
		goto out;
	}
	if (secinfo & OWNER_SECURITY_INFORMATION) {
		m.owner = nsd.owner;
		m.owner_len = nsd.owner_len;
		m.control = (m.control & ~SE_OWNER_DEFAULTED) | (nsd.control & SE_OWNER_DEFAULTED);
	}
	if (secinfo & GROUP_SECURITY_INFORMATION) {
		m.group = nsd.group;
		m.group_len = nsd.group_len;
		m.control = (m.control & ~SE_GROUP_DEFAULTED) | (nsd.control & SE_GROUP_DEFAULTED);
	}
	if (secinfo & DACL_SECURITY_INFORMATION)
		merge_dacl(&m, &nsd, mapped);
	if (secinfo & SACL_SECURITY_INFORMATION) {
		m.sacl = nsd.sacl;
		m.sacl_len = nsd.sacl_len;
		m.control = (m.control & ~SE_SACL_BITS) | (nsd.control & SE_SACL_BITS);
	}
	r = store_sd(fd, &m, s->samba_acls);
	st = r == -E2BIG || r == -ENOSPC ? STATUS_INSUFFICIENT_RESOURCES : r < 0 ? vfs_nt_status(r) : STATUS_SUCCESS;
out:
	free(mapped);
	free(derived);
	acl_stored_free(&base);
	return st;
}

size_t acl_query(const struct wire_sd *sd, uint32_t secinfo, uint8_t *buf, size_t cap)
{
	static const uint8_t empty_acl[WIRE_ACL_HEADER] = { WIRE_ACL_REVISION, 0, WIRE_ACL_HEADER, 0 };
	struct wire_sd o = { .control = 0 };
	if (secinfo & OWNER_SECURITY_INFORMATION) {
		o.owner = sd->owner;
		o.owner_len = sd->owner_len;
		o.control |= sd->control & SE_OWNER_DEFAULTED;
	}
	if (secinfo & GROUP_SECURITY_INFORMATION) {
		o.group = sd->group;
		o.group_len = sd->group_len;
		o.control |= sd->control & SE_GROUP_DEFAULTED;
	}
	if (secinfo & DACL_SECURITY_INFORMATION) {
		o.dacl = sd->dacl;
		o.dacl_len = sd->dacl_len;
		o.control |= sd->control & SE_DACL_BITS;
	}
	if (secinfo & SACL_SECURITY_INFORMATION) {
		/* as the derived descriptor: an empty SACL when none is stored */
		o.sacl = sd->sacl ? sd->sacl : empty_acl;
		o.sacl_len = sd->sacl ? sd->sacl_len : sizeof(empty_acl);
		o.control |= (sd->control & SE_SACL_BITS) | SE_SACL_PRESENT;
	}
	return wire_sd_encode(&o, buf, cap);
}
