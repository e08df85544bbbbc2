/* Helpers shared by the file-service handlers (see fileops.h). */
#include "cmd/fileops.h"
#include "cmd/share_policy.h"
#include "mc/lease.h"
#include "mc/oplock.h"
#include "wire/create.h"
#include "cmd/change_notify.h"
#include "state/brl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/ioctl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include "cmd/change_notify.h"
#include "cmd/durable.h"
#include "cmd/ipc.h"
#include "cmd/streams.h"
#include "state/brl.h"
#include "util/coro.h"
#include "util/log.h"
#include "util/nttime.h"
#include "util/utf16.h"
#include "vfs/dosattr.h"
#include "vfs/vfs.h"
#include "wire/close.h"
#include "wire/fscc.h"

/* ---- opens ---- */

NTSTATUS fileops_check_access(const struct open *o, uint32_t needed)
{
	return (o->access & needed) == needed ? STATUS_SUCCESS : STATUS_ACCESS_DENIED;
}

/* Remove the file at path (o's) now: called for the last open of a
 * delete-pending file.  Always through the vfs, as the session's user and
 * beneath the share root (a teardown at disconnect runs in a coroutine of
 * its own for this: proto/conn.c); outside a coroutine nothing is removed. */
static int remove_path(struct open *o, const char *path)
{
	int flags = o->is_dir ? AT_REMOVEDIR : 0;
	int root = open_root_fd(o);
	if (root < 0 || !path[0])
		return -EINVAL;
	if (!coro_self())
		return -EAGAIN;
	const struct vfs_ident *id = o->ident;
	const char *colon = strchr(path, ':');
	if (colon) {
		/* a named stream (streams.h): "base:stream" */
		char *base = strndup(path, (size_t)(colon - path));
		if (!base)
			return -ENOMEM;
		struct statx st;
		int r = vfs_statx(id, root, base, 0, STATX_INO, &st);
		struct tree *t = open_tree_get(o); /* NULL detached: its streams are in the depot */
		bool xattr = t && t->share && t->share->streams_xattr;
		tree_put(t);
		if (r == 0 && xattr)
			r = streams_xattr_unlink(root, base, makedev(st.stx_dev_major, st.stx_dev_minor), st.stx_ino,
						 colon + 1);
		else if (r == 0)
			r = streams_unlink(root, makedev(st.stx_dev_major, st.stx_dev_minor), st.stx_ino, colon + 1);
		free(base);
		return r;
	}
	/* the last name of a file takes its streams along */
	struct statx st;
	int sr = vfs_statx(id, root, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st);
	if (o->is_dir && o->tree) /* "delete veto files": they go first */
		(void)share_delete_vetoed(id, root, path, o->tree->share);
	int r = vfs_unlinkat(id, root, path, flags);
	if (r == 0 && sr == 0 && (o->is_dir || st.stx_nlink <= 1))
		streams_remove_all(root, makedev(st.stx_dev_major, st.stx_dev_minor), st.stx_ino);
	return r;
}

void fileops_note_deleter(struct file *f, const struct open *o)
{
	uint8_t key[16], parent[16];
	bool has_parent = false;
	(void)lease_keys_of(o, key, parent, &has_parent);
	pthread_mutex_lock(&f->lock);
	if (f->delete_by_state == 0 && has_parent) {
		memcpy(f->delete_by, parent, 16);
		f->delete_by_state = 1;
	} else if (f->delete_by_state == 0 || !has_parent || memcmp(f->delete_by, parent, 16)) {
		f->delete_by_state = 2;
	}
	pthread_mutex_unlock(&f->lock);
}

/* The rest of a close, once the open left the tables. */
static void close_unregistered(struct open *o, struct wire_close_rsp *post)
{
	if (o->pipe) {
		ipc_close(o);
		return;
	}
	if (post) {
		/* MS-SMB2 3.3.5.10: attributes as of the close. */
		struct fileops_attrs a;
		if (coro_self() && fileops_stat_open(o, &a) == STATUS_SUCCESS) {
			post->flags = SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB;
			post->create = a.create;
			post->access = a.access;
			post->write = a.write;
			post->change = a.change;
			post->alloc = a.alloc;
			post->eof = a.eof;
			post->attrs = a.attrs;
		}
	}
	struct file *f = o->file;
	if (!f)
		return;
	durable_closed(o);
	/* Byte-range locks, pending notifies, a lease watch die with the open. */
	brl_close_open(o);
	notify_open_closed(o);
	lease_watch_closed(o);
	lease_watch_own_open(o); /* times set at the close, a delete */
	bool remove = false;
	/* who deletes: the directory lease that the opens asking for the
	 * delete and the last close all name is spared */
	uint8_t key[16], parent[16];
	bool has_parent = false;
	(void)lease_keys_of(o, key, parent, &has_parent);
	if (o->delete_on_close)
		fileops_note_deleter(f, o);
	pthread_mutex_lock(&f->lock);
	file_remove_open(f, o);
	/* MS-FSA 2.1.5.4: the close of an open with DeleteOnClose makes the
	 * file delete-pending; the last close of a delete-pending file
	 * deletes it. */
	if (o->delete_on_close)
		f->delete_pending = true;
	bool now_pending = o->delete_on_close && f->n_opens > 0;
	uint8_t spare[16];
	bool spared = false;
	if (f->delete_pending && f->n_opens == 0) {
		remove = true;
		f->delete_pending = false; /* the next open sees the result */
		spared = has_parent && (f->delete_by_state == 0 ||
					(f->delete_by_state == 1 && !memcmp(f->delete_by, parent, 16)));
		memcpy(spare, parent, 16);
		f->delete_by_state = 0;
	}
	pthread_mutex_unlock(&f->lock);
	if (now_pending) {
		notify_delete_pending(f);
		lease_break_handles(NULL, o, false); /* the delete is pending now (smb2.lease.initial_delete_*) */
	}
	oplock_open_closed(o);
	struct open_path *p = remove || (atomic_load(&o->written) && coro_self()) ? open_path_get(o) : NULL;
	if (remove) {
		int r = remove_path(o, p->s);
		if (r < 0)
			log_debug("delete on close of %s: %s", p->s, strerror(-r));
		else if (post)
			post->flags = 0, post->attrs = 0; /* gone */
		if (r == 0)
			lease_break_dir(o->ident, open_root_fd(o), spared ? spare : NULL, p->s);
	} else if (p) {
		lease_break_dir(o->ident, open_root_fd(o), has_parent ? parent : NULL, p->s);
	}
	open_path_put(p);
}

bool fileops_close_open(struct open *o, struct wire_close_rsp *post)
{
	if (!open_unregister(o))
		return false;
	close_unregistered(o, post);
	return true;
}

bool fileops_close_detached(struct open *o, uint32_t gen)
{
	if (!open_unregister_detached(o, gen))
		return false;
	close_unregistered(o, NULL);
	return true;
}

/* A tree or session goes: its opens close, or with keep_durable its
 * durable ones are detached and kept (cmd/durable.c). */
static void close_opens_of_tree(struct session *s, struct tree *t, bool keep_durable)
{
	unsigned n = 0;
	struct open **v = open_list(s, t, &n);
	for (unsigned i = 0; i < n; i++) {
		if (!keep_durable || !durable_keep(v[i]))
			fileops_close_open(v[i], NULL);
		open_put(v[i]);
	}
	free(v);
}

void fileops_init(void)
{
	state_close_opens_of_tree = close_opens_of_tree;
}

/* ---- names ---- */

static bool reserved_char(unsigned char c)
{
	return c < 0x20 || c == '<' || c == '>' || c == '"' || c == '|' || c == '?' ||
	       c == '*' || c == '/';
}

NTSTATUS fileops_name_ex(struct smb2_req *req, const uint8_t *utf16, size_t len, char **path,
			 bool *trailing_slash)
{
	return fileops_name_stream(req, utf16, len, path, trailing_slash, NULL);
}

/* "name", "name:$DATA" or ":$DATA" after the first colon -> the stream
 * name (NULL for the default stream), or an error status. */
static NTSTATUS parse_stream(char *colon, char **stream)
{
	char *name = colon + 1;
	char *type = strchr(name, ':');
	*stream = NULL;
	if (type) {
		*type++ = 0;
		if (strcasecmp(type, "$DATA") != 0)
			return STATUS_OBJECT_NAME_INVALID;
	}
	if (!name[0])
		return type ? STATUS_SUCCESS : STATUS_OBJECT_NAME_INVALID; /* "f::$DATA" / "f:" */
	/* [MS-FSCC] 2.1.5.3: a stream name may hold any character but the
	 * separators and ':' -- control characters and wildcards included
	 * (smbtorture smb2.streams.names2 walks 0x01-0x7e) */
	for (const char *p = name; *p; p++)
		if (*p == '\\' || *p == '/' || *p == ':')
			return STATUS_OBJECT_NAME_INVALID;
	if (strlen(name) > 255)
		return STATUS_OBJECT_NAME_INVALID;
	*stream = strdup(name);
	return *stream ? STATUS_SUCCESS : STATUS_NO_MEMORY;
}

/* One component of a client's path, not "." nor "..": its trailing dots
 * and spaces dropped (*clen shortened), then checked.  `last`: the final
 * component (else a directory on the way). */
static NTSTATUS name_component(const char *comp, size_t *clen, bool last)
{
	/* Windows drops trailing dots and spaces from every component (the
	 * Win32 path rules Windows clients apply before sending; Samba's
	 * mangling calls such names illegal): "a.txt." and "a.txt " are
	 * "a.txt", so no name exists that Windows programs cannot open or
	 * delete; a component made of nothing else names nothing -- and
	 * ".. " never becomes "..". */
	size_t n = *clen;
	while (n > 0 && (comp[n - 1] == '.' || comp[n - 1] == ' '))
		n--;
	if (n == 0 || n > 255)
		return STATUS_OBJECT_NAME_INVALID;
	/* A name the server keeps for itself (the stream depot) does not
	 * exist for clients, at any depth, whatever the operation: every
	 * client path passes here (as a name hidden by Samba's "veto files"). */
	if (vfs_name_reserved(comp, n))
		return last ? STATUS_OBJECT_NAME_NOT_FOUND : STATUS_OBJECT_PATH_NOT_FOUND;
	*clen = n;
	return STATUS_SUCCESS;
}

/* The client's UTF-16 name in UTF-8 (*s, *n bytes): no embedded NUL, not
 * starting with a separator.  *s is freed on failure. */
static NTSTATUS name_to_utf8(const uint8_t *utf16, size_t len, char **s, size_t *n)
{
	if (len % 2)
		return STATUS_OBJECT_NAME_INVALID;
	int r = utf16le_to_utf8(utf16, len, s, n);
	if (r == -ENOMEM)
		return STATUS_NO_MEMORY;
	if (r < 0)
		return STATUS_OBJECT_NAME_INVALID;
	NTSTATUS st = STATUS_SUCCESS;
	if (strlen(*s) != *n) /* an embedded NUL */
		st = STATUS_OBJECT_NAME_INVALID;
	else if ((*s)[0] == '\\') /* MS-SMB2 3.3.5.9: a name starting with a separator */
		st = STATUS_INVALID_PARAMETER;
	if (st != STATUS_SUCCESS) {
		free(*s);
		*s = NULL;
	}
	return st;
}

/* A trailing separator names the same object (directories); two do not. */
static NTSTATUS drop_trailing_separator(char *s, size_t *n, bool *trailing_slash)
{
	if (*n == 0 || s[*n - 1] != '\\')
		return STATUS_SUCCESS;
	s[--*n] = 0;
	if (trailing_slash)
		*trailing_slash = true;
	return *n > 0 && s[*n - 1] == '\\' ? STATUS_OBJECT_NAME_INVALID : STATUS_SUCCESS;
}

/* Streams: "name::$DATA" is the file itself; "name:s" and "name:s:$DATA"
 * name stream s (*sname), only where the caller takes one (want_stream).
 * The name is cut at the colon (*n shortened). */
static NTSTATUS split_stream(char *s, size_t *n, bool want_stream, char **sname)
{
	char *colon = strchr(s, ':');
	*sname = NULL;
	if (!colon)
		return STATUS_SUCCESS;
	if (colon == s || strchr(colon + 1, '\\'))
		return STATUS_OBJECT_NAME_INVALID;
	NTSTATUS ps = parse_stream(colon, sname);
	if (ps == STATUS_SUCCESS && *sname && !want_stream) {
		free(*sname);
		*sname = NULL;
		ps = STATUS_OBJECT_NAME_INVALID;
	}
	if (ps != STATUS_SUCCESS)
		return ps;
	*colon = 0;
	*n = (size_t)(colon - s);
	return STATUS_SUCCESS;
}

/* The components of s (n bytes, '\\'-separated) checked and copied down
 * in place as a '/'-separated path ("out" never passes the reader); ".."
 * drops the component before it, as Windows and Samba resolve "dir\\.."
 * to the parent; a ".." above the share root is
 * STATUS_OBJECT_PATH_SYNTAX_BAD.  The result is still opened with
 * RESOLVE_BENEATH, so this is about names, not about confinement. */
static NTSTATUS name_components(const struct smb2_req *req, char *s, size_t n)
{
	char *comp = s;
	size_t out = 0;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c != '\\' && c != 0) {
			if (reserved_char(c))
				return STATUS_OBJECT_NAME_INVALID;
			continue;
		}
		size_t clen = (size_t)(&s[i] - comp);
		if (clen == 0) /* "a\\\\b" */
			return STATUS_OBJECT_NAME_INVALID;
		if (clen == 1 && comp[0] == '.')
			return STATUS_OBJECT_NAME_INVALID;
		if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
			if (out == 0)
				return STATUS_OBJECT_PATH_SYNTAX_BAD;
			while (out > 0 && s[out - 1] != '/')
				out--;
			if (out > 0)
				out--; /* the separator before the dropped component */
			comp = &s[i + 1];
			continue;
		}
		NTSTATUS st = name_component(comp, &clen, i == n);
		if (st != STATUS_SUCCESS)
			return st;
		/* Samba's "veto files": the name does not exist for clients,
		 * like the server's reserved names above. */
		if (req && req->tree && share_name_vetoed(req->tree->share, comp, clen))
			return i == n ? STATUS_OBJECT_NAME_NOT_FOUND : STATUS_OBJECT_PATH_NOT_FOUND;
		if (out > 0)
			s[out++] = '/';
		memmove(&s[out], comp, clen);
		out += clen;
		comp = &s[i + 1];
	}
	s[out] = 0;
	return STATUS_SUCCESS;
}

NTSTATUS fileops_name_stream(struct smb2_req *req, const uint8_t *utf16, size_t len, char **path,
			     bool *trailing_slash, char **stream)
{
	*path = NULL;
	if (stream)
		*stream = NULL;
	if (trailing_slash)
		*trailing_slash = false;
	if (len == 0 || !utf16) {
		*path = strdup("");
		return *path ? STATUS_SUCCESS : STATUS_NO_MEMORY;
	}
	char *s = NULL, *sname = NULL;
	size_t n = 0;
	NTSTATUS st = name_to_utf8(utf16, len, &s, &n);
	if (st != STATUS_SUCCESS)
		return st;
	st = drop_trailing_separator(s, &n, trailing_slash);
	if (st == STATUS_SUCCESS)
		st = split_stream(s, &n, stream != NULL, &sname);
	if (st == STATUS_SUCCESS)
		st = name_components(req, s, n);
	if (st != STATUS_SUCCESS) {
		free(s);
		free(sname);
		return st;
	}
	*path = s;
	if (stream)
		*stream = sname;
	return STATUS_SUCCESS;
}

NTSTATUS fileops_name(struct smb2_req *req, const uint8_t *utf16, size_t len, char **path)
{
	return fileops_name_ex(req, utf16, len, path, NULL);
}

/* ---- attributes and times ---- */

#define DOS_STORED_ATTRS (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | \
			  FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_TEMPORARY | FILE_ATTRIBUTE_OFFLINE | \
			  FILE_ATTRIBUTE_NOT_CONTENT_INDEXED | FILE_ATTRIBUTE_SPARSE_FILE)
/* a directory is never temporary nor sparse ([MS-FSA] 2.1.5.14.2) */
#define DOS_DIR_ATTRS (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | \
		       FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_OFFLINE | FILE_ATTRIBUTE_NOT_CONTENT_INDEXED)

static uint64_t nt_of(const struct statx_timestamp *t)
{
	struct timespec ts = { .tv_sec = t->tv_sec, .tv_nsec = t->tv_nsec };
	return nttime_from_timespec(&ts);
}

void fileops_attrs_from_stat(const struct statx *st, const struct vfs_dosinfo *dos,
			     struct fileops_attrs *a)
{
	memset(a, 0, sizeof(*a));
	a->is_dir = S_ISDIR(st->stx_mode);
	a->access = nt_of(&st->stx_atime);
	a->write = nt_of(&st->stx_mtime);
	a->change = nt_of(&st->stx_ctime);
	if (dos && dos->create_time)
		a->create = dos->create_time;
	else if (st->stx_mask & STATX_BTIME)
		a->create = nt_of(&st->stx_btime);
	else
		a->create = a->write < a->change ? a->write : a->change;
	a->ino = st->stx_ino;
	a->dev = ((uint64_t)st->stx_dev_major << 32) | st->stx_dev_minor;
	a->nlink = st->stx_nlink;
	if (a->is_dir) {
		a->attrs = FILE_ATTRIBUTE_DIRECTORY;
		if (dos)
			a->attrs |= dos->attrs & DOS_DIR_ATTRS;
		a->alloc = 0;
		a->eof = 0;
	} else {
		a->eof = st->stx_size;
		a->alloc = (uint64_t)st->stx_blocks * 512;
		/* without stored DOS attributes a file is "archive", as Samba */
		a->attrs = dos ? dos->attrs & DOS_STORED_ATTRS : FILE_ATTRIBUTE_ARCHIVE;
		if (!a->attrs)
			a->attrs = FILE_ATTRIBUTE_NORMAL;
	}
}

void fileops_attrs_from_stat_ext(const struct statx *st, const struct vfs_dosinfo_ext *x,
				 struct fileops_attrs *a)
{
	fileops_attrs_from_stat(st, x ? &x->d : NULL, a);
	/* An explicit ChangeTime stands until the data changes (dosattr.h). */
	if (x && x->has_change && (uint64_t)st->stx_size == x->size &&
	    vfs_dos_mtime_ns(st) == x->mtime_ns)
		a->change = x->change_time;
}

/* ext4 and others count an external xattr block (the EAs, the DOS
 * attributes) in st_blocks, so a file with EAs would show one block more
 * than its data holds.  When st_blocks shows more than the data's size
 * needs, the allocation is measured from the data's extents (FIEMAP), which
 * still counts space preallocated past EOF. */
struct fiemap_arg {
	int fd;
	uint64_t total;
};

static long fiemap_fn(void *p)
{
	struct fiemap_arg *fa = p;
	union {
		struct fiemap fm;
		uint8_t b[sizeof(struct fiemap) + 32 * sizeof(struct fiemap_extent)];
	} u;
	uint64_t start = 0, total = 0;
	for (int rounds = 0; rounds < 64; rounds++) {
		memset(&u, 0, sizeof(u));
		u.fm.fm_start = start;
		u.fm.fm_length = FIEMAP_MAX_OFFSET - start;
		u.fm.fm_extent_count = 32;
		if (ioctl(fa->fd, FS_IOC_FIEMAP, &u.fm) < 0)
			return -errno;
		if (u.fm.fm_mapped_extents == 0)
			break;
		bool last = false;
		for (unsigned i = 0; i < u.fm.fm_mapped_extents; i++) {
			const struct fiemap_extent *e = &u.fm.fm_extents[i];
			total += e->fe_length;
			start = e->fe_logical + e->fe_length;
			if (e->fe_flags & FIEMAP_EXTENT_LAST)
				last = true;
		}
		if (last)
			break;
	}
	fa->total = total;
	return 0;
}

bool fileops_alloc_suspect(const struct statx *st, const struct fileops_attrs *a)
{
	uint64_t blk = st->stx_blksize ? st->stx_blksize : 4096;
	uint64_t need = (a->eof + blk - 1) / blk * blk;
	return !a->is_dir && a->alloc > need;
}

void fileops_fix_alloc(const struct vfs_ident *id, int fd, const struct statx *st,
		       struct fileops_attrs *a)
{
	uint64_t blk = st->stx_blksize ? st->stx_blksize : 4096;
	if (!fileops_alloc_suspect(st, a) || fd < 0)
		return;
	struct fiemap_arg fa = { fd, 0 };
	if (vfs_call(id, fiemap_fn, &fa) == 0)
		a->alloc = (fa.total + blk - 1) / blk * blk;
}

/* ---- 8.3 names ---- */

static bool short_char_ok(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '$' || c == '~' || c == '!' ||
	       c == '#' || c == '%' || c == '&' || c == '@' || c == '^' || c == '{' || c == '}';
}

void fileops_short_name(const char *path, char out[13])
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	out[0] = 0;
	if (!base[0] || !strcmp(base, ".") || !strcmp(base, ".."))
		return; /* the share root and the dot entries have none */
	const char *dot = strrchr(base, '.');
	size_t blen = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	const char *ext = dot && dot != base ? dot + 1 : "";
	bool valid = blen >= 1 && blen <= 8 && strlen(ext) <= 3;
	for (const char *p = base; *p && valid; p++)
		if (!(short_char_ok((unsigned char)*p) || (*p == '.' && p == dot)))
			valid = false;
	size_t k = 0;
	if (valid) {
		for (size_t i = 0; i < blen; i++)
			out[k++] = (char)toupper((unsigned char)base[i]);
	} else {
		for (size_t i = 0; i < blen && k < 6; i++)
			if (isalnum((unsigned char)base[i]))
				out[k++] = (char)toupper((unsigned char)base[i]);
		if (k == 0)
			out[k++] = '_';
		out[k++] = '~';
		out[k++] = '1';
	}
	if (*ext) {
		size_t e = 0;
		out[k++] = '.';
		for (const char *p = ext; *p && e < 3; p++)
			if (isalnum((unsigned char)*p))
				out[k++] = (char)toupper((unsigned char)*p), e++;
		if (e == 0)
			k--;
	}
	out[k] = 0;
}

/* ---- share modes ---- */

#define SHARE_DATA_ACCESS (FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_EXECUTE | \
			   DELETE_ACCESS)

bool fileops_share_conflict(const struct open *e, uint32_t access, uint32_t share)
{
	if (e->closed || !(e->access & SHARE_DATA_ACCESS) || !(access & SHARE_DATA_ACCESS))
		return false;
	if ((e->access & (FILE_READ_DATA | FILE_EXECUTE)) && !(share & FILE_SHARE_READ))
		return true;
	if ((e->access & (FILE_WRITE_DATA | FILE_APPEND_DATA)) && !(share & FILE_SHARE_WRITE))
		return true;
	if ((e->access & DELETE_ACCESS) && !(share & FILE_SHARE_DELETE))
		return true;
	if ((access & (FILE_READ_DATA | FILE_EXECUTE)) && !(e->share_access & FILE_SHARE_READ))
		return true;
	if ((access & (FILE_WRITE_DATA | FILE_APPEND_DATA)) && !(e->share_access & FILE_SHARE_WRITE))
		return true;
	if ((access & DELETE_ACCESS) && !(e->share_access & FILE_SHARE_DELETE))
		return true;
	return false;
}

/* ---- access ---- */

uint32_t fileops_map_generic(uint32_t access)
{
	uint32_t r = access & ~(GENERIC_ALL | GENERIC_EXECUTE | GENERIC_WRITE | GENERIC_READ);
	if (access & GENERIC_ALL)
		r |= FILE_ALL_ACCESS;
	if (access & GENERIC_EXECUTE)
		r |= FILE_GENERIC_EXECUTE;
	if (access & GENERIC_WRITE)
		r |= FILE_GENERIC_WRITE;
	if (access & GENERIC_READ)
		r |= FILE_GENERIC_READ;
	return r;
}

bool fileops_in_group(const struct token *s, gid_t g)
{
	if (s->gid == g)
		return true;
	for (int i = 0; i < s->n_groups; i++)
		if (s->groups && s->groups[i] == g)
			return true;
	return false;
}

/* rwx bits that apply to the tree's user on a file of mode/uid/gid. */
static unsigned perm_bits(const struct token *s, const struct statx *st)
{
	if (s->uid == 0)
		return 7;
	if (st->stx_uid == s->uid)
		return (st->stx_mode >> 6) & 7;
	if (fileops_in_group(s, st->stx_gid))
		return (st->stx_mode >> 3) & 7;
	return st->stx_mode & 7;
}

uint32_t fileops_max_access(const struct token *s, const struct tree *t,
			    const struct statx *st, const struct statx *parent)
{
	uint32_t m;
	bool dir = S_ISDIR(st->stx_mode);
	if (s->uid == 0 || st->stx_uid == s->uid) {
		/* The owner may change the permissions, so may do anything. */
		m = FILE_ALL_ACCESS;
	} else {
		unsigned p = perm_bits(s, st);
		m = FILE_READ_ATTRIBUTES | READ_CONTROL | SYNCHRONIZE;
		if (p & 4)
			m |= FILE_READ_DATA | FILE_READ_EA;
		if (p & 2)
			m |= FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA |
			     FILE_WRITE_ATTRIBUTES | (dir ? FILE_DELETE_CHILD : 0);
		if (p & 1)
			m |= FILE_EXECUTE;
	}
	if (parent && !(m & DELETE_ACCESS) && s->uid != 0) {
		unsigned pp = perm_bits(s, parent);
		bool sticky = parent->stx_mode & S_ISVTX;
		if ((pp & 3) == 3 && (!sticky || st->stx_uid == s->uid || parent->stx_uid == s->uid))
			m |= DELETE_ACCESS;
	} else if (parent && s->uid != 0 && st->stx_uid == s->uid) {
		/* the owner's DELETE still needs a writable parent */
		unsigned pp = perm_bits(s, parent);
		if ((pp & 3) != 3)
			m &= ~DELETE_ACCESS;
	}
	if (t && t->read_only)
		m &= ~FILEOPS_WRITE_RIGHTS;
	return m;
}

void fileops_create_rsp(struct wire_create_rsp *r, const struct open *o, const struct fileops_attrs *a,
			uint8_t oplock_level, uint32_t action)
{
	*r = (struct wire_create_rsp){
		.oplock_level = oplock_level,
		.create_action = action,
		.create = a->create, .access = a->access, .write = a->write, .change = a->change,
		.alloc = a->alloc, .eof = a->eof,
		.attrs = a->attrs,
		.fid = { o->persistent_id, o->volatile_id },
	};
}
