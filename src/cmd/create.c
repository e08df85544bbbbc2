/* CREATE ([MS-SMB2] 3.3.5.9, [MS-FSA] 2.1.5.1): open or create a file,
 * directory or named pipe.
 *
 * Order of checks follows Windows (smbtorture smb2.create.gentest): request
 * fields (options, attributes, access bits) first, then the name, then the
 * object (existence, type, access, share modes), and only then changes to
 * the file system (create, truncate, attributes). */
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
#include "cmd/fileops.h"
#include "cmd/share_policy.h"
#include "mc/oplock.h"
#include "cmd/ipc.h"
#include "cmd/streams.h"
#include "util/log.h"
#include "util/nttime.h"
#include "util/utf16.h"
#include "vfs/dosattr.h"
#include "vfs/vfs.h"
#include "wire/create.h"
#include "wire/fscc.h"

/* Until src/cmd/ipc.c provides them (a strong definition wins). */
__attribute__((weak)) NTSTATUS ipc_open(struct smb2_req *req, const char *name, struct open **out)
{
	(void)req; (void)name; *out = NULL;
	return STATUS_OBJECT_NAME_NOT_FOUND;
}
__attribute__((weak)) void ipc_close(struct open *o)
{
	(void)o;
}

/* CreateOptions bits: Windows answers INVALID_PARAMETER / NOT_SUPPORTED
 * (smb2.create.gentest masks). */
#define OPTIONS_INVALID 0xFF000000u
#define OPTIONS_NOT_SUPPORTED 0x00102080u  /* CREATE_TREE_CONNECTION, OPEN_BY_FILE_ID, RESERVE_OPFILTER */
/* FileAttributes a client may send ([MS-FSCC] 2.6 minus VOLUME/DEVICE/...) */
#define ATTRS_VALID 0x00007FB7u
/* Attributes stored on create ([MS-FSA] 2.1.5.1.2.1) */
#define ATTRS_SETTABLE (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | \
			FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_TEMPORARY | FILE_ATTRIBUTE_OFFLINE | \
			FILE_ATTRIBUTE_NOT_CONTENT_INDEXED)
/* DesiredAccess bits no object grants (reserved bits) -> ACCESS_DENIED. */
#define ACCESS_INVALID 0x0CE0FE00u
#define DATA_ACCESS (FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_EXECUTE | DELETE_ACCESS)
/* FileModeInformation bits taken from CreateOptions */
#define MODE_FROM_OPTIONS 0x0000103Eu

struct create_state {
	struct smb2_req *req;
	const struct wire_create_req *q;
	const struct vfs_ident *id;
	int root;
	char *path;               /* on disk, relative to the root */
	bool trailing_slash;
	uint32_t want;            /* requested access, generic mapped */
	bool max_allowed;
	uint64_t alloc;           /* AlSi */
	const uint8_t *eas;       /* ExtA: a checked FILE_FULL_EA_INFORMATION list */
	size_t eas_len;
	/* results */
	struct open *o;
	uint32_t action;
	uint32_t max_access;
};

static bool is_dot_or_root(const char *p) { return p[0] == 0; }

/* The parent directory of `path` ("" for names in the root); malloc'd. */
static char *parent_of(const char *path)
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

static void open_free_unregistered(struct open *o)
{
	if (!o)
		return;
	if (o->fd >= 0)
		vfs_close(o->fd);
	if (o->file)
		file_put(o->file);
	if (o->tree)
		tree_put(o->tree);
	session_put(o->session);
	vfs_ident_put(o->ident);
	free(o->path);
	free(o);
}

/* Attach the open to its file under the share-mode rules and register it. */
static NTSTATUS attach(struct create_state *cs, struct open *o, const struct statx *st)
{
	dev_t dev = makedev(st->stx_dev_major, st->stx_dev_minor);
	struct file *f = file_get(dev, st->stx_ino, S_ISDIR(st->stx_mode));
	if (!f)
		return STATUS_NO_MEMORY;
	o->file = f;
	/* An exclusive or batch oplock of another open is broken first: its
	 * holder may close and so end a sharing conflict ([MS-FSA] 2.1.5.1.2). */
	uint32_t disp = cs->q->create_disposition;
	oplock_break_for_create(cs->req, f, o->access, o->share_access,
				disp == FILE_SUPERSEDE || disp == FILE_OVERWRITE || disp == FILE_OVERWRITE_IF, share_conflict);
	pthread_mutex_lock(&f->lock);
	if (f->delete_pending) {
		pthread_mutex_unlock(&f->lock);
		return STATUS_DELETE_PENDING;
	}
	for (struct open *e = f->opens; e; e = e->file_next) {
		if (share_conflict(e, o->access, o->share_access)) {
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

static struct open *open_new(struct create_state *cs)
{
	struct open *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->fd = -1;
	o->path = strdup(cs->path);
	if (!o->path) {
		free(o);
		return NULL;
	}
	o->session = cs->req->session;
	session_get(o->session);
	o->ident = vfs_ident_ref(o->session->ident); /* the creator's identity, for good */
	o->tree = cs->req->tree;
	atomic_fetch_add(&o->tree->refs, 1);
	o->share_access = cs->q->share_access & (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE);
	o->create_options = cs->q->create_options;
	o->create_disposition = cs->q->create_disposition;
	o->write_through = cs->q->create_options & FILE_WRITE_THROUGH;
	o->mode = cs->q->create_options & MODE_FROM_OPTIONS;
	return o;
}

/* Wrap a freshly opened fd in an open and attach it to its file (share
 * modes, oplock breaks); the fd belongs to the open from here on. */
static NTSTATUS open_from_fd(struct create_state *cs, int fd, uint32_t want, bool is_dir, const struct statx *st,
			     struct open **out)
{
	struct open *o = open_new(cs);
	if (!o) {
		vfs_close(fd);
		return STATUS_NO_MEMORY;
	}
	o->fd = fd;
	o->access = want;
	o->is_dir = is_dir;
	o->delete_on_close = cs->q->create_options & FILE_DELETE_ON_CLOSE;
	NTSTATUS s = attach(cs, o, st);
	if (s != STATUS_SUCCESS) {
		open_free_unregistered(o);
		return s;
	}
	*out = o;
	return STATUS_SUCCESS;
}

/* Undo an open that was attached (registered) but must fail. */
static void open_abort(struct open *o)
{
	fileops_close_open(o, NULL);
	open_put(o);
}

/* Undo the create of an object that must not stay behind: the open was
 * its first, so closing it delete-pending removes it. */
static void undo_create(struct open *o)
{
	pthread_mutex_lock(&o->file->lock);
	o->file->delete_pending = true;
	pthread_mutex_unlock(&o->file->lock);
	open_abort(o);
}

/* The AllocationSize context (AlSi) of a file just created or overwritten
 * (size 0): bounded by the free space, preallocated only with "strict
 * allocate", as the session's user (alloc.h). */
static NTSTATUS create_alloc(struct create_state *cs, struct open *o, int fd)
{
	if (!cs->alloc)
		return STATUS_SUCCESS;
	const struct conf_share *sh = cs->req->tree->share;
	NTSTATUS st = alloc_grow(cs->id, o, fd, sh && sh->strict_allocate, 0, 0, cs->alloc);
	if (st == STATUS_SUCCESS)
		fileops_alloc_hint(o, cs->alloc);
	return st;
}

/* Open an existing object.  -EAGAIN: it changed under us, start again. */
static NTSTATUS open_existing(struct create_state *cs, const struct statx *st, int *again)
{
	const struct wire_create_req *q = cs->q;
	struct smb2_req *req = cs->req;
	uint32_t disp = q->create_disposition;
	bool is_dir = S_ISDIR(st->stx_mode);
	bool is_reg = S_ISREG(st->stx_mode);
	bool overwrite = disp == FILE_SUPERSEDE || disp == FILE_OVERWRITE || disp == FILE_OVERWRITE_IF;

	if ((q->create_options & FILE_DIRECTORY_FILE) && !is_dir)
		return STATUS_NOT_A_DIRECTORY;
	if ((q->create_options & FILE_NON_DIRECTORY_FILE) && is_dir)
		return STATUS_FILE_IS_A_DIRECTORY;
	if (disp == FILE_CREATE)
		return STATUS_OBJECT_NAME_COLLISION;
	if (is_dir && overwrite)
		return STATUS_INVALID_PARAMETER;
	if (cs->trailing_slash && !is_dir)
		return STATUS_OBJECT_NAME_INVALID;

	/* Maximal access from the unix permissions and the parent. */
	struct statx pst, *parent = NULL;
	if (!is_dot_or_root(cs->path)) {
		char *pp = parent_of(cs->path);
		if (pp && vfs_statx(cs->id, cs->root, pp, 0, STATX_BASIC_STATS, &pst) >= 0)
			parent = &pst;
		free(pp);
	}
	uint32_t max = fileops_max_access(req->session, req->tree, st, parent);
	uint32_t want = cs->want & ~(MAXIMUM_ALLOWED | ACCESS_SYSTEM_SECURITY);
	if (cs->max_allowed)
		want |= max;
	uint32_t required = cs->want & ~(MAXIMUM_ALLOWED | ACCESS_SYSTEM_SECURITY);
	if (overwrite)
		required |= FILE_WRITE_DATA;
	if (required & ~max)
		return STATUS_ACCESS_DENIED;
	if ((q->create_options & FILE_DELETE_ON_CLOSE) && !(want & DELETE_ACCESS))
		return STATUS_ACCESS_DENIED;

	/* Open the fd as the user: the kernel checks the data access. */
	int fd;
	if (is_dir) {
		fd = vfs_open(cs->id, cs->root, cs->path, O_RDONLY | O_DIRECTORY, 0);
		if (fd == -EACCES && !(required & FILE_READ_DATA)) {
			fd = vfs_open(cs->id, cs->root, cs->path, O_PATH | O_DIRECTORY, 0);
			want &= ~FILE_READ_DATA;
		}
	} else if (is_reg) {
		int flags = data_flags(want, overwrite);
		fd = vfs_open(cs->id, cs->root, cs->path, flags, 0);
		if (fd == -EACCES && cs->max_allowed && flags != O_RDONLY &&
		    !(required & (FILE_WRITE_DATA | FILE_APPEND_DATA))) {
			want &= ~(FILE_WRITE_DATA | FILE_APPEND_DATA);
			flags = O_RDONLY;
			fd = vfs_open(cs->id, cs->root, cs->path, flags, 0);
		}
		if (fd == -EACCES && flags == O_RDONLY &&
		    !(required & (FILE_READ_DATA | FILE_EXECUTE))) {
			want &= ~(FILE_READ_DATA | FILE_EXECUTE);
			fd = vfs_open(cs->id, cs->root, cs->path, O_PATH, 0);
		}
	} else {
		/* fifos, devices, sockets: metadata only */
		if (required & (FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_EXECUTE))
			return STATUS_ACCESS_DENIED;
		want &= ~(FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_EXECUTE);
		fd = vfs_open(cs->id, cs->root, cs->path, O_PATH, 0);
	}
	if (fd == -ENOENT || fd == -ENOTDIR) {
		*again = 1;
		return STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (fd < 0)
		return vfs_nt_status(fd);

	struct statx fst;
	int r = vfs_statx(cs->id, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &fst);
	if (r < 0) {
		vfs_close(fd);
		return vfs_nt_status(r);
	}
	if (fst.stx_ino != st->stx_ino || fst.stx_dev_major != st->stx_dev_major ||
	    fst.stx_dev_minor != st->stx_dev_minor || (fst.stx_mode & S_IFMT) != (st->stx_mode & S_IFMT)) {
		vfs_close(fd); /* replaced between stat and open */
		*again = 1;
		return STATUS_OBJECT_NAME_NOT_FOUND;
	}

	/* MS-DTYP 2.5.3.2: a DACL set by a client limits the access too (on
	 * top of the unix check above, which the kernel also applies). */
	char *pp = is_dot_or_root(cs->path) ? NULL : parent_of(cs->path);
	uint32_t lim = acl_open_limit(req->session, cs->id, cs->root, pp, fd);
	free(pp);
	if (required & ~lim) {
		vfs_close(fd);
		return STATUS_ACCESS_DENIED;
	}
	want &= lim;
	max &= lim;

	/* DOS attributes: read-only files refuse writes and deletes
	 * (MS-FSA 2.1.5.1.2), hidden/system must be repeated to overwrite. */
	struct vfs_dosinfo_ext dosx;
	int dos_r = vfs_dos_get_ext(cs->id, fd, &dosx);
	bool have_dos = dos_r >= 0;
	uint32_t attrs = have_dos ? dosx.d.attrs : 0;
	if (!is_dir && (attrs & FILE_ATTRIBUTE_READONLY)) {
		if (q->create_options & FILE_DELETE_ON_CLOSE) {
			vfs_close(fd);
			return STATUS_CANNOT_DELETE;
		}
		if (required & (FILE_WRITE_DATA | FILE_APPEND_DATA)) {
			vfs_close(fd);
			return STATUS_ACCESS_DENIED;
		}
		want &= ~(FILE_WRITE_DATA | FILE_APPEND_DATA);
	}
	if (overwrite && (((attrs & FILE_ATTRIBUTE_HIDDEN) && !(q->file_attributes & FILE_ATTRIBUTE_HIDDEN)) ||
			  ((attrs & FILE_ATTRIBUTE_SYSTEM) && !(q->file_attributes & FILE_ATTRIBUTE_SYSTEM)))) {
		vfs_close(fd);
		return STATUS_ACCESS_DENIED;
	}

	struct open *o;
	NTSTATUS s = open_from_fd(cs, fd, want, is_dir, &fst, &o);
	if (s != STATUS_SUCCESS)
		return s;

	cs->action = FILE_OPENED;
	if (!overwrite) /* read after fst: the QUERY_INFOs to come may use it */
		fileops_attr_cache_prime(o, &fst, dos_r, &dosx);
	if (overwrite) {
		r = vfs_ftruncate(cs->id, fd, 0);
		if (r < 0) {
			open_abort(o);
			return vfs_nt_status(r);
		}
		/* MS-FSA 2.1.5.1.2.2: the new attributes replace the old ones. */
		struct vfs_dosinfo nd = {
			.attrs = (q->file_attributes & ATTRS_SETTABLE) | FILE_ATTRIBUTE_ARCHIVE,
			.create_time = have_dos ? dosx.d.create_time : 0,
		};
		(void)vfs_dos_set(cs->id, fd, &nd);
		/* MS-FSA 2.1.5.1.2.2: the EAs given replace the file's EAs */
		if (cs->eas) {
			NTSTATUS es = fileops_ea_apply(cs->id, fd, cs->eas, cs->eas_len, true);
			if (es != STATUS_SUCCESS) {
				open_abort(o);
				return es;
			}
		}
		NTSTATUS as = create_alloc(cs, o, fd);
		if (as != STATUS_SUCCESS) {
			open_abort(o);
			return as;
		}
		cs->action = disp == FILE_SUPERSEDE ? FILE_SUPERSEDED : FILE_OVERWRITTEN;
	}
	cs->o = o;
	cs->max_access = max;
	return STATUS_SUCCESS;
}

/* Create a new object.  *again: it appeared meanwhile, start again.
 * psd: the parent's stored descriptor (NULL: none). */
static NTSTATUS create_new_in(struct create_state *cs, int *again, const struct acl_stored *psd)
{
	const struct wire_create_req *q = cs->q;
	struct smb2_req *req = cs->req;
	uint32_t disp = q->create_disposition;
	bool dir = q->create_options & FILE_DIRECTORY_FILE;

	if (disp == FILE_OPEN || disp == FILE_OVERWRITE) {
		/* Name vs path not found: does the parent exist? */
		char *pp = parent_of(cs->path);
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
	if (req->tree->read_only)
		return STATUS_ACCESS_DENIED;
	if (q->file_attributes & FILE_ATTRIBUTE_ENCRYPTED)
		return STATUS_ACCESS_DENIED; /* no EFS here, as a standalone server */

	/* The creator owns the new object: it may do anything with it. */
	uint32_t max = FILE_ALL_ACCESS;
	uint32_t want = cs->want & ~(MAXIMUM_ALLOWED | ACCESS_SYSTEM_SECURITY);
	if (cs->max_allowed)
		want |= max;
	if ((q->create_options & FILE_DELETE_ON_CLOSE) && !(want & DELETE_ACCESS))
		return STATUS_ACCESS_DENIED;
	/* MS-FSA 2.1.5.1.1: a new read-only file cannot be delete-on-close. */
	if ((q->create_options & FILE_DELETE_ON_CLOSE) && (q->file_attributes & FILE_ATTRIBUTE_READONLY))
		return STATUS_CANNOT_DELETE;
	/* the parent's DACL must allow adding the file or directory */
	if (psd && !acl_create_allowed(req->session, psd, dir))
		return STATUS_ACCESS_DENIED;

	int fd;
	mode_t mode = share_new_mode(req, cs->root, cs->path, dir); /* create mask & co. */
	if (dir) {
		int r = vfs_mkdirat(cs->id, cs->root, cs->path, mode);
		if (r == -EEXIST) {
			*again = 1;
			return STATUS_OBJECT_NAME_COLLISION;
		}
		if (r == -ENOENT || r == -ENOTDIR)
			return STATUS_OBJECT_PATH_NOT_FOUND;
		if (r < 0)
			return vfs_nt_status(r);
		notify_sync();
		fd = vfs_open(cs->id, cs->root, cs->path, O_RDONLY | O_DIRECTORY, 0);
		share_new_object(req, fd, mode);
	} else {
		int flags = data_flags(want, false) | O_CREAT | O_EXCL;
		fd = vfs_open(cs->id, cs->root, cs->path, flags, mode);
		share_new_object(req, fd, mode);
		if (fd == -EEXIST) {
			*again = 1;
			return STATUS_OBJECT_NAME_COLLISION;
		}
		if (fd == -ENOENT || fd == -ENOTDIR)
			return STATUS_OBJECT_PATH_NOT_FOUND;
	}
	if (fd < 0)
		return vfs_nt_status(fd);

	struct statx st;
	int r = vfs_statx(cs->id, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &st);
	if (r < 0) {
		vfs_close(fd);
		return vfs_nt_status(r);
	}
	struct open *o;
	NTSTATUS s = open_from_fd(cs, fd, want, dir, &st, &o);
	if (s != STATUS_SUCCESS)
		return s;

	/* MS-DTYP 2.5.3.4: the DACL inherited from the parent's */
	if (psd && (r = acl_inherit(req->session, psd, dir, fd)) < 0) {
		log_warn("create %s: storing the inherited ACL: %s", cs->path, strerror(-r));
		undo_create(o);
		return vfs_nt_status(r);
	}

	/* DOS attributes and the create time (MS-FSA 2.1.5.1.1). */
	struct vfs_dosinfo d = { .attrs = q->file_attributes & ATTRS_SETTABLE };
	if (!dir)
		d.attrs |= FILE_ATTRIBUTE_ARCHIVE;
	if (st.stx_mask & STATX_BTIME) {
		struct timespec ts = { .tv_sec = st.stx_btime.tv_sec, .tv_nsec = st.stx_btime.tv_nsec };
		d.create_time = nttime_from_timespec(&ts);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		d.create_time = nttime_from_timespec(&ts);
	}
	/* a new inode has no value to keep: no read before the write */
	struct vfs_dosinfo_ext dx = { .d = d };
	r = vfs_dos_set_ext(cs->id, fd, &dx);
	if (r < 0)
		log_debug("create %s: storing DOS attributes: %s", cs->path, strerror(-r));
	NTSTATUS es = cs->eas ? fileops_ea_apply(cs->id, fd, cs->eas, cs->eas_len, false) : STATUS_SUCCESS;
	if (es == STATUS_SUCCESS && !dir) /* MS-FSA 2.1.5.1.1: directories ignore it */
		es = create_alloc(cs, o, fd);
	if (es != STATUS_SUCCESS) {
		undo_create(o);
		return es;
	}
	cs->o = o;
	cs->action = FILE_CREATED;
	cs->max_access = max & (req->tree->read_only ? ~FILEOPS_WRITE_RIGHTS : ~0u);
	return STATUS_SUCCESS;
}

static NTSTATUS create_new(struct create_state *cs, int *again)
{
	struct acl_stored psd;
	bool have = false;
	uint32_t disp = cs->q->create_disposition;
	if (disp != FILE_OPEN && disp != FILE_OVERWRITE && !is_dot_or_root(cs->path)) {
		char *pp = parent_of(cs->path);
		have = pp && acl_load_parent(cs->id, cs->root, pp, &psd) == 0;
		free(pp);
	}
	NTSTATUS s = create_new_in(cs, again, have ? &psd : NULL);
	if (have)
		acl_stored_free(&psd);
	return s;
}

/* What the session may do with the base file of a stream ([MS-FSA]
 * 2.1.5.1: a stream's access is checked against its file): the unix
 * permissions and the share, limited by a DACL a client set on the file.
 * Nothing when the file cannot be opened to read that DACL. */
static uint32_t stream_base_max(struct create_state *cs, const struct statx *bst)
{
	struct smb2_req *req = cs->req;
	struct statx pst, *parent = NULL;
	char *pp = parent_of(cs->path);
	if (pp && vfs_statx(cs->id, cs->root, pp, 0, STATX_BASIC_STATS, &pst) >= 0)
		parent = &pst;
	uint32_t max = fileops_max_access(req->session, req->tree, bst, parent);
	int fd = vfs_open(cs->id, cs->root, cs->path, O_PATH, 0);
	if (fd >= 0) {
		max &= acl_open_limit(req->session, cs->id, cs->root, pp, fd);
		vfs_close(fd);
	} else {
		max = 0;
	}
	free(pp);
	return max;
}

/* What creating a stream may take as the server: the depot's two directory
 * blocks and the stream's inode. */
#define STREAM_CREATE_SPACE (3 * 4096)

/* Open or create named stream `stream` of cs->path ([MS-FSA] 2.1.5.1):
 * the base file is created when missing (and the disposition creates);
 * access is checked against the base; the open's fd is the stream's
 * file in the depot (streams.h), its path "base:stream". */
/* The base file of a stream open: stat it, or create it when missing and
 * the disposition creates (*created). */
static NTSTATUS stream_base(struct create_state *cs, struct statx *bst, bool *created)
{
	const struct wire_create_req *q = cs->q;
	uint32_t disp = q->create_disposition;
	*created = false;
	int r = vfs_statx(cs->id, cs->root, cs->path, 0, STATX_BASIC_STATS | STATX_BTIME, bst);
	if (r == -ENOTDIR)
		return STATUS_OBJECT_PATH_NOT_FOUND;
	if (r != -ENOENT)
		return r < 0 ? vfs_nt_status(r) : STATUS_SUCCESS;
	if (disp == FILE_OPEN || disp == FILE_OVERWRITE)
		return STATUS_OBJECT_NAME_NOT_FOUND;
	if (cs->req->tree->read_only)
		return STATUS_ACCESS_DENIED;
	mode_t mode = share_new_mode(cs->req, cs->root, cs->path, false);
	int fd = vfs_open(cs->id, cs->root, cs->path, O_RDONLY | O_CREAT | O_EXCL, mode);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return STATUS_OBJECT_PATH_NOT_FOUND;
	if (fd < 0)
		return vfs_nt_status(fd);
	share_new_object(cs->req, fd, mode);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct vfs_dosinfo d = {
		.attrs = (q->file_attributes & ATTRS_SETTABLE) | FILE_ATTRIBUTE_ARCHIVE,
		.create_time = nttime_from_timespec(&ts),
	};
	(void)vfs_dos_set(cs->id, fd, &d);
	r = vfs_statx(cs->id, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, bst);
	vfs_close(fd);
	if (r < 0)
		return vfs_nt_status(r);
	*created = true;
	return STATUS_SUCCESS;
}

/* Open, or create when the disposition says so, the depot file of stream
 * `stream` of the base file `bst` the session may access as `max`:
 * *fd, *ondisk (its name as stored, malloc'd) and *action on success. */
static NTSTATUS stream_file(struct create_state *cs, const struct statx *bst, const char *stream, uint32_t max,
			    int *fd_out, char **ondisk, uint32_t *action)
{
	uint32_t disp = cs->q->create_disposition;
	bool creates = disp != FILE_OPEN && disp != FILE_OVERWRITE;
	int trunc = disp == FILE_SUPERSEDE || disp == FILE_OVERWRITE || disp == FILE_OVERWRITE_IF ? O_TRUNC : 0;
	dev_t dev = makedev(bst->stx_dev_major, bst->stx_dev_minor);
	int fd = -ENOENT;
	for (int tries = 0; tries < 4 && fd == -ENOENT; tries++) {
		if (disp != FILE_CREATE) {
			fd = streams_open(cs->root, dev, bst->stx_ino, stream, O_RDWR | trunc, bst->stx_uid,
					  bst->stx_gid, ondisk);
			if (fd >= 0) {
				*action = !trunc ? FILE_OPENED : disp == FILE_SUPERSEDE ? FILE_SUPERSEDED : FILE_OVERWRITTEN;
				break;
			}
			if (fd != -ENOENT)
				break;
		}
		if (!creates)
			return STATUS_OBJECT_NAME_NOT_FOUND;
		if (cs->req->tree->read_only)
			return STATUS_ACCESS_DENIED;
		/* [MS-FSA] 2.1.5.1.2.1: a new stream writes its file, whatever
		 * the open asks for (an OPEN_IF for reading included). */
		if (!(max & FILE_WRITE_DATA))
			return STATUS_ACCESS_DENIED;
		/* The depot's directories and files are made as the server:
		 * never out of the blocks only root may use (alloc.h). */
		NTSTATUS ds = alloc_check(cs->id, cs->root, STREAM_CREATE_SPACE);
		if (ds != STATUS_SUCCESS)
			return ds;
		fd = streams_open(cs->root, dev, bst->stx_ino, stream, O_RDWR | O_CREAT | O_EXCL, bst->stx_uid,
				  bst->stx_gid, ondisk);
		if (fd >= 0) {
			*action = FILE_CREATED;
			break;
		}
		if (fd == -EEXIST) {
			if (disp == FILE_CREATE)
				return STATUS_OBJECT_NAME_COLLISION;
			fd = -ENOENT; /* appeared meanwhile: open it */
		}
	}
	if (fd < 0)
		return vfs_nt_status(fd);
	*fd_out = fd;
	return STATUS_SUCCESS;
}

/* Wrap a stream's fd in an open named "base:stream" and attach it to the
 * stream's own file (share modes, oplocks); the fd is the open's from here
 * on, whatever the outcome. */
static NTSTATUS stream_attach(struct create_state *cs, int fd, const char *ondisk, uint32_t want,
			      struct open **out)
{
	struct statx sst;
	int r = vfs_statx(NULL, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &sst);
	size_t plen = strlen(cs->path) + 1 + strlen(ondisk) + 1;
	char *spath = r < 0 ? NULL : malloc(plen);
	if (!spath) {
		vfs_close(fd);
		return r < 0 ? vfs_nt_status(r) : STATUS_NO_MEMORY;
	}
	snprintf(spath, plen, "%s:%s", cs->path, ondisk);
	char *saved = cs->path;
	cs->path = spath;
	struct open *o = open_new(cs);
	cs->path = saved;
	free(spath);
	if (!o) {
		vfs_close(fd);
		return STATUS_NO_MEMORY;
	}
	o->fd = fd;
	o->access = want;
	o->is_dir = false;
	o->delete_on_close = cs->q->create_options & FILE_DELETE_ON_CLOSE;
	NTSTATUS s = attach(cs, o, &sst);
	if (s != STATUS_SUCCESS) {
		open_free_unregistered(o);
		return s;
	}
	*out = o;
	return STATUS_SUCCESS;
}

static NTSTATUS open_stream(struct create_state *cs, const char *stream)
{
	uint32_t disp = cs->q->create_disposition;
	struct statx bst;
	bool base_created;
	NTSTATUS s = stream_base(cs, &bst, &base_created);
	if (s != STATUS_SUCCESS)
		return s;

	/* Access: what the session may do with the base file. */
	uint32_t max = base_created ? FILE_ALL_ACCESS : stream_base_max(cs, &bst);
	if (cs->req->tree->read_only)
		max &= ~FILEOPS_WRITE_RIGHTS;
	uint32_t want = cs->want & ~(MAXIMUM_ALLOWED | ACCESS_SYSTEM_SECURITY);
	if (cs->max_allowed)
		want |= max;
	uint32_t required = cs->want & ~(MAXIMUM_ALLOWED | ACCESS_SYSTEM_SECURITY);
	if (disp == FILE_SUPERSEDE || disp == FILE_OVERWRITE || disp == FILE_OVERWRITE_IF)
		required |= FILE_WRITE_DATA;
	if (required & ~max)
		return STATUS_ACCESS_DENIED;
	want &= max | SYNCHRONIZE;

	int fd = -1;
	char *ondisk = NULL;
	uint32_t action = FILE_OPENED;
	if ((s = stream_file(cs, &bst, stream, max, &fd, &ondisk, &action)) != STATUS_SUCCESS)
		return s;
	struct open *o = NULL;
	s = stream_attach(cs, fd, ondisk, want, &o);
	free(ondisk);
	if (s != STATUS_SUCCESS)
		return s;
	if (action == FILE_CREATED) {
		struct vfs_dosinfo d = { .attrs = FILE_ATTRIBUTE_ARCHIVE };
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		d.create_time = nttime_from_timespec(&ts);
		(void)vfs_dos_set(NULL, fd, &d);
	}
	if (action != FILE_OPENED) {
		/* as the user: the depot is the server's, the space is not */
		NTSTATUS as = create_alloc(cs, o, fd);
		if (as != STATUS_SUCCESS) {
			if (action == FILE_CREATED)
				undo_create(o);
			else
				open_abort(o);
			return as;
		}
	}
	cs->o = o;
	cs->action = action;
	cs->max_access = max;
	return STATUS_SUCCESS;
}

static NTSTATUS do_open(struct create_state *cs)
{
	for (int tries = 0; tries < 4; tries++) {
		struct statx st;
		int again = 0;
		int r = vfs_statx(cs->id, cs->root, cs->path, 0, STATX_BASIC_STATS | STATX_BTIME, &st);
		NTSTATUS s;
		if (r >= 0)
			s = open_existing(cs, &st, &again);
		else if (r == -ENOENT)
			s = create_new(cs, &again);
		else if (r == -ENOTDIR)
			return STATUS_OBJECT_PATH_NOT_FOUND;
		else
			return vfs_nt_status(r);
		if (!again)
			return s;
	}
	return STATUS_OBJECT_NAME_COLLISION;
}

/* Named pipes on IPC$. */
static NTSTATUS create_pipe(struct smb2_req *req, const struct wire_create_req *q)
{
	char *name = NULL;
	if (!q->name_len)
		return STATUS_OBJECT_NAME_NOT_FOUND;
	if (utf16le_to_utf8(q->name, q->name_len, &name, NULL) < 0)
		return STATUS_OBJECT_NAME_INVALID;
	const char *n = name;
	while (*n == '\\')
		n++;
	if (strncasecmp(n, "PIPE\\", 5) == 0)
		n += 5;
	struct open *o = NULL;
	NTSTATUS st = ipc_open(req, n, &o);
	free(name);
	if (st != STATUS_SUCCESS)
		return st;
	req->file_id_persistent = o->persistent_id;
	req->file_id_volatile = o->volatile_id;
	struct wire_create_rsp rsp = {
		.create_action = FILE_OPENED,
		.attrs = FILE_ATTRIBUTE_NORMAL,
		.fid = { o->persistent_id, o->volatile_id },
	};
	open_put(o);
	if (wire_create_encode_rsp(&req->out, &rsp, NULL, 0) < 0)
		return STATUS_INSUFFICIENT_RESOURCES;
	return STATUS_SUCCESS;
}

/* Request checks that come before any look at the name or the disk. */
static NTSTATUS check_request(const struct wire_create_req *q)
{
	if (q->impersonation > 3)
		return STATUS_BAD_IMPERSONATION_LEVEL;
	if (q->create_options & OPTIONS_INVALID)
		return STATUS_INVALID_PARAMETER;
	if ((q->create_options & (FILE_DIRECTORY_FILE | FILE_NON_DIRECTORY_FILE)) ==
	    (FILE_DIRECTORY_FILE | FILE_NON_DIRECTORY_FILE))
		return STATUS_INVALID_PARAMETER;
	if (q->create_disposition > FILE_OVERWRITE_IF)
		return STATUS_INVALID_PARAMETER;
	/* MS-FSA 2.1.5.1: a directory is only opened or created. */
	if ((q->create_options & FILE_DIRECTORY_FILE) &&
	    q->create_disposition != FILE_CREATE && q->create_disposition != FILE_OPEN &&
	    q->create_disposition != FILE_OPEN_IF)
		return STATUS_INVALID_PARAMETER;
	if (q->create_options & OPTIONS_NOT_SUPPORTED)
		return STATUS_NOT_SUPPORTED;
	if (q->desired_access & ACCESS_INVALID)
		return STATUS_ACCESS_DENIED;
	if (q->file_attributes & ~ATTRS_VALID)
		return STATUS_INVALID_PARAMETER;
	if (q->desired_access & ACCESS_SYSTEM_SECURITY)
		return STATUS_PRIVILEGE_NOT_HELD; /* SeSecurityPrivilege */
	/* An open that asks for nothing is refused (smb2.create.gentest);
	 * SYNCHRONIZE alone is a valid request (smb2.sharemode). */
	if (!q->desired_access)
		return STATUS_ACCESS_DENIED;
	if ((q->create_options & FILE_DELETE_ON_CLOSE) &&
	    !(fileops_map_generic(q->desired_access) & (DELETE_ACCESS | MAXIMUM_ALLOWED)))
		return STATUS_ACCESS_DENIED;
	return STATUS_SUCCESS;
}

/* The request's name -> the path on disk (case resolved) and the stream
 * name (NULL: the default stream).  Both malloc'd on success; nothing
 * allocated is left behind on failure. */
static NTSTATUS create_name(struct smb2_req *req, const struct wire_create_req *q, struct create_state *cs,
			    char **name_out, char **stream_out)
{
	char *name = NULL, *stream = NULL;
	NTSTATUS st = fileops_name_stream(req, q->name, q->name_len, &name, &cs->trailing_slash, &stream);
	if (st != STATUS_SUCCESS)
		return st;
	if (stream && (!name[0] || (q->create_options & FILE_DIRECTORY_FILE) || cs->trailing_slash)) {
		st = name[0] ? STATUS_NOT_A_DIRECTORY : STATUS_OBJECT_NAME_INVALID;
		goto fail;
	}
	if (name[0] && req->tree->share->case_insensitive) {
		char *real = NULL;
		int r = vfs_resolve_ci(cs->id, cs->root, name, &real);
		if (r == -ENOENT || r == -ENOTDIR) {
			st = STATUS_OBJECT_PATH_NOT_FOUND;
			goto fail;
		}
		if (r >= 0 && real) {
			free(name);
			name = real;
		}
	}
	*name_out = name;
	*stream_out = stream;
	return STATUS_SUCCESS;
fail:
	free(name);
	free(stream);
	return st;
}

NTSTATUS cmd_create(struct smb2_req *req)
{
	struct wire_create_req q;
	if (wire_create_decode_req(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	NTSTATUS st = check_request(&q);
	if (st != STATUS_SUCCESS)
		return st;
	/* "max open files" and its per-session / per-user bounds: refused
	 * before any descriptor is opened (Samba answers the same status). */
	if (open_limit_check(req->session) < 0)
		return STATUS_TOO_MANY_OPENED_FILES;
	if (req->tree->ipc)
		return create_pipe(req, &q);

	struct create_state cs = {
		.req = req,
		.q = &q,
		.id = req->session->ident,
		.root = req->tree->root_fd,
	};
	/* Create contexts (MS-SMB2 3.3.5.9.x). */
	bool want_mxac = false, want_qfid = false;
	for (unsigned i = 0; i < q.n_ctx; i++) {
		const struct wire_create_ctx *c = &q.ctx[i];
		if (c->name_len < 4)
			return STATUS_INVALID_PARAMETER;
		if (c->name_len != 4)
			continue; /* GUID-named contexts (AAPL ...) are not ours */
		if (!memcmp(c->name, WIRE_CTX_EA_BUFFER, 4)) {
			/* MS-SMB2 3.3.5.9.1: FILE_FULL_EA_INFORMATION, applied
			 * when the file is created or overwritten */
			if ((st = fileops_ea_check(c->data, c->data_len, NULL)))
				return st;
			if (c->data_len) {
				cs.eas = c->data;
				cs.eas_len = c->data_len;
			}
			continue;
		}
		if (!memcmp(c->name, WIRE_CTX_TIMEWARP, 4))
			return STATUS_OBJECT_NAME_NOT_FOUND; /* no previous versions */
		if (!memcmp(c->name, WIRE_CTX_DURABLE_RECONNECT, 4) ||
		    !memcmp(c->name, WIRE_CTX_DURABLE_RECONNECT_V2, 4))
			return STATUS_OBJECT_NAME_NOT_FOUND; /* no durable handles yet */
		if (!memcmp(c->name, WIRE_CTX_MAXIMAL_ACCESS, 4)) {
			struct wire_ctx_mxac m;
			if (wire_ctx_mxac_decode(c, &m) < 0)
				return STATUS_INVALID_PARAMETER;
			want_mxac = true;
		} else if (!memcmp(c->name, WIRE_CTX_QUERY_ON_DISK_ID, 4)) {
			want_qfid = true;
		} else if (!memcmp(c->name, WIRE_CTX_ALLOCATION_SIZE, 4)) {
			if (wire_ctx_alsi_decode(c, &cs.alloc) < 0)
				return STATUS_INVALID_PARAMETER;
		}
		/* SecD, DHnQ, DH2Q, RqLs: accepted and ignored for now. */
	}

	char *name = NULL, *stream = NULL;
	st = create_name(req, &q, &cs, &name, &stream);
	if (st != STATUS_SUCCESS)
		return st;
	cs.path = name;
	uint32_t acc = fileops_map_generic(q.desired_access);
	cs.max_allowed = acc & MAXIMUM_ALLOWED;
	cs.want = acc;

	st = stream ? open_stream(&cs, stream) : do_open(&cs);
	free(stream);
	if (st != STATUS_SUCCESS) {
		log_debug("create '%s' disp %u opts %#x access %#x: %s", name, q.create_disposition,
			  q.create_options, q.desired_access, nt_status_name(st));
		free(name);
		return st;
	}
	free(name);
	struct open *o = cs.o;
	req->file_id_persistent = o->persistent_id;
	req->file_id_volatile = o->volatile_id;

	struct fileops_attrs a;
	st = fileops_stat_open(o, &a);
	if (st != STATUS_SUCCESS) {
		open_abort(o);
		return st;
	}
	struct wire_create_rsp rsp = {
		.oplock_level = oplock_grant(o, q.oplock_level),
		.create_action = cs.action,
		.create = a.create, .access = a.access, .write = a.write, .change = a.change,
		.alloc = a.alloc, .eof = a.eof,
		.attrs = a.attrs,
		.fid = { o->persistent_id, o->volatile_id },
	};
	struct wire_create_rsp_ctx ctx[2];
	unsigned n_ctx = 0;
	if (want_mxac)
		wire_ctx_mxac_rsp(&ctx[n_ctx++], STATUS_SUCCESS, cs.max_access);
	if (want_qfid)
		wire_ctx_qfid_rsp(&ctx[n_ctx++], a.ino, a.dev);
	if (req_out_reserve(req, 88 + 2 * 80) < 0 ||
	    wire_create_encode_rsp(&req->out, &rsp, ctx, n_ctx) < 0) {
		open_abort(o);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	log_debug("create '%s' -> fid %llu action %u access %#x", o->path,
		  (unsigned long long)o->volatile_id, cs.action, o->access);
	open_put(o);
	return STATUS_SUCCESS;
}
