/* CREATE: opening an existing object or creating a new one ([MS-FSA]
 * 2.1.5.1.1, 2.1.5.1.2), and attaching the open to its file (share
 * modes, oplock breaks, registration).  See create_int.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cmd/acl.h"
#include "cmd/alloc.h"
#include "cmd/change_notify.h"
#include "cmd/cmd.h"
#include "cmd/create_int.h"
#include "cmd/fileops.h"
#include "cmd/share_policy.h"
#include "cmd/streams.h"
#include "mc/lease.h"
#include "mc/oplock.h"
#include "net/conn.h"
#include "util/log.h"
#include "util/nttime.h"
#include "util/utf16.h"
#include "vfs/dosattr.h"
#include "vfs/vfs.h"
#include "wire/create.h"
#include "wire/fscc.h"
#include "wire/info.h"

/* FileModeInformation bits taken from CreateOptions */
#define MODE_FROM_OPTIONS 0x0000103Eu

static bool is_dot_or_root(const char *p) { return p[0] == 0; }

/* The parent directory of `path` ("" for names in the root); malloc'd. */
char *create_parent_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? strndup(path, (size_t)(s - path)) : strdup("");
}

static bool share_conflict(const struct open *e, uint32_t access, uint32_t share)
{
	return fileops_share_conflict(e, access, share);
}

/* Open flags for the access an open needs on a regular file. */
static int data_flags(uint32_t access, bool overwrite)
{
	bool rd = access & (FILE_READ_DATA | FILE_EXECUTE);
	bool wr = (access & (FILE_WRITE_DATA | FILE_APPEND_DATA)) || overwrite;
	if (rd && wr)
		return O_RDWR;
	if (wr)
		return O_WRONLY;
	return O_RDONLY;
}

void create_open_free(struct open *o)
{
	if (!o)
		return;
	atomic_store(&o->refs, 1); /* never registered: ours is the only reference */
	open_put(o);
}

/* Attach the open to its file under the share-mode rules and register it. */
NTSTATUS create_attach(struct create_state *cs, struct open *o, const struct statx *st)
{
	dev_t dev = makedev(st->stx_dev_major, st->stx_dev_minor);
	struct file *f = file_get(dev, st->stx_ino, S_ISDIR(st->stx_mode));
	if (!f)
		return STATUS_NO_MEMORY;
	o->file = f;
	uint32_t disp = cs->q->create_disposition;
	bool overwrite = disp == FILE_SUPERSEDE || disp == FILE_OVERWRITE || disp == FILE_OVERWRITE_IF;
	/* The older open of the same app instance, and detached durable opens
	 * whose oplock this open breaks, are closed first (cmd/durable.h). */
	if (durable_before_attach(cs, o, f, overwrite)) {
		cs->retry = true;
		return STATUS_OBJECT_NAME_NOT_FOUND;
	}
	/* A file with a pending delete refuses new opens before any oplock is
	 * looked at ([MS-FSA] 2.1.5.1.2: the DeletePending check comes first),
	 * so its holder hears of no break (smbtorture smb2.oplock.doc).  Checked
	 * again below, under the lock, for a delete set while we waited. */
	pthread_mutex_lock(&f->lock);
	bool pending = f->delete_pending;
	pthread_mutex_unlock(&f->lock);
	if (pending)
		return STATUS_DELETE_PENDING;
	/* MS-SMB2 3.3.5.9.8: a lease key is one file's */
	if (cs->lease_self && !lease_is_for(cs->lease_self, f))
		return STATUS_INVALID_PARAMETER;
	/* An exclusive or batch oplock of another open is broken first: its
	 * holder may close and so end a sharing conflict ([MS-FSA] 2.1.5.1.2). */
	oplock_break_for_create(cs->req, f, o->access, o->share_access, overwrite, share_conflict, cs->lease_self);
	pthread_mutex_lock(&f->lock);
	if (f->delete_pending) {
		pthread_mutex_unlock(&f->lock);
		return STATUS_DELETE_PENDING;
	}
	/* an overwrite writes the data, whatever the open asks for: other
	 * opens' share modes see a writer (smb2.acls.OVERWRITE_READ_ONLY_FILE) */
	uint32_t acc = o->access | (overwrite ? FILE_WRITE_DATA : 0);
	for (struct open *e = f->opens; e; e = e->file_next) {
		if (share_conflict(e, acc, o->share_access)) {
			pthread_mutex_unlock(&f->lock);
			return STATUS_SHARING_VIOLATION;
		}
	}
	file_add_open(f, o);
	pthread_mutex_unlock(&f->lock);
	int reg = open_register(o);
	if (reg < 0) {
		pthread_mutex_lock(&f->lock);
		file_remove_open(f, o);
		pthread_mutex_unlock(&f->lock);
		/* ENOTCONN: the session or tree went away while this CREATE ran */
		return reg == -ENOTCONN ? STATUS_USER_SESSION_DELETED
		     : reg == -EMFILE	? STATUS_TOO_MANY_OPENED_FILES
					: STATUS_INSUFFICIENT_RESOURCES;
	}
	(void)cs;
	return STATUS_SUCCESS;
}

struct open *create_open_new(struct create_state *cs)
{
	struct open *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->fd = -1;
	o->path = open_path_new(cs->path, strlen(cs->path)); /* nobody else sees o yet */
	if (!o->path) {
		free(o);
		return NULL;
	}
	o->session = cs->req->session;
	session_get(o->session);
	o->conn_id = cs->req->sc->conn->id;
	o->ident = vfs_ident_ref(cs->req->tree->tok.ident); /* the creator's (or forced) identity, for good */
	o->tree = cs->req->tree;
	atomic_fetch_add(&o->tree->refs, 1);
	o->share_access = cs->q->share_access & (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE);
	o->create_options = cs->q->create_options;
	o->create_disposition = cs->q->create_disposition;
	o->write_through = cs->q->create_options & FILE_WRITE_THROUGH;
	o->mode = cs->q->create_options & MODE_FROM_OPTIONS;
	/* The open starts at the sequence of the CREATE (3.3.5.9; 3.x:
	 * ChannelSequence is the low half of the header's Status field). */
	if (cs->req->sc->dialect >= SMB2_DIALECT_300)
		o->chanseq.seq = (uint16_t)cs->req->hdr.status;
	if (cs->dur && (cs->dur->dhnq || cs->dur->dh2q)) {
		/* what a reconnect or an app-instance reopen is checked against */
		const char *user = o->session->user, *share = cs->req->tree->share->name;
		o->owner = user && !o->session->anonymous ? strdup(user) : NULL;
		o->share = share ? strdup(share) : NULL;
		if (cs->dur->app) {
			o->has_app_instance = true;
			memcpy(o->app_instance_id, cs->dur->app_id, 16);
		}
	}
	return o;
}

/* Wrap a freshly opened fd in an open and attach it to its file (share
 * modes, oplock breaks); the fd belongs to the open from here on. */
static NTSTATUS open_from_fd(struct create_state *cs, int fd, uint32_t want, bool is_dir, const struct statx *st,
			     struct open **out)
{
	struct open *o = create_open_new(cs);
	if (!o) {
		vfs_close(fd);
		return STATUS_NO_MEMORY;
	}
	o->fd = fd;
	o->access = want;
	o->is_dir = is_dir;
	o->delete_on_close = cs->q->create_options & FILE_DELETE_ON_CLOSE;
	NTSTATUS s = create_attach(cs, o, st);
	if (s != STATUS_SUCCESS) {
		create_open_free(o);
		return s;
	}
	*out = o;
	return STATUS_SUCCESS;
}

/* Undo an open that was attached (registered) but must fail. */
void create_open_abort(struct open *o)
{
	fileops_close_open(o, NULL);
	open_put(o);
}

/* Undo the create of an object that must not stay behind: the open was
 * its first, so closing it delete-pending removes it. */
void create_undo(struct open *o)
{
	pthread_mutex_lock(&o->file->lock);
	o->file->delete_pending = true;
	pthread_mutex_unlock(&o->file->lock);
	create_open_abort(o);
}

/* The AllocationSize context (AlSi) of a file just created or overwritten
 * (size 0): bounded by the free space, preallocated only with "strict
 * allocate", as the session's user (alloc.h). */
NTSTATUS create_alloc(struct create_state *cs, struct open *o, int fd)
{
	if (!cs->alloc)
		return STATUS_SUCCESS;
	const struct conf_share *sh = cs->req->tree->share;
	NTSTATUS st = alloc_grow(cs->id, o, fd, sh && sh->strict_allocate, 0, 0, cs->alloc);
	if (st == STATUS_SUCCESS)
		fileops_alloc_hint(o, cs->alloc);
	return st;
}

/* The request against the object's type and the disposition. */
static NTSTATUS existing_allowed(const struct create_state *cs, const struct statx *st, bool overwrite)
{
	const struct wire_create_req *q = cs->q;
	bool is_dir = S_ISDIR(st->stx_mode);
	if ((q->create_options & FILE_DIRECTORY_FILE) && !is_dir)
		return STATUS_NOT_A_DIRECTORY;
	if ((q->create_options & FILE_NON_DIRECTORY_FILE) && is_dir)
		return STATUS_FILE_IS_A_DIRECTORY;
	if (q->create_disposition == FILE_CREATE)
		return STATUS_OBJECT_NAME_COLLISION;
	if (is_dir && overwrite)
		return STATUS_INVALID_PARAMETER;
	if (cs->trailing_slash && !is_dir)
		return STATUS_OBJECT_NAME_INVALID;
	return STATUS_SUCCESS;
}

/* Maximal access from the unix permissions and the parent; the access to
 * grant (*want) and the access the open cannot do without (*required). */
static NTSTATUS existing_access(struct create_state *cs, const struct statx *st, bool overwrite, uint32_t *want,
				uint32_t *required, uint32_t *max)
{
	struct statx pst, *parent = NULL;
	if (!is_dot_or_root(cs->path)) {
		char *pp = create_parent_of(cs->path);
		if (pp && vfs_statx(cs->id, cs->root, pp, 0, STATX_BASIC_STATS, &pst) >= 0)
			parent = &pst;
		free(pp);
	}
	*max = fileops_max_access(&cs->req->tree->tok, cs->req->tree, st, parent);
	*want = cs->want & ~(MAXIMUM_ALLOWED | ACCESS_SYSTEM_SECURITY);
	if (cs->max_allowed)
		*want |= *max;
	*required = cs->want & ~(MAXIMUM_ALLOWED | ACCESS_SYSTEM_SECURITY);
	if (overwrite)
		*required |= FILE_WRITE_DATA;
	if (*required & ~*max)
		return STATUS_ACCESS_DENIED;
	if ((cs->q->create_options & FILE_DELETE_ON_CLOSE) && !(*want & DELETE_ACCESS))
		return STATUS_ACCESS_DENIED;
	return STATUS_SUCCESS;
}

/* Open the fd as the user: the kernel checks the data access.  Access the
 * kernel refuses and the open does not require is dropped from *want. */
static int existing_fd(struct create_state *cs, const struct statx *st, bool overwrite, uint32_t required,
		       uint32_t *want)
{
	int fd;
	if (S_ISDIR(st->stx_mode)) {
		fd = vfs_open(cs->id, cs->root, cs->path, O_RDONLY | O_DIRECTORY, 0);
		if (fd == -EACCES && !(required & FILE_READ_DATA)) {
			fd = vfs_open(cs->id, cs->root, cs->path, O_PATH | O_DIRECTORY, 0);
			*want &= ~FILE_READ_DATA;
		}
		return fd;
	}
	if (!S_ISREG(st->stx_mode)) {
		/* fifos, devices, sockets: metadata only */
		if (required & (FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_EXECUTE))
			return -EACCES;
		*want &= ~(FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_EXECUTE);
		return vfs_open(cs->id, cs->root, cs->path, O_PATH, 0);
	}
	int flags = data_flags(*want, overwrite);
	fd = vfs_open(cs->id, cs->root, cs->path, flags, 0);
	if (fd == -EACCES && cs->max_allowed && flags != O_RDONLY &&
	    !(required & (FILE_WRITE_DATA | FILE_APPEND_DATA))) {
		*want &= ~(FILE_WRITE_DATA | FILE_APPEND_DATA);
		flags = O_RDONLY;
		fd = vfs_open(cs->id, cs->root, cs->path, flags, 0);
	}
	if (fd == -EACCES && flags == O_RDONLY && !(required & (FILE_READ_DATA | FILE_EXECUTE))) {
		*want &= ~(FILE_READ_DATA | FILE_EXECUTE);
		fd = vfs_open(cs->id, cs->root, cs->path, O_PATH, 0);
	}
	return fd;
}

/* The fd is the object stat'ed before (not replaced in between); *fst
 * gets its attributes.  On failure the fd is closed. */
static NTSTATUS existing_same(struct create_state *cs, int fd, const struct statx *st, struct statx *fst,
			      int *again)
{
	int r = vfs_statx(cs->id, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, fst);
	if (r < 0) {
		vfs_close(fd);
		return vfs_nt_status(r);
	}
	if (fst->stx_ino != st->stx_ino || fst->stx_dev_major != st->stx_dev_major ||
	    fst->stx_dev_minor != st->stx_dev_minor || (fst->stx_mode & S_IFMT) != (st->stx_mode & S_IFMT)) {
		vfs_close(fd); /* replaced between stat and open */
		*again = 1;
		return STATUS_OBJECT_NAME_NOT_FOUND;
	}
	return STATUS_SUCCESS;
}

/* What the stored DACL and the DOS attributes allow on top of the unix
 * check; reads the DOS attributes into *dosx (*dos_r: the read's result). */
static NTSTATUS existing_limits(struct create_state *cs, int fd, bool is_dir, bool overwrite, uint32_t required,
				uint32_t *want, uint32_t *max, struct vfs_dosinfo_ext *dosx, int *dos_r)
{
	const struct wire_create_req *q = cs->q;
	/* MS-DTYP 2.5.3.2: a DACL set by a client limits the access too (on
	 * top of the unix check, which the kernel also applies). */
	char *pp = is_dot_or_root(cs->path) ? NULL : create_parent_of(cs->path);
	uint32_t lim = acl_open_limit(&cs->req->tree->tok, cs->id, cs->root, pp, fd);
	free(pp);
	if (required & ~lim)
		return STATUS_ACCESS_DENIED;
	*want &= lim;
	*max &= lim;
	/* DOS attributes: read-only files refuse writes and deletes
	 * (MS-FSA 2.1.5.1.2), hidden/system must be repeated to overwrite. */
	*dos_r = vfs_dos_get_ext(cs->id, fd, dosx);
	uint32_t attrs = *dos_r >= 0 ? dosx->d.attrs : 0;
	if (!is_dir && (attrs & FILE_ATTRIBUTE_READONLY)) {
		if (q->create_options & FILE_DELETE_ON_CLOSE)
			return STATUS_CANNOT_DELETE;
		if (required & (FILE_WRITE_DATA | FILE_APPEND_DATA))
			return STATUS_ACCESS_DENIED;
		*want &= ~(FILE_WRITE_DATA | FILE_APPEND_DATA);
	}
	if (overwrite && (((attrs & FILE_ATTRIBUTE_HIDDEN) && !(q->file_attributes & FILE_ATTRIBUTE_HIDDEN)) ||
			  ((attrs & FILE_ATTRIBUTE_SYSTEM) && !(q->file_attributes & FILE_ATTRIBUTE_SYSTEM))))
		return STATUS_ACCESS_DENIED;
	return STATUS_SUCCESS;
}

/* OVERWRITE / SUPERSEDE of an attached open: truncate, and the request's
 * attributes, EAs and allocation replace the old ones (MS-FSA 2.1.5.1.2.2). */
static NTSTATUS existing_overwrite(struct create_state *cs, struct open *o, int fd, int dos_r,
				  const struct vfs_dosinfo_ext *dosx)
{
	const struct wire_create_req *q = cs->q;
	int r = vfs_ftruncate(cs->id, fd, 0);
	if (r < 0)
		return vfs_nt_status(r);
	create_drop_streams(cs, fd); /* the file is new: its named streams go too */
	struct vfs_dosinfo nd = {
		.attrs = (q->file_attributes & ATTRS_SETTABLE) | FILE_ATTRIBUTE_ARCHIVE,
		.create_time = dos_r >= 0 ? dosx->d.create_time : 0,
	};
	(void)vfs_dos_set(cs->id, fd, &nd);
	if (cs->eas) {
		NTSTATUS es = fileops_ea_apply(cs->id, fd, cs->eas, cs->eas_len, true);
		if (es != STATUS_SUCCESS)
			return es;
	}
	return create_alloc(cs, o, fd);
}

/* Open an existing object.  *again: it changed under us, start again. */
NTSTATUS create_open_existing(struct create_state *cs, const struct statx *st, int *again)
{
	uint32_t disp = cs->q->create_disposition;
	bool is_dir = S_ISDIR(st->stx_mode);
	bool overwrite = disp == FILE_SUPERSEDE || disp == FILE_OVERWRITE || disp == FILE_OVERWRITE_IF;
	uint32_t want, required, max;
	NTSTATUS s = existing_allowed(cs, st, overwrite);
	if (s == STATUS_SUCCESS)
		s = existing_access(cs, st, overwrite, &want, &required, &max);
	if (s != STATUS_SUCCESS)
		return s;
	int fd = existing_fd(cs, st, overwrite, required, &want);
	if (fd == -ENOENT || fd == -ENOTDIR) {
		*again = 1;
		return STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (fd < 0)
		return vfs_nt_status(fd);
	struct statx fst;
	s = existing_same(cs, fd, st, &fst, again);
	if (s != STATUS_SUCCESS)
		return s;
	struct vfs_dosinfo_ext dosx;
	int dos_r = -1;
	s = existing_limits(cs, fd, is_dir, overwrite, required, &want, &max, &dosx, &dos_r);
	if (s != STATUS_SUCCESS) {
		vfs_close(fd);
		return s;
	}
	struct open *o;
	s = open_from_fd(cs, fd, want, is_dir, &fst, &o);
	if (s != STATUS_SUCCESS) {
		if (cs->retry) { /* a purged durable open took the file along */
			cs->retry = false;
			*again = 1;
		}
		return s;
	}
	cs->action = FILE_OPENED;
	if (!overwrite) { /* read after fst: the QUERY_INFOs to come may use it */
		fileops_attr_cache_prime(o, &fst, dos_r, &dosx);
	} else {
		s = existing_overwrite(cs, o, fd, dos_r, &dosx);
		if (s != STATUS_SUCCESS) {
			create_open_abort(o);
			return s;
		}
		cs->action = disp == FILE_SUPERSEDE ? FILE_SUPERSEDED : FILE_OVERWRITTEN;
	}
	cs->o = o;
	cs->max_access = max;
	return STATUS_SUCCESS;
}

/* Whether the new object may be created at all; *want: the access the
 * creator gets (it owns the object: it may do anything with it). */
static NTSTATUS new_allowed(struct create_state *cs, const struct acl_stored *psd, uint32_t *want)
{
	const struct wire_create_req *q = cs->q;
	uint32_t disp = q->create_disposition;
	bool dir = q->create_options & FILE_DIRECTORY_FILE;
	if (disp == FILE_OPEN || disp == FILE_OVERWRITE) {
		/* Name vs path not found: does the parent exist? */
		char *pp = create_parent_of(cs->path);
		struct statx pst;
		int r = pp ? vfs_statx(cs->id, cs->root, pp, 0, STATX_TYPE, &pst) : -ENOMEM;
		free(pp);
		if (r == -ENOENT || r == -ENOTDIR || (r >= 0 && !S_ISDIR(pst.stx_mode)))
			return STATUS_OBJECT_PATH_NOT_FOUND;
		return STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (is_dot_or_root(cs->path))
		return STATUS_OBJECT_NAME_INVALID;
	if (cs->trailing_slash && !dir)
		return STATUS_OBJECT_NAME_INVALID;
	if (cs->req->tree->read_only)
		return STATUS_ACCESS_DENIED;
	if (q->file_attributes & FILE_ATTRIBUTE_ENCRYPTED)
		return STATUS_ACCESS_DENIED; /* no EFS here, as a standalone server */
	*want = cs->want & ~(MAXIMUM_ALLOWED | ACCESS_SYSTEM_SECURITY);
	if (cs->max_allowed)
		*want |= FILE_ALL_ACCESS;
	if ((q->create_options & FILE_DELETE_ON_CLOSE) && !(*want & DELETE_ACCESS))
		return STATUS_ACCESS_DENIED;
	/* MS-FSA 2.1.5.1.1: a new read-only file cannot be delete-on-close. */
	if ((q->create_options & FILE_DELETE_ON_CLOSE) && (q->file_attributes & FILE_ATTRIBUTE_READONLY))
		return STATUS_CANNOT_DELETE;
	/* the parent's DACL must allow adding the file or directory */
	if (psd && !acl_create_allowed(&cs->req->tree->tok, psd, dir))
		return STATUS_ACCESS_DENIED;
	return STATUS_SUCCESS;
}

/* A failed mkdir or O_EXCL open: -errno -> *st (the name appeared: start again). */
static int new_failed(int r, int *again, NTSTATUS *st)
{
	if (r == -EEXIST) {
		*again = 1;
		*st = STATUS_OBJECT_NAME_COLLISION;
	} else if (r == -ENOENT || r == -ENOTDIR) {
		*st = STATUS_OBJECT_PATH_NOT_FOUND;
	} else {
		*st = vfs_nt_status(r);
	}
	return r;
}

/* Make the directory or the file (O_EXCL) with the share's modes: its fd,
 * or -errno with the status in *st. */
static int new_object(struct create_state *cs, bool dir, uint32_t want, int *again, NTSTATUS *st)
{
	struct smb2_req *req = cs->req;
	mode_t mode = share_new_mode(req, cs->root, cs->path, dir); /* create mask & co. */
	int fd;
	if (dir) {
		int r = vfs_mkdirat(cs->id, cs->root, cs->path, mode);
		if (r < 0)
			return new_failed(r, again, st);
		notify_sync();
		fd = vfs_open(cs->id, cs->root, cs->path, O_RDONLY | O_DIRECTORY, 0);
		share_new_object(req, cs->root, cs->path, fd, mode);
		if (fd < 0)
			*st = vfs_nt_status(fd);
		return fd;
	}
	fd = vfs_open(cs->id, cs->root, cs->path, data_flags(want, false) | O_CREAT | O_EXCL, mode);
	share_new_object(req, cs->root, cs->path, fd, mode);
	return fd < 0 ? new_failed(fd, again, st) : fd;
}

/* The descriptor a CREATE's SecD context gives the new object (MS-SMB2
 * 3.3.5.9.3): the parts it has, as SET_INFO SECURITY would store them.  A
 * SACL needs SeSecurityPrivilege, which no SMB user of smb3d holds. */
static NTSTATUS new_descriptor(struct create_state *cs, int fd)
{
	struct wire_sd sd;
	const char *why;
	if (wire_sd_decode(cs->sd, cs->sd_len, &sd, &why) < 0)
		return STATUS_INVALID_SECURITY_DESCR;
	if (sd.control & SE_SACL_PRESENT)
		return STATUS_PRIVILEGE_NOT_HELD;
	uint32_t si = (sd.owner ? OWNER_SECURITY_INFORMATION : 0) | (sd.group ? GROUP_SECURITY_INFORMATION : 0) |
		      ((sd.control & SE_DACL_PRESENT) ? DACL_SECURITY_INFORMATION : 0);
	return si ? acl_set(&cs->req->tree->tok, fd, si, cs->sd, cs->sd_len) : STATUS_SUCCESS;
}

static bool sd_has_dacl(const struct create_state *cs)
{
	struct wire_sd sd;
	const char *why;
	return wire_sd_decode(cs->sd, cs->sd_len, &sd, &why) == 0 && (sd.control & SE_DACL_PRESENT);
}

/* A new object's descriptor (SecD, else inherited: MS-DTYP 2.5.3.4), DOS attributes and create
 * time (MS-FSA 2.1.5.1.1), EAs and allocation. */
static NTSTATUS new_metadata(struct create_state *cs, struct open *o, int fd, bool dir, const struct statx *st,
			     const struct acl_stored *psd)
{
	const struct wire_create_req *q = cs->q;
	int r;
	/* "inherit owner = windows and unix": the NT owner is the new unix one */
	struct token tok = cs->req->tree->tok;
	if (cs->req->tree->share && cs->req->tree->share->inherit_owner == INHERIT_OWNER_WINDOWS_AND_UNIX)
		tok.uid = st->stx_uid;
	if (cs->sd) {
		/* a SecD without a DACL: the inherited one, then its owner and
		 * group (MS-DTYP 2.5.3.4.1 CreateSecurityDescriptor) */
		if (psd && !sd_has_dacl(cs) && (r = acl_inherit(&tok, psd, dir, fd)) < 0)
			return vfs_nt_status(r);
		NTSTATUS ss = new_descriptor(cs, fd);
		if (ss != STATUS_SUCCESS)
			return ss;
	} else if (psd && (r = acl_inherit(&tok, psd, dir, fd)) < 0) {
		log_warn("create %s: storing the inherited ACL: %s", cs->path, strerror(-r));
		return vfs_nt_status(r);
	}
	struct vfs_dosinfo d = { .attrs = q->file_attributes & ATTRS_SETTABLE };
	if (!dir)
		d.attrs |= FILE_ATTRIBUTE_ARCHIVE;
	struct timespec ts = { .tv_sec = st->stx_btime.tv_sec, .tv_nsec = st->stx_btime.tv_nsec };
	if (!(st->stx_mask & STATX_BTIME))
		clock_gettime(CLOCK_REALTIME, &ts);
	d.create_time = nttime_from_timespec(&ts);
	/* a new inode has no value to keep: no read before the write */
	struct vfs_dosinfo_ext dx = { .d = d };
	r = vfs_dos_set_ext(cs->id, fd, &dx);
	if (r < 0)
		log_debug("create %s: storing DOS attributes: %s", cs->path, strerror(-r));
	NTSTATUS es = cs->eas ? fileops_ea_apply(cs->id, fd, cs->eas, cs->eas_len, false) : STATUS_SUCCESS;
	if (es == STATUS_SUCCESS && !dir) /* MS-FSA 2.1.5.1.1: directories ignore it */
		es = create_alloc(cs, o, fd);
	return es;
}

/* Create a new object.  *again: it appeared meanwhile, start again.
 * psd: the parent's stored descriptor (NULL: none). */
static NTSTATUS create_new_in(struct create_state *cs, int *again, const struct acl_stored *psd)
{
	bool dir = cs->q->create_options & FILE_DIRECTORY_FILE;
	uint32_t want = 0;
	NTSTATUS s = new_allowed(cs, psd, &want);
	if (s != STATUS_SUCCESS)
		return s;
	int fd = new_object(cs, dir, want, again, &s);
	if (fd < 0)
		return s;
	struct statx st;
	int r = vfs_statx(cs->id, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &st);
	if (r < 0) {
		vfs_close(fd);
		return vfs_nt_status(r);
	}
	struct open *o;
	s = open_from_fd(cs, fd, want, dir, &st, &o);
	if (s != STATUS_SUCCESS)
		return s;
	s = new_metadata(cs, o, fd, dir, &st, psd);
	if (s != STATUS_SUCCESS) {
		create_undo(o);
		return s;
	}
	cs->o = o;
	cs->action = FILE_CREATED;
	/* The creator owns the new object: it may do anything with it. */
	cs->max_access = FILE_ALL_ACCESS & (cs->req->tree->read_only ? ~FILEOPS_WRITE_RIGHTS : ~0u);
	return STATUS_SUCCESS;
}

NTSTATUS create_new(struct create_state *cs, int *again)
{
	struct acl_stored psd;
	bool have = false;
	uint32_t disp = cs->q->create_disposition;
	if (disp != FILE_OPEN && disp != FILE_OVERWRITE && !is_dot_or_root(cs->path)) {
		char *pp = create_parent_of(cs->path);
		have = pp && acl_load_parent(cs->id, cs->root, pp, &psd) == 0;
		free(pp);
	}
	NTSTATUS s = create_new_in(cs, again, have ? &psd : NULL);
	if (have)
		acl_stored_free(&psd);
	return s;
}
