/* CREATE of a named stream ("file:stream[:$DATA]", [MS-FSA] 2.1.5.1 with
 * the stream depot of cmd/streams.c).  See create_int.h. */
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
#include "conf/conf.h"
#include "cmd/streams.h"
#include "mc/oplock.h"
#include "util/log.h"
#include "util/nttime.h"
#include "util/utf16.h"
#include "vfs/dosattr.h"
#include "vfs/vfs.h"
#include "wire/create.h"
#include "wire/fscc.h"

/* What the session may do with the base file of a stream ([MS-FSA]
 * 2.1.5.1: a stream's access is checked against its file): the unix
 * permissions and the share, limited by a DACL a client set on the file.
 * Nothing when the file cannot be opened to read that DACL. */
static uint32_t stream_base_max(struct create_state *cs, const struct statx *bst)
{
	struct smb2_req *req = cs->req;
	struct statx pst, *parent = NULL;
	char *pp = create_parent_of(cs->path);
	if (pp && vfs_statx(cs->id, cs->root, pp, 0, STATX_BASIC_STATS, &pst) >= 0)
		parent = &pst;
	uint32_t max = fileops_max_access(&req->tree->tok, req->tree, bst, parent);
	int fd = vfs_open(cs->id, cs->root, cs->path, O_PATH, 0);
	if (fd >= 0) {
		max &= acl_open_limit(&req->tree->tok, cs->id, cs->root, pp, fd);
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
	share_new_object(cs->req, cs->root, cs->path, fd, mode);
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

/* streams_open(), or its streams_xattr counterpart where the share has it. */
static int stream_open_as(struct create_state *cs, const struct statx *bst, const char *stream, int flags,
			  char **ondisk)
{
	if (cs->req->tree->share && cs->req->tree->share->streams_xattr)
		return streams_xattr_open(cs->root, cs->path, bst, stream, flags, ondisk);
	dev_t dev = makedev(bst->stx_dev_major, bst->stx_dev_minor);
	return streams_open(cs->root, dev, bst->stx_ino, stream, flags, bst->stx_uid, bst->stx_gid, ondisk);
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
	int fd = -ENOENT;
	for (int tries = 0; tries < 4 && fd == -ENOENT; tries++) {
		if (disp != FILE_CREATE) {
			fd = stream_open_as(cs, bst, stream, O_RDWR | trunc, ondisk);
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
		fd = stream_open_as(cs, bst, stream, O_RDWR | O_CREAT | O_EXCL, ondisk);
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
	struct open *o = create_open_new(cs);
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
	NTSTATUS s = create_attach(cs, o, &sst);
	if (s != STATUS_SUCCESS) {
		create_open_free(o);
		return s;
	}
	*out = o;
	return STATUS_SUCCESS;
}

NTSTATUS create_open_stream(struct create_state *cs, const char *stream)
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
				create_undo(o);
			else
				create_open_abort(o);
			return as;
		}
	}
	cs->o = o;
	cs->action = action;
	cs->max_access = max;
	return STATUS_SUCCESS;
}

void create_drop_streams(struct create_state *cs, int fd)
{
	struct statx st;
	if (vfs_statx(NULL, fd, "", AT_EMPTY_PATH, STATX_INO, &st) < 0)
		return;
	if (cs->req->tree->share && cs->req->tree->share->streams_xattr)
		streams_xattr_remove_all(fd);
	streams_remove_all(cs->root, makedev(st.stx_dev_major, st.stx_dev_minor), st.stx_ino);
}

/* ":NAME" or ":NAME:$DATA" -> NAME (a pointer into t), or an error. */
static NTSTATUS stream_target(char *t, char **name)
{
	if (t[0] != ':')
		return STATUS_INVALID_PARAMETER;
	char *n = t + 1, *type = strchr(n, ':');
	if (type) {
		*type++ = '\0';
		if (strcasecmp(type, "$DATA"))
			return STATUS_OBJECT_NAME_INVALID;
	}
	if (!n[0])
		return STATUS_INVALID_PARAMETER; /* onto the default stream: not supported */
	if (strlen(n) > 255 || strpbrk(n, "\\/"))
		return STATUS_OBJECT_NAME_INVALID;
	*name = n;
	return STATUS_SUCCESS;
}

NTSTATUS create_stream_rename(struct smb2_req *req, const char *path, const uint8_t *name16, size_t len,
			      bool replace, char **newpath)
{
	*newpath = NULL;
	const char *colon = strchr(path, ':');
	if (!colon || !req->tree || req->tree->root_fd < 0)
		return STATUS_INVALID_PARAMETER; /* a file's data stream does not become a named one */
	char *t = NULL, *to = NULL, *base = NULL;
	size_t tl;
	if (utf16le_to_utf8(name16, len, &t, &tl) < 0)
		return STATUS_OBJECT_NAME_INVALID;
	NTSTATUS st = strlen(t) != tl ? STATUS_OBJECT_NAME_INVALID : stream_target(t, &to);
	struct statx bst;
	base = st ? NULL : strndup(path, (size_t)(colon - path));
	int r = st ? 0 : !base ? -ENOMEM
		: vfs_statx(req->tree->tok.ident, req->tree->root_fd, base, 0, STATX_BASIC_STATS, &bst);
	if (!st && r == 0) {
		if (req->tree->share && req->tree->share->streams_xattr)
			r = streams_xattr_rename(req->tree->root_fd, base, &bst, colon + 1, to, replace);
		else
			r = streams_rename(req->tree->root_fd, makedev(bst.stx_dev_major, bst.stx_dev_minor),
					   bst.stx_ino, colon + 1, to, replace);
	}
	if (!st && r < 0)
		st = r == -EEXIST ? STATUS_OBJECT_NAME_COLLISION : r == -ENOTEMPTY ? STATUS_INVALID_PARAMETER
		     : vfs_nt_status(r);
	if (!st) {
		size_t n = strlen(base) + strlen(to) + 2;
		*newpath = malloc(n);
		if (*newpath)
			snprintf(*newpath, n, "%s:%s", base, to);
		else
			st = STATUS_NO_MEMORY;
	}
	free(base);
	free(t);
	return st;
}
