/* Helpers shared by the file-service handlers (see fileops.h). */
#include "cmd/fileops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd/ipc.h"
#include "util/coro.h"
#include "util/log.h"
#include "util/nttime.h"
#include "util/utf16.h"
#include "vfs/vfs.h"
#include "wire/close.h"
#include "wire/fscc.h"

/* ---- opens ---- */

struct open *fileops_lookup(struct smb2_req *req, uint64_t persistent, uint64_t volatile_id)
{
	/* MS-SMB2 3.3.5.2.7.2: a related element with FileId all ones uses
	 * the FileId of the previous element of the chain. */
	if (persistent == UINT64_MAX && volatile_id == UINT64_MAX) {
		persistent = req->file_id_persistent;
		volatile_id = req->file_id_volatile;
	}
	struct open *o = open_lookup(persistent, volatile_id, req->session, req->tree);
	if (o) {
		req->file_id_persistent = o->persistent_id;
		req->file_id_volatile = o->volatile_id;
	}
	return o;
}

NTSTATUS fileops_check_access(const struct open *o, uint32_t needed)
{
	return (o->access & needed) == needed ? STATUS_SUCCESS : STATUS_ACCESS_DENIED;
}

/* Remove the file now: called for the last open of a delete-pending file.
 * Runs inside a request coroutine through the vfs (as the user); tree
 * disconnect on a dropped connection may run outside one, then directly. */
static int remove_path(struct open *o)
{
	int flags = o->is_dir ? AT_REMOVEDIR : 0;
	if (!o->tree || o->tree->root_fd < 0 || !o->path || !o->path[0])
		return -EINVAL;
	if (coro_self()) {
		const struct vfs_ident *id = o->session ? o->session->ident : NULL;
		return vfs_unlinkat(id, o->tree->root_fd, o->path, flags);
	}
	return unlinkat(o->tree->root_fd, o->path, flags) < 0 ? -errno : 0;
}

bool fileops_close_open(struct open *o, struct wire_close_rsp *post)
{
	if (!open_unregister(o))
		return false;
	if (o->pipe) {
		ipc_close(o);
		return true;
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
		return true;
	bool remove = false;
	pthread_mutex_lock(&f->lock);
	file_remove_open(f, o);
	/* MS-FSA 2.1.5.4: the close of an open with DeleteOnClose makes the
	 * file delete-pending; the last close of a delete-pending file
	 * deletes it. */
	if (o->delete_on_close)
		f->delete_pending = true;
	if (f->delete_pending && f->n_opens == 0) {
		remove = true;
		f->delete_pending = false; /* the next open sees the result */
	}
	pthread_mutex_unlock(&f->lock);
	if (remove) {
		int r = remove_path(o);
		if (r < 0)
			log_debug("delete on close of %s: %s", o->path, strerror(-r));
		else if (post)
			post->flags = 0, post->attrs = 0; /* gone */
	}
	return true;
}

static void close_opens_of_tree(struct session *s, struct tree *t)
{
	unsigned n = 0;
	struct open **v = open_list(s, t, &n);
	for (unsigned i = 0; i < n; i++) {
		fileops_close_open(v[i], NULL);
		open_put(v[i]);
	}
	free(v);
}

void fileops_init(void)
{
	state_close_opens_of_tree = close_opens_of_tree;
}

__attribute__((constructor)) static void fileops_ctor(void)
{
	fileops_init();
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
	(void)req;
	*path = NULL;
	if (trailing_slash)
		*trailing_slash = false;
	if (len == 0 || !utf16) {
		*path = strdup("");
		return *path ? STATUS_SUCCESS : STATUS_NO_MEMORY;
	}
	if (len % 2)
		return STATUS_OBJECT_NAME_INVALID;
	char *s = NULL;
	size_t n = 0;
	int r = utf16le_to_utf8(utf16, len, &s, &n);
	if (r == -ENOMEM)
		return STATUS_NO_MEMORY;
	if (r < 0)
		return STATUS_OBJECT_NAME_INVALID;
	if (strlen(s) != n) { /* an embedded NUL */
		free(s);
		return STATUS_OBJECT_NAME_INVALID;
	}
	/* MS-SMB2 3.3.5.9: a name starting with a separator is invalid. */
	if (s[0] == '\\') {
		free(s);
		return STATUS_INVALID_PARAMETER;
	}
	/* A trailing separator names the same object (directories). */
	if (n > 0 && s[n - 1] == '\\') {
		s[--n] = 0;
		if (trailing_slash)
			*trailing_slash = true;
		if (n > 0 && s[n - 1] == '\\') {
			free(s);
			return STATUS_OBJECT_NAME_INVALID;
		}
	}
	/* Streams: "name::$DATA" is the file itself; no other stream yet. */
	char *colon = strchr(s, ':');
	if (colon) {
		if (strcasecmp(colon, "::$DATA") == 0 && colon != s && !strchr(colon + 1, '\\')) {
			*colon = 0;
			n = (size_t)(colon - s);
		} else {
			free(s);
			return STATUS_OBJECT_NAME_INVALID;
		}
	}
	NTSTATUS st = STATUS_SUCCESS;
	char *comp = s;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\' || c == 0) {
			size_t clen = (size_t)(&s[i] - comp);
			if (clen == 0) {
				st = STATUS_OBJECT_NAME_INVALID; /* "a\\\\b" */
				break;
			}
			if (clen == 1 && comp[0] == '.') {
				st = STATUS_OBJECT_NAME_INVALID;
				break;
			}
			if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
				/* as Windows: ".." never walks up in a create name */
				st = c == 0 ? STATUS_OBJECT_NAME_INVALID : STATUS_OBJECT_PATH_SYNTAX_BAD;
				break;
			}
			if (clen > 255) {
				st = STATUS_OBJECT_NAME_INVALID;
				break;
			}
			if (c == '\\')
				s[i] = '/';
			comp = &s[i + 1];
			continue;
		}
		if (reserved_char(c)) {
			st = STATUS_OBJECT_NAME_INVALID;
			break;
		}
	}
	if (st != STATUS_SUCCESS) {
		free(s);
		return st;
	}
	*path = s;
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
			a->attrs |= dos->attrs & (FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM |
						  FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_ARCHIVE);
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

NTSTATUS fileops_stat_open(const struct open *o, struct fileops_attrs *a)
{
	if (o->fd < 0)
		return STATUS_INVALID_HANDLE;
	const struct vfs_ident *id = o->session ? o->session->ident : NULL;
	struct statx st;
	int r = vfs_statx(id, o->fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &st);
	if (r < 0)
		return vfs_nt_status(r);
	struct vfs_dosinfo d;
	bool have = vfs_dos_get(id, o->fd, &d) >= 0;
	fileops_attrs_from_stat(&st, have ? &d : NULL, a);
	return STATUS_SUCCESS;
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

static bool in_groups(const struct session *s, gid_t g)
{
	if (s->gid == g)
		return true;
	for (int i = 0; i < s->n_groups; i++)
		if (s->groups && s->groups[i] == g)
			return true;
	return false;
}

/* rwx bits that apply to the session on a file of mode/uid/gid. */
static unsigned perm_bits(const struct session *s, const struct statx *st)
{
	if (s->uid == 0)
		return 7;
	if (st->stx_uid == s->uid)
		return (st->stx_mode >> 6) & 7;
	if (in_groups(s, st->stx_gid))
		return (st->stx_mode >> 3) & 7;
	return st->stx_mode & 7;
}

uint32_t fileops_max_access(const struct session *s, const struct tree *t,
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
