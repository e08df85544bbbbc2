/* SMB2 SET_INFO ([MS-SMB2] 3.3.5.21): times and attributes, size, rename,
 * hard links, delete disposition, position/mode, EAs and (accepted but not
 * mapped) security descriptors.  Per-class semantics follow [MS-FSA]
 * 2.1.5.14. */
#include "mc/lease.h"
#include "mc/oplock.h"
#include "cmd/change_notify.h"
#include "cmd/alloc.h"
#include "cmd/cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sysmacros.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "cmd/create_int.h"
#include "cmd/fileops.h"
#include "cmd/share_policy.h"
#include "cmd/streams.h"
#include "cmd/acl.h"
#include "cmd/secdesc.h"
#include "state/open.h"
#include "util/log.h"
#include "util/nttime.h"
#include "vfs/dosattr.h"
#include "vfs/vfs.h"
#include "wire/fscc.h"
#include "wire/info.h"

#define NT_TIME_STOP_UPDATING UINT64_MAX          /* -1 */
#define NT_TIME_RESUME_UPDATING (UINT64_MAX - 1)   /* -2 */

/* FileModeInformation bits settable by SET_INFO (MS-FSCC 2.4.31) */
#define FILE_MODE_SETTABLE (0x2u | 0x4u | 0x8u | 0x10u | 0x20u)

static const struct vfs_ident *ident_of(struct smb2_req *req)
{
	return req->tree ? req->tree->tok.ident : NULL;
}

static NTSTATUS decode_status(int r)
{
	return r == -EMSGSIZE ? STATUS_INFO_LENGTH_MISMATCH : STATUS_INVALID_PARAMETER;
}

/* A descriptor that permits data and xattr syscalls.  The open's own fd
 * unless it is O_PATH (or read-only when writing is needed); then the path
 * is reopened as the session's user.  *owned says whether to close it. */
static int usable_fd(struct smb2_req *req, struct open *o, bool write, bool *owned)
{
	*owned = false;
	int fl = fcntl(o->fd, F_GETFL);
	if (fl >= 0 && !(fl & O_PATH) && (!write || (fl & O_ACCMODE) != O_RDONLY))
		return o->fd;
	int flags = O_NOFOLLOW | (o->is_dir ? O_DIRECTORY | O_RDONLY : write ? O_WRONLY : O_RDONLY);
	struct open_path *p = open_path_get(o);
	int fd = vfs_open(ident_of(req), req->tree->root_fd, p->s[0] ? p->s : ".", flags, 0);
	open_path_put(p);
	if (fd >= 0)
		*owned = true;
	return fd;
}

static void release_fd(int fd, bool owned)
{
	if (owned)
		vfs_close(fd);
}

/* ---- FileBasicInformation ---- */

/* A named stream's times and attributes are its file's (attrcache.c):
 * SET_INFO on the stream's open sets the base file's. */
static int basic_fd(struct smb2_req *req, struct open *o, bool *owned)
{
	struct open_path *p = open_path_get(o);
	const char *colon = strchr(p->s, ':');
	char *base = colon ? strndup(p->s, (size_t)(colon - p->s)) : NULL;
	open_path_put(p);
	if (!colon)
		return usable_fd(req, o, false, owned);
	int fd = base ? vfs_open(ident_of(req), req->tree->root_fd, base[0] ? base : ".",
				 O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0) : -ENOMEM;
	free(base);
	*owned = fd >= 0;
	return fd;
}

/* The access and last-write times a FileBasicInformation sets (0 and
 * the "resume updating" values leave a time alone). */
static NTSTATUS basic_set_times(const struct vfs_ident *id, struct open *o, int fd,
				const struct fscc_basic *bi)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	bool set_times = false;
	if (bi->access && bi->access < NT_TIME_RESUME_UPDATING) {
		ts[0] = nttime_to_timespec(bi->access);
		set_times = true;
	}
	if (bi->write && bi->write < NT_TIME_RESUME_UPDATING) {
		ts[1] = nttime_to_timespec(bi->write);
		set_times = true;
		o->last_write_nt = 0; /* the explicit time is now on disk */
	}
	int r = set_times ? vfs_futimens(id, fd, ts) : 0;
	return r < 0 ? vfs_nt_status(r) : STATUS_SUCCESS;
}

/* The stored DOS information, or what QUERY_INFO showed before the first
 * set. */
static void basic_dos_current(const struct vfs_ident *id, struct open *o, int fd,
			      struct vfs_dosinfo_ext *x)
{
	if (vfs_dos_get_ext(id, fd, x) >= 0)
		return;
	memset(x, 0, sizeof(*x));
	struct fileops_attrs a;
	if (fileops_stat_open(o, &a) == STATUS_SUCCESS) {
		x->d.attrs = a.attrs & ~(FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_NORMAL);
		x->d.create_time = a.create;
	}
}

/* The attributes, create time and change time a FileBasicInformation
 * sets, kept in the DOS information (user.DOSATTRIB). */
static NTSTATUS basic_set_dos(const struct vfs_ident *id, struct open *o, int fd,
			      const struct fscc_basic *bi)
{
	bool set_create = bi->create && bi->create < NT_TIME_RESUME_UPDATING;
	bool set_change = bi->change && bi->change < NT_TIME_RESUME_UPDATING;
	if (!bi->attrs && !set_create && !set_change)
		return STATUS_SUCCESS;
	struct vfs_dosinfo_ext x;
	basic_dos_current(id, o, fd, &x);
	if (bi->attrs) {
		/* FILE_ATTRIBUTE_NORMAL alone clears everything; sparse is set
		 * by FSCTL_SET_SPARSE only */
		x.d.attrs = (bi->attrs & (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN |
					  FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE |
					  FILE_ATTRIBUTE_TEMPORARY | FILE_ATTRIBUTE_OFFLINE |
					  FILE_ATTRIBUTE_NOT_CONTENT_INDEXED)) |
			    (x.d.attrs & FILE_ATTRIBUTE_SPARSE_FILE);
	}
	if (set_create)
		x.d.create_time = bi->create;
	int r;
	if (set_change) {
		/* Linux cannot set ctime: keep it with the data's identity
		 * (mtime, size) as it is now (dosattr.h). */
		struct statx sx;
		if ((r = vfs_statx(id, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx)) < 0)
			return vfs_nt_status(r);
		x.has_change = true;
		x.change_time = bi->change;
		x.mtime_ns = vfs_dos_mtime_ns(&sx);
		x.size = sx.stx_size;
	}
	if ((r = vfs_dos_set_ext(id, fd, &x)) < 0)
		return vfs_nt_status(r);
	fileops_attr_cache_drop(o);
	return STATUS_SUCCESS;
}

static NTSTATUS set_basic(struct smb2_req *req, struct open *o, const uint8_t *b, size_t len)
{
	struct fscc_basic bi;
	int r = fscc_basic_decode(b, len, &bi);
	if (r < 0)
		return decode_status(r);
	NTSTATUS st = fileops_check_access(o, FILE_WRITE_ATTRIBUTES);
	if (st)
		return st;
	/* MS-FSA 2.1.5.14.2: a file cannot become a directory and vice versa. */
	if (bi.attrs & FILE_ATTRIBUTE_DIRECTORY && !o->is_dir)
		return STATUS_INVALID_PARAMETER;
	if (bi.attrs & FILE_ATTRIBUTE_TEMPORARY && o->is_dir)
		return STATUS_INVALID_PARAMETER;
	bool owned;
	int fd = basic_fd(req, o, &owned);
	if (fd < 0)
		return vfs_nt_status(fd);
	st = basic_set_times(ident_of(req), o, fd, &bi);
	if (st == STATUS_SUCCESS)
		st = basic_set_dos(ident_of(req), o, fd, &bi);
	release_fd(fd, owned);
	return st;
}

/* ---- sizes ---- */

static NTSTATUS set_eof(struct smb2_req *req, struct open *o, const uint8_t *b, size_t len)
{
	uint64_t eof;
	int r = fscc_eof_decode(b, len, &eof);
	if (r < 0)
		return decode_status(r);
	NTSTATUS st = fileops_check_access(o, FILE_WRITE_DATA);
	if (st)
		return st;
	if (o->is_dir)
		return STATUS_INVALID_PARAMETER;
	if (eof > INT64_MAX)
		return STATUS_INVALID_PARAMETER;
	bool owned;
	int fd = usable_fd(req, o, true, &owned);
	if (fd < 0)
		return vfs_nt_status(fd);
	r = vfs_ftruncate(ident_of(req), fd, eof);
	lease_break_data(o->file, o);
	release_fd(fd, owned);
	return r < 0 ? vfs_nt_status(r) : streams_written(o);
}

static NTSTATUS set_allocation(struct smb2_req *req, struct open *o, const uint8_t *b, size_t len)
{
	uint64_t alloc;
	int r = fscc_allocation_decode(b, len, &alloc);
	if (r < 0)
		return decode_status(r);
	NTSTATUS st = fileops_check_access(o, FILE_WRITE_DATA);
	if (st)
		return st;
	if (o->is_dir)
		return STATUS_INVALID_PARAMETER;
	if (alloc > INT64_MAX)
		return STATUS_DISK_FULL;
	struct fileops_attrs a;
	if ((st = fileops_stat_open(o, &a)))
		return st;
	bool owned;
	int fd = usable_fd(req, o, true, &owned);
	if (fd < 0)
		return vfs_nt_status(fd);
	const struct vfs_ident *id = ident_of(req);
	/* MS-FSA 2.1.5.14.1 (via 2.1.4.12): setting the allocation breaks
	 * level II oplocks, whether it shrinks or grows (smb2.oplock.batch12). */
	lease_break_data(o->file, o);
	/* MS-FSA 2.1.5.14.1: an allocation below EndOfFile truncates the
	 * file; a larger one only reserves space (the size stays). */
	r = 0;
	st = STATUS_SUCCESS;
	if (alloc < a.eof)
		r = vfs_ftruncate(id, fd, alloc);
	else if (alloc < a.alloc) /* less room past the end of file */
		alloc_release(id, o, fd, alloc, a.eof + a.alloc);
	else if (alloc > a.eof) /* bounded, "strict allocate" (alloc.h) */
		st = alloc_grow(id, o, fd, req->tree->share && req->tree->share->strict_allocate, a.eof, a.alloc, alloc);
	release_fd(fd, owned);
	if (r < 0)
		return vfs_nt_status(r);
	if (st == STATUS_SUCCESS)
		st = streams_written(o);
	if (st == STATUS_SUCCESS)
		fileops_alloc_hint(o, alloc);
	return st;
}

/* ---- delete disposition ---- */

/* 1 when the directory o opens holds anything besides . and .. (and,
 * with "delete veto files", the vetoed names it will take along) */
static int dir_nonempty(struct smb2_req *req, struct open *o)
{
	bool owned;
	int fd = usable_fd(req, o, false, &owned);
	if (fd < 0)
		return fd;
	char buf[4096];
	int res = 0;
	ssize_t n = vfs_getdents(ident_of(req), fd, buf, sizeof(buf));
	if (n < 0)
		res = (int)n;
	for (ssize_t off = 0; n > 0 && off < n;) {
		/* struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name */
		uint16_t reclen;
		memcpy(&reclen, buf + off + 16, 2);
		const char *name = buf + off + 19;
		const struct conf_share *sh = req->tree ? req->tree->share : NULL;
		if (strcmp(name, ".") && strcmp(name, "..") &&
		    !(sh && sh->delete_veto_files && share_name_vetoed(sh, name, strlen(name)))) {
			res = 1;
			break;
		}
		off += reclen;
		if (off >= n) {
			n = vfs_getdents(ident_of(req), fd, buf, sizeof(buf));
			off = 0;
		}
	}
	release_fd(fd, owned);
	return res;
}

static NTSTATUS set_delete(struct smb2_req *req, struct open *o, bool del, bool ignore_readonly)
{
	NTSTATUS st = fileops_check_access(o, DELETE_ACCESS);
	if (st)
		return st;
	if (!o->file)
		return STATUS_INVALID_PARAMETER;
	if (del) {
		if (open_path_is_root(o))
			return STATUS_ACCESS_DENIED; /* the share root */
		struct fileops_attrs a;
		if ((st = fileops_stat_open(o, &a)))
			return st;
		/* MS-FSA 2.1.5.14.3 */
		if ((a.attrs & FILE_ATTRIBUTE_READONLY) && !ignore_readonly)
			return STATUS_CANNOT_DELETE;
		if (o->is_dir) {
			int r = dir_nonempty(req, o);
			if (r < 0)
				return vfs_nt_status(r);
			if (r)
				return STATUS_DIRECTORY_NOT_EMPTY;
		}
	}
	if (del)
		fileops_note_deleter(o->file, o);
	pthread_mutex_lock(&o->file->lock);
	o->file->delete_pending = del;
	if (!del)
		o->file->delete_by_state = 0;
	pthread_mutex_unlock(&o->file->lock);
	if (del) {
		notify_delete_pending(o->file); /* pending notifies end with DELETE_PENDING */
		lease_break_handles_first(req, o); /* [MS-FSA] 2.1.5.14.3 (smb2.lease.unlink) */
	}
	return STATUS_SUCCESS;
}

static NTSTATUS set_disposition(struct smb2_req *req, struct open *o, const uint8_t *b, size_t len)
{
	bool del;
	int r = fscc_disposition_decode(b, len, &del);
	if (r < 0)
		return decode_status(r);
	return set_delete(req, o, del, false);
}

static NTSTATUS set_disposition_ex(struct smb2_req *req, struct open *o, const uint8_t *b, size_t len)
{
	uint32_t flags;
	int r = fscc_disposition_ex_decode(b, len, &flags);
	if (r < 0)
		return decode_status(r);
	bool del = flags & FILE_DISPOSITION_DELETE;
	bool ign = flags & FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE;
	if (flags & FILE_DISPOSITION_ON_CLOSE) {
		/* 2.4.12: like FILE_DELETE_ON_CLOSE given at create */
		NTSTATUS st = fileops_check_access(o, DELETE_ACCESS);
		if (st)
			return st;
		if (del) {
			struct fileops_attrs a;
			if ((st = fileops_stat_open(o, &a)))
				return st;
			if ((a.attrs & FILE_ATTRIBUTE_READONLY) && !ign)
				return STATUS_CANNOT_DELETE;
		}
		o->delete_on_close = del;
		return STATUS_SUCCESS;
	}
	/* POSIX_SEMANTICS (unlink now, keep the open) is best effort: the
	 * name goes away at the last close, as without the flag. */
	return set_delete(req, o, del, ign);
}

/* ---- rename and link ---- */

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return n && !strncmp(path, dir, n) && path[n] == '/';
}

/* Whether a and b are in one share.  Their trees are read under their
 * file locks: a detach on another thread may drop them (open.h). */
static bool same_share(struct open *a, struct open *b)
{
	struct tree *ta = open_tree_get(a), *tb = open_tree_get(b);
	const char *pa = ta && ta->share ? ta->share->path : NULL;
	const char *pb = tb && tb->share ? tb->share->path : NULL;
	bool same = pa && pb && !strcmp(pa, pb);
	tree_put(ta);
	tree_put(tb);
	return same;
}

/* Is any other open in the share at `path` (exact) or below it (`below`)? */
static bool path_has_opens(struct open *self, const char *path, bool below, bool exact)
{
	unsigned n = 0;
	struct open **v = open_list(NULL, NULL, &n);
	bool found = false;
	for (unsigned i = 0; i < n; i++) {
		struct open *x = v[i];
		struct open_path *xp = found || x == self || x->fd < 0 ? NULL : open_path_get(x);
		if (xp && same_share(self, x) &&
		    ((below && under(xp->s, path)) || (exact && !strcmp(xp->s, path))))
			found = true;
		open_path_put(xp);
		open_put(x);
	}
	free(v);
	return found;
}

/* Before a directory is renamed: the handle caching of the leases of the
 * files open below it goes (their holders may close them), all breaks at
 * once, then the rename waits for each (smbtorture
 * smb2.lease.rename_dir_openfile); what stays open still fails it. */
static void break_below(struct smb2_req *req, struct open *self, const char *path)
{
	unsigned n = 0, nf = 0;
	struct open **v = open_list(NULL, NULL, &n);
	struct file **files = v ? calloc(n ? n : 1, sizeof(*files)) : NULL;
	for (unsigned i = 0; i < n; i++) {
		struct open *x = v[i];
		struct open_path *xp = files && x != self && x->file ? open_path_get(x) : NULL;
		if (xp && same_share(self, x) && under(xp->s, path)) {
			atomic_fetch_add(&x->file->refs, 1);
			files[nf++] = x->file;
		}
		open_path_put(xp);
		open_put(x);
	}
	free(v);
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < nf; i++)
			lease_break_file_handles(req, files[i], NULL, pass == 1);
	for (unsigned i = 0; i < nf; i++)
		file_put(files[i]);
	free(files);
}

/* Client name of a rename / link target -> share-relative path as it will
 * exist on disk (directories resolved case-insensitively when the share is
 * case-insensitive), *exists / *st describing a present target. */
static NTSTATUS resolve_target(struct smb2_req *req, const struct fscc_rename *ri, char **out,
			       bool *exists, struct statx *st)
{
	if (ri->root_directory)
		return STATUS_INVALID_PARAMETER;
	if (!ri->name_len)
		return STATUS_INVALID_PARAMETER;
	char *path = NULL;
	NTSTATUS s = fileops_name(req, ri->name, ri->name_len, &path);
	if (s)
		return s;
	if (!path[0]) {
		free(path);
		return STATUS_OBJECT_NAME_INVALID;
	}
	const struct vfs_ident *id = ident_of(req);
	if (req->tree->share && req->tree->share->case_insensitive) {
		char *r = NULL;
		int e = vfs_resolve_ci(id, req->tree->root_fd, path, &r);
		if (e == -ENOENT) {
			free(path);
			return STATUS_OBJECT_PATH_NOT_FOUND;
		}
		if (e == 0 && r) {
			free(path);
			path = r;
		}
	}
	int e = vfs_statx(id, req->tree->root_fd, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, st);
	*exists = e == 0;
	if (e < 0 && e != -ENOENT) {
		free(path);
		return e == -ENOTDIR ? STATUS_OBJECT_PATH_NOT_FOUND : vfs_nt_status(e);
	}
	*out = path;
	return STATUS_SUCCESS;
}

/* Replace the last component of `resolved` by that of `written` (a
 * case-only rename keeps the client's spelling). */
static char *with_written_name(const char *resolved, const uint8_t *u16, size_t len, struct smb2_req *req)
{
	char *w = NULL;
	if (fileops_name(req, u16, len, &w))
		return NULL;
	const char *wb = strrchr(w, '/');
	wb = wb ? wb + 1 : w;
	const char *rb = strrchr(resolved, '/');
	size_t dirlen = rb ? (size_t)(rb - resolved) + 1 : 0;
	char *s = malloc(dirlen + strlen(wb) + 1);
	if (s) {
		memcpy(s, resolved, dirlen);
		strcpy(s + dirlen, wb);
	}
	free(w);
	return s;
}

/* Renames of one file take turns (struct file: renaming): a rename reads
 * its open's path, renames on disk, then gives every open the new path,
 * and a second one in between would read a name the first is moving (two
 * renames crossing could even leave the opens naming the old one, which a
 * delete on close then unlinks, whatever file holds it by then).  The
 * waiters park in req_wait, never under a lock, and each is handed the
 * turn by the one before it; a rename waits at most as long as the one
 * ahead takes (its lease breaks: the break timeout). */
struct rename_turn {
	struct smb2_req *req;
	struct rename_turn *next;
};

static void rename_turn_take(struct smb2_req *req, struct file *f)
{
	pthread_mutex_lock(&f->lock);
	bool busy = f->renaming;
	pthread_mutex_unlock(&f->lock);
	if (busy && req_go_async(req) != STATUS_SUCCESS)
		log_debug("message %llu waits for another rename inside a compound",
			  (unsigned long long)req->hdr.message_id);
	struct rename_turn t = { .req = req };
	pthread_mutex_lock(&f->lock);
	if (!f->renaming) {
		f->renaming = true;
		pthread_mutex_unlock(&f->lock);
		return;
	}
	struct rename_turn **pp = &f->rename_waiters;
	while (*pp)
		pp = &(*pp)->next;
	*pp = &t;
	pthread_mutex_unlock(&f->lock);
	req_wait(req); /* rename_turn_give unlinked t and handed us the turn */
}

static void rename_turn_give(struct file *f)
{
	pthread_mutex_lock(&f->lock);
	struct rename_turn *t = f->rename_waiters;
	struct smb2_req *next = t ? t->req : NULL; /* t is on its waiter's stack: read before the wake */
	if (t)
		f->rename_waiters = t->next;
	else
		f->renaming = false;
	pthread_mutex_unlock(&f->lock);
	if (next)
		req_wake(next);
}

/* Every open of the renamed file follows the new name: one new path, which
 * each of them references, replaces theirs (struct open_path: readers that
 * hold a reference to an old one keep reading it).  o itself too when it
 * left the file's list (closed meanwhile).  Only files have renames
 * (set_file refuses pipes), so o->file is set. */
static void rename_opens(struct open *o, const char *newpath)
{
	struct file *f = o->file;
	struct open_path *p = open_path_new(newpath, strlen(newpath));
	if (!f || !p) {
		open_path_put(p);
		log_warn("rename: the file's opens keep their old name (no memory)");
		return;
	}
	bool done = false;
	pthread_mutex_lock(&f->lock);
	for (struct open *x = f->opens; x; x = x->file_next) {
		atomic_fetch_add(&p->refs, 1);
		open_path_replace_locked(x, p);
		done |= x == o;
	}
	if (!done) {
		atomic_fetch_add(&p->refs, 1);
		open_path_replace_locked(o, p);
	}
	pthread_mutex_unlock(&f->lock);
	open_path_put(p); /* ours */
}

/* Windows renames through an implicit open of the parent directory for
 * FILE_ADD_FILE (write data), sharing read and write: an open of the parent
 * that has DELETE access, or holds data rights without sharing write, makes
 * the rename a sharing violation (smbtorture smb2.rename.*_delete_access);
 * a parent open that shares read and write (smb2.notify.mask-change) or has
 * no data rights at all (smb2.rename.msword) does not. */
/* Does an open of directory f conflict with the implicit open? */
static bool parent_conflicts(struct file *f)
{
	bool c = false;
	pthread_mutex_lock(&f->lock);
	for (struct open *e = f->opens; e && !c; e = e->file_next)
		c = fileops_share_conflict(e, FILE_WRITE_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE);
	pthread_mutex_unlock(&f->lock);
	return c;
}

/* The implicit open of the directory holding `path`.  For the target's
 * directory (`break_h`) a conflict first takes the handle caching of its
 * leases, and the rename waits: a holder that closes ends the conflict
 * (smbtorture smb2.dirlease.rename_dst_parent). */
static NTSTATUS parent_share_check(struct smb2_req *req, const char *path, bool break_h)
{
	const char *slash = strrchr(path, '/');
	char *parent = slash ? strndup(path, (size_t)(slash - path)) : strdup("");
	if (!parent)
		return STATUS_NO_MEMORY;
	struct statx pst;
	int r = vfs_statx(ident_of(req), req->tree->root_fd, parent, 0, STATX_BASIC_STATS, &pst);
	free(parent);
	if (r < 0)
		return STATUS_SUCCESS; /* the rename itself will tell */
	struct file *f = file_get(makedev(pst.stx_dev_major, pst.stx_dev_minor), pst.stx_ino, true);
	if (!f)
		return STATUS_NO_MEMORY;
	bool c = parent_conflicts(f);
	if (c && break_h) {
		lease_break_file_handles(req, f, NULL, true);
		c = parent_conflicts(f);
	}
	file_put(f);
	return c ? STATUS_SHARING_VIOLATION : STATUS_SUCCESS;
}

/* May o, at src, be renamed to *target (exists: something is there, tst
 * its statx; same: that is o's own file)?  A case-only rename to its own
 * name takes the client's spelling into *target; *nothing: the name does
 * not change. */
static NTSTATUS rename_check_target(struct smb2_req *req, struct open *o, const char *src,
				   const struct fscc_rename *ri, char **target, bool exists, bool same,
				   const struct statx *tst, bool *nothing)
{
	*nothing = false;
	if (same) {
		/* the same file under its own name (or another case of it) */
		if (!strcmp(*target, src)) {
			char *w = with_written_name(*target, ri->name, ri->name_len, req);
			if (w && !strcmp(w, src)) {
				free(w);
				*nothing = true;
				return STATUS_SUCCESS;
			}
			free(*target);
			*target = w;
			if (!w)
				return STATUS_NO_MEMORY;
		}
	} else if (exists) {
		if (!ri->replace_if_exists)
			return STATUS_OBJECT_NAME_COLLISION;
		/* MS-FSA 2.1.5.14.11: a directory is never replaced, nor a
		 * file someone has open. */
		if (S_ISDIR(tst->stx_mode) || path_has_opens(o, *target, false, true))
			return STATUS_ACCESS_DENIED;
	}
	if (o->is_dir && under(*target, src))
		return STATUS_INVALID_PARAMETER; /* into itself */
	/* Windows: a directory with opens below it cannot be renamed. */
	if (o->is_dir && path_has_opens(o, src, true, false))
		return STATUS_ACCESS_DENIED;
	return STATUS_SUCCESS;
}

/* The rename on disk of o, at src; then every open of the file follows
 * the new name. */
static NTSTATUS rename_on_disk(struct smb2_req *req, struct open *o, const char *src, const char *target,
			       bool exists, bool same)
{
	const struct vfs_ident *id = ident_of(req);
	int root = req->tree->root_fd;
	int r = vfs_renameat(id, root, src, root, target, exists && !same ? 0 : RENAME_NOREPLACE);
	if (r == -EEXIST && same)
		r = vfs_renameat(id, root, src, root, target, 0);
	if (r < 0)
		return r == -EEXIST || r == -ENOTEMPTY ? STATUS_OBJECT_NAME_COLLISION :
		       r == -ENOENT ? STATUS_OBJECT_PATH_NOT_FOUND : vfs_nt_status(r);
	rename_opens(o, target);
	if (o->is_dir)
		notify_sync();
	return STATUS_SUCCESS;
}

/* The leases of the directories a rename took a name from and gave one
 * to break (once when they are one), but the one o names as its parent. */
static void rename_break_dirs(struct smb2_req *req, struct open *o, const char *old, const char *target)
{
	uint8_t key[16], parent[16];
	bool has_parent = false;
	(void)lease_keys_of(o, key, parent, &has_parent);
	lease_watch_own(o, old);
	lease_watch_own(o, target);
	struct file *from = lease_dir_of(ident_of(req), req->tree->root_fd, old);
	struct file *to = lease_dir_of(ident_of(req), req->tree->root_fd, target);
	if (to && to == from) {
		file_put(to);
		to = NULL;
	}
	/* after the reply, the source's first (smbtorture
	 * smb2.dirlease.rename takes them one by one, in that order) */
	lease_dir_break(from, has_parent ? parent : NULL, false);
	lease_dir_break(to, has_parent ? parent : NULL, false);
}

/* A file or directory (not a stream) at src (o's path as the rename
 * began: a rename through another open may replace o->path meanwhile) to
 * another path of the share. */
static NTSTATUS rename_path(struct smb2_req *req, struct open *o, const char *src, const struct fscc_rename *ri)
{
	NTSTATUS st = parent_share_check(req, src, false);
	if (st)
		return st;
	char *target = NULL;
	bool exists = false;
	struct statx tst;
	if ((st = resolve_target(req, ri, &target, &exists, &tst)))
		return st;
	if ((st = parent_share_check(req, target, true))) {
		free(target);
		return st;
	}
	struct fileops_attrs a;
	if ((st = fileops_stat_open(o, &a)) == STATUS_SUCCESS) {
		bool same = exists && tst.stx_ino == a.ino &&
			    (((uint64_t)tst.stx_dev_major << 32) | tst.stx_dev_minor) == a.dev;
		bool nothing;
		/* the handle caching of the file's other leases goes first,
		 * and the rename waits for it (smb2.lease.rename_wait); so
		 * does that of a file it replaces, whose holder may close
		 * (smb2.lease.v2_rename_target_overwrite) */
		lease_break_handles(req, o, true);
		if (o->is_dir)
			break_below(req, o, src);
		if (exists && !same && ri->replace_if_exists) {
			struct file *tf = file_get(makedev(tst.stx_dev_major, tst.stx_dev_minor), tst.stx_ino,
						   S_ISDIR(tst.stx_mode));
			lease_break_file_handles(req, tf, NULL, true);
			file_put(tf);
		}
		st = rename_check_target(req, o, src, ri, &target, exists, same, &tst, &nothing);
		if (st == STATUS_SUCCESS && !nothing)
			st = rename_on_disk(req, o, src, target, exists, same);
		if (st == STATUS_SUCCESS && !nothing)
			rename_break_dirs(req, o, src, target);
	}
	free(target);
	return st;
}

static NTSTATUS set_rename(struct smb2_req *req, struct open *o, const uint8_t *b, size_t len)
{
	struct fscc_rename ri;
	int r = fscc_rename_decode(b, len, &ri);
	if (r < 0)
		return decode_status(r);
	NTSTATUS st = fileops_check_access(o, DELETE_ACCESS);
	if (st)
		return st;
	if (!o->file)
		return STATUS_INVALID_PARAMETER;
	rename_turn_take(req, o->file);
	struct open_path *src = open_path_get(o); /* one name for the whole rename */
	if (!src->s[0]) {
		st = STATUS_ACCESS_DENIED;
	} else if (ri.name_len >= 2 && get_le16(ri.name) == ':') {
		char *np = NULL;
		st = create_stream_rename(req, src->s, ri.name, ri.name_len, ri.replace_if_exists, &np);
		if (st == STATUS_SUCCESS)
			rename_opens(o, np);
		free(np);
	} else if (strchr(src->s, ':')) {
		st = STATUS_INVALID_PARAMETER; /* a named stream's open */
	} else {
		st = rename_path(req, o, src->s, &ri);
	}
	open_path_put(src);
	rename_turn_give(o->file);
	return st;
}

static NTSTATUS set_link(struct smb2_req *req, struct open *o, const uint8_t *b, size_t len)
{
	struct fscc_rename li;
	int r = fscc_link_decode(b, len, &li);
	if (r < 0)
		return decode_status(r);
	if (o->is_dir)
		return STATUS_FILE_IS_A_DIRECTORY;
	if (!o->file)
		return STATUS_INVALID_PARAMETER;
	char *target = NULL;
	bool exists = false;
	struct statx tst;
	NTSTATUS st = resolve_target(req, &li, &target, &exists, &tst);
	if (st)
		return st;
	const struct vfs_ident *id = ident_of(req);
	if (exists) {
		if (!li.replace_if_exists) {
			st = STATUS_OBJECT_NAME_COLLISION;
			goto out;
		}
		if (S_ISDIR(tst.stx_mode) || path_has_opens(o, target, false, true)) {
			st = STATUS_ACCESS_DENIED;
			goto out;
		}
		if ((r = vfs_unlinkat(id, req->tree->root_fd, target, 0)) < 0) {
			st = vfs_nt_status(r);
			goto out;
		}
	}
	rename_turn_take(req, o->file); /* not a name a rename is moving */
	struct open_path *src = open_path_get(o);
	r = vfs_linkat(id, req->tree->root_fd, src->s, req->tree->root_fd, target);
	open_path_put(src);
	rename_turn_give(o->file);
	st = r == -EEXIST ? STATUS_OBJECT_NAME_COLLISION : r < 0 ? vfs_nt_status(r) : STATUS_SUCCESS;
	if (st == STATUS_SUCCESS)
		lease_break_parent(id, req->tree->root_fd, o, target);
out:
	free(target);
	return st;
}

/* ---- EAs (user.<name> xattrs, as Samba) ---- */

static NTSTATUS set_eas(struct smb2_req *req, struct open *o, const uint8_t *b, size_t len)
{
	NTSTATUS st = fileops_check_access(o, FILE_WRITE_EA);
	if (st)
		return st;
	if ((st = fileops_ea_check(b, len, NULL)))
		return st;
	bool owned;
	int fd = usable_fd(req, o, false, &owned);
	if (fd < 0)
		return vfs_nt_status(fd);
	st = fileops_ea_apply(ident_of(req), fd, b, len, false);
	release_fd(fd, owned);
	return st;
}

static NTSTATUS set_position(struct smb2_req *req, struct open *o, const uint8_t *b, size_t len)
{
	(void)req;
	uint64_t pos;
	int r = fscc_position_decode(b, len, &pos);
	if (r < 0)
		return decode_status(r);
	if (pos > INT64_MAX)
		return STATUS_INVALID_PARAMETER;
	o->position = pos;
	return STATUS_SUCCESS;
}

static NTSTATUS set_mode(struct smb2_req *req, struct open *o, const uint8_t *b, size_t len)
{
	(void)req;
	uint32_t mode;
	int r = fscc_mode_decode(b, len, &mode);
	if (r < 0)
		return decode_status(r);
	if (mode & ~FILE_MODE_SETTABLE)
		return STATUS_INVALID_PARAMETER;
	o->mode = mode;
	return STATUS_SUCCESS;
}

/* The file information classes SET_INFO takes ([MS-FSCC] 2.4); `changes`:
 * it changes the file, so a read-only tree refuses it. */
static const struct set_class {
	uint8_t cls;
	bool changes;
	NTSTATUS (*fn)(struct smb2_req *req, struct open *o, const uint8_t *b, size_t len);
} set_classes[] = {
	{ FilePositionInformation, false, set_position },
	{ FileModeInformation, false, set_mode },
	{ FileBasicInformation, true, set_basic },
	{ FileEndOfFileInformation, true, set_eof },
	{ FileAllocationInformation, true, set_allocation },
	{ FileDispositionInformation, true, set_disposition },
	{ FileDispositionInformationEx, true, set_disposition_ex },
	{ FileRenameInformation, true, set_rename },
	{ FileLinkInformation, true, set_link },
	{ FileFullEaInformation, true, set_eas },
};

static NTSTATUS set_file(struct smb2_req *req, struct open *o, const struct wire_set_info_req *q)
{
	if (o->fd < 0)
		return STATUS_INVALID_PARAMETER; /* named pipe */
	const struct set_class *c = NULL;
	for (size_t i = 0; i < sizeof(set_classes) / sizeof(set_classes[0]); i++)
		if (set_classes[i].cls == q->info_class)
			c = &set_classes[i];
	/* A read-only tree refuses whatever would change the file, before the
	 * class itself is looked at (what Windows answers). */
	if ((!c || c->changes) && req->tree->read_only)
		return STATUS_ACCESS_DENIED;
	if (!c)
		return STATUS_INVALID_INFO_CLASS;
	NTSTATUS st = c->fn(req, o, q->buf, q->buf_len);
	/* what a listing of the parent shows changed: its leases break */
	if (st == STATUS_SUCCESS && (c->cls == FileBasicInformation || c->cls == FileEndOfFileInformation ||
				     c->cls == FileAllocationInformation)) {
		struct open_path *p = open_path_get(o);
		lease_break_parent(ident_of(req), req->tree->root_fd, o, p->s);
		open_path_put(p);
	}
	return st;
}

static NTSTATUS set_security(struct smb2_req *req, struct open *o, const struct wire_set_info_req *q)
{
	uint32_t si = q->additional_info;
	NTSTATUS st;
	if (si & DACL_SECURITY_INFORMATION && (st = fileops_check_access(o, WRITE_DAC)))
		return st;
	if (si & (OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION) &&
	    (st = fileops_check_access(o, WRITE_OWNER)))
		return st;
	if (si & SACL_SECURITY_INFORMATION && (st = fileops_check_access(o, ACCESS_SYSTEM_SECURITY)))
		return st;
	if (!secdesc_valid(q->buf, q->buf_len))
		return STATUS_INVALID_SECURITY_DESCR;
	if (req->tree->read_only)
		return STATUS_ACCESS_DENIED;
	if (o->fd < 0)
		return STATUS_INVALID_HANDLE;
	/* The descriptor is stored as given (merged per AdditionalInformation
	 * with the current one); the unix owner and mode stay as they are. */
	return acl_set(&req->tree->tok, o->fd, si, q->buf, q->buf_len);
}

/* A replay names the same information, class, selector and buffer
 * (state/outcome.h). */
int cmd_set_info_replay_key(const struct smb2_req *req, uint8_t fixed[32], struct iovec iov[3])
{
	struct rd r = req_body(req);
	struct wire_set_info_req q;
	if (wire_set_info_decode_req(&r, &q) < 0)
		return -1;
	fixed[0] = q.info_type;
	fixed[1] = q.info_class;
	put_le32(fixed + 2, q.additional_info);
	put_le32(fixed + 6, q.buf_len);
	iov[0] = (struct iovec){fixed, 10};
	iov[1] = (struct iovec){(void *)q.buf, q.buf_len};
	return q.buf_len ? 2 : 1;
}

NTSTATUS cmd_set_info(struct smb2_req *req)
{
	struct wire_set_info_req q;
	if (wire_set_info_decode_req(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	struct open *o = req->open;
	NTSTATUS st;
	lease_watch_own_open(o); /* an attribute, a name: its own inotify events */
	switch (q.info_type) {
	case SMB2_0_INFO_FILE:
		st = set_file(req, o, &q);
		break;
	case SMB2_0_INFO_FILESYSTEM:
		st = STATUS_NOT_SUPPORTED;
		break;
	case SMB2_0_INFO_SECURITY:
		st = set_security(req, o, &q);
		break;
	case SMB2_0_INFO_QUOTA:
		st = STATUS_NOT_SUPPORTED;
		break;
	default:
		st = STATUS_INVALID_PARAMETER;
		break;
	}
	lease_watch_own_open(o); /* a rename's new name */
	if (st == STATUS_SUCCESS)
		wire_set_info_encode_rsp(&req->out);
	return st;
}
