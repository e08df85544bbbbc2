/* SMB2 QUERY_DIRECTORY ([MS-SMB2] 3.3.5.18, [MS-FSA] 2.1.5.6.3).
 *
 * The enumeration state lives on the open (o->dir): a directory fd of its
 * own, the search pattern, and the current getdents batch.  Entries are
 * streamed batch by batch, never the whole directory in memory.  An entry
 * that does not fit the client's buffer stays current for the next call.
 * "." and ".." come first in every directory, the share root included, as
 * Windows lists them. */
#include "cmd/cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/fileops.h"
#include "cmd/share_policy.h"
#include "cmd/streams.h"
#include "state/open.h"
#include "util/log.h"
#include "util/utf16.h"
#include "util/wildcard.h"
#include "vfs/dosattr.h"
#include "vfs/vfs.h"
#include "wire/fscc.h"
#include "wire/query_directory.h"

#define QD_MAX_OUT (1024u * 1024)  /* largest response built in memory */
#define QD_BATCH 16384             /* getdents batch */
#define QD_MAX_PATTERN 1024        /* code points */

#define QD_PREFETCH 128

struct qdir_state {
	int fd;                  /* O_RDONLY|O_DIRECTORY, for getdents */
	uint32_t *pat;           /* pattern in code points */
	size_t pat_len;
	int dots;                /* 0: "." next, 1: ".." next, 2: from disk */
	bool eof;
	bool returned_any;       /* some entry went out since the last restart */
	size_t len, pos;         /* of the current batch in buf */
	char buf[QD_BATCH];
	/* Attributes of the entries after pos, fetched together by one pool
	 * job (statx + open + DOSATTRIB each) instead of several ring round
	 * trips per entry: listing is bound by per-entry cost. */
	struct qd_attr {
		size_t pos;
		int r;
		uint32_t ea_size;
		struct fileops_attrs a;
	} cache[QD_PREFETCH];
	unsigned n_cache, next_cache;
	uint64_t gen, cache_gen;  /* gen: refills of buf */
	bool cache_want_ea;
};

static void qdir_free(void *p)
{
	struct qdir_state *s = p;
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd); /* may run outside a request (last open_put) */
	free(s->pat);
	free(s);
}

static const struct vfs_ident *ident_of(struct smb2_req *req)
{
	return req->tree ? req->tree->tok.ident : NULL;
}

/* ---- enumeration ---- */

static NTSTATUS qdir_open_fd(struct smb2_req *req, struct open *o, struct qdir_state *s)
{
	if (s->fd >= 0)
		close(s->fd);
	struct open_path *p = open_path_get(o);
	s->fd = vfs_open(ident_of(req), req->tree->root_fd, p->s[0] ? p->s : ".", O_RDONLY | O_DIRECTORY, 0);
	open_path_put(p);
	if (s->fd < 0) {
		int e = s->fd;
		s->fd = -1;
		return vfs_nt_status(e);
	}
	s->dots = 0;
	s->eof = false;
	s->len = s->pos = 0;
	s->returned_any = false;
	return STATUS_SUCCESS;
}

static NTSTATUS qdir_set_pattern(struct qdir_state *s, const uint8_t *u16, size_t len)
{
	char *p8 = NULL;
	if (len) {
		if (utf16le_to_utf8(u16, len, &p8, NULL) < 0)
			return STATUS_OBJECT_NAME_INVALID;
	}
	uint32_t *cps = malloc(QD_MAX_PATTERN * sizeof(uint32_t));
	if (!cps) {
		free(p8);
		return STATUS_NO_MEMORY;
	}
	long n = wildcard_decode(p8 && *p8 ? p8 : "*", cps, QD_MAX_PATTERN);
	free(p8);
	if (n < 0) {
		free(cps);
		return STATUS_OBJECT_NAME_INVALID;
	}
	for (long i = 0; i < n; i++)
		if (cps[i] == '\\' || cps[i] == '/') {
			free(cps);
			return STATUS_OBJECT_NAME_INVALID;
		}
	free(s->pat);
	s->pat = cps;
	s->pat_len = (size_t)n;
	return STATUS_SUCCESS;
}

/* The current entry's name without consuming it; NULL at the end. */
static const char *qdir_peek(struct smb2_req *req, struct qdir_state *s, NTSTATUS *err)
{
	*err = STATUS_SUCCESS;
	if (s->dots == 0)
		return ".";
	if (s->dots == 1)
		return "..";
	for (;;) {
		while (s->pos < s->len) {
			/* struct linux_dirent64: d_ino 8, d_off 8, d_reclen 2,
			 * d_type 1, d_name */
			const char *name = s->buf + s->pos + 19;
			if (strcmp(name, ".") && strcmp(name, ".."))
				return name;
			uint16_t reclen;
			memcpy(&reclen, s->buf + s->pos + 16, 2);
			s->pos += reclen;
		}
		if (s->eof)
			return NULL;
		ssize_t n = vfs_getdents(ident_of(req), s->fd, s->buf, sizeof(s->buf));
		if (n < 0) {
			*err = vfs_nt_status((int)n);
			return NULL;
		}
		s->len = (size_t)n;
		s->pos = 0;
		s->gen++;
		if (n == 0)
			s->eof = true;
	}
}

static void qdir_consume(struct qdir_state *s)
{
	if (s->dots < 2) {
		s->dots++;
		return;
	}
	uint16_t reclen;
	memcpy(&reclen, s->buf + s->pos + 16, 2);
	s->pos += reclen;
}

/* Attributes of entry `name` of the directory: statx relative to the
 * directory fd; the DOS attributes and EAs by name (getxattrat(2),
 * listxattrat(2): two syscalls where open + fgetxattr + flistxattr + close
 * took four), or through a read-only open of the entry on kernels before
 * 6.13 (fgetxattr refuses O_PATH descriptors).  Either way the user needs
 * read permission on the entry to see its DOS attributes. */
static int qdir_stat(struct smb2_req *req, struct qdir_state *s, const char *name, struct fileops_attrs *a,
		     bool want_ea, uint32_t *ea_size)
{
	const struct vfs_ident *id = ident_of(req);
	/* ".." would leave the directory fd (RESOLVE_BENEATH): show the
	 * directory itself, as Samba does for the share root. */
	const char *path = name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])) ? "" : name;
	struct statx st;
	int r = vfs_statx(id, s->fd, path, AT_SYMLINK_NOFOLLOW | (path[0] ? 0 : AT_EMPTY_PATH),
			  STATX_BASIC_STATS | STATX_BTIME, &st);
	if (r < 0)
		return r;
	struct vfs_dosinfo_ext d;
	bool have = false;
	*ea_size = 0;
	if (!path[0]) {
		have = vfs_dos_get_ext(id, s->fd, &d) >= 0;
		*ea_size = fileops_ea_size(id, s->fd);
	} else if (S_ISREG(st.stx_mode) || S_ISDIR(st.stx_mode)) {
		int dr = vfs_dos_get_ext_at(id, s->fd, path, &d);
		if (dr != -ENOSYS) {
			if (want_ea)
				*ea_size = fileops_ea_size_at(id, s->fd, path);
			fileops_attrs_from_stat_ext(&st, dr >= 0 ? &d : NULL, a);
			if (!fileops_alloc_suspect(&st, a))
				return 0;
			/* st_blocks counts more than the data: measure it (fd) */
		}
		int fd = vfs_open(id, s->fd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
		if (fd >= 0) {
			have = vfs_dos_get_ext(id, fd, &d) >= 0;
			if (want_ea)
				*ea_size = fileops_ea_size(id, fd);
			fileops_attrs_from_stat_ext(&st, have ? &d : NULL, a);
			fileops_fix_alloc(id, fd, &st, a);
			vfs_close(fd);
			return 0;
		}
	}
	fileops_attrs_from_stat_ext(&st, have ? &d : NULL, a);
	return 0;
}

/* ---- prefetching the attributes of a run of entries ---- */

struct qd_job {
	struct smb2_req *req;
	struct qdir_state *s;
	bool want_ea;
};

/* Runs on a pool thread (vfs_call): the vfs calls inside run inline. */
static long qd_prefetch_job(void *arg)
{
	struct qd_job *j = arg;
	struct qdir_state *s = j->s;
	size_t pos = s->pos;
	s->n_cache = 0;
	while (pos < s->len && s->n_cache < QD_PREFETCH) {
		const char *name = s->buf + pos + 19;
		uint16_t reclen;
		memcpy(&reclen, s->buf + pos + 16, 2);
		if (strcmp(name, ".") && strcmp(name, "..") && wildcard_match(s->pat, s->pat_len, name)) {
			struct qd_attr *c = &s->cache[s->n_cache++];
			c->pos = pos;
			c->ea_size = 0;
			c->r = qdir_stat(j->req, s, name, &c->a, j->want_ea, &c->ea_size);
		}
		pos += reclen;
	}
	return 0;
}

/* The attributes of the entry at s->pos (on disk, not "." / ".."). */
static int qdir_attrs(struct smb2_req *req, struct qdir_state *s, const char *name, struct fileops_attrs *a,
		      bool want_ea, uint32_t *ea_size)
{
	if (s->dots < 2)
		return qdir_stat(req, s, name, a, want_ea, ea_size);
	for (int pass = 0; pass < 2; pass++) {
		if (s->cache_gen == s->gen && s->cache_want_ea == want_ea) {
			while (s->next_cache < s->n_cache && s->cache[s->next_cache].pos < s->pos)
				s->next_cache++;
			if (s->next_cache < s->n_cache && s->cache[s->next_cache].pos == s->pos) {
				const struct qd_attr *c = &s->cache[s->next_cache];
				*a = c->a;
				*ea_size = c->ea_size;
				return c->r;
			}
		}
		if (pass)
			break;
		struct qd_job j = { req, s, want_ea };
		vfs_call(ident_of(req), qd_prefetch_job, &j);
		s->cache_gen = s->gen;
		s->cache_want_ea = want_ea;
		s->next_cache = 0;
	}
	return qdir_stat(req, s, name, a, want_ea, ea_size);
}

static long dirent_min(uint8_t cls)
{
	switch (cls) {
	case FileDirectoryInformation: return 64;
	case FileFullDirectoryInformation: return 68;
	case FileBothDirectoryInformation: return 94;
	case FileNamesInformation: return 12;
	case FileIdBothDirectoryInformation: return 104;
	case FileIdFullDirectoryInformation: return 80;
	case FileIdExtdDirectoryInformation: return 88;
	default: return -1;
	}
}

/* The request against the open and the class (MS-SMB2 3.3.5.18). */
static NTSTATUS qdir_check(const struct wire_qdir_req *q, struct open *o)
{
	long min = dirent_min(q->info_class);
	if (min < 0)
		return STATUS_INVALID_INFO_CLASS;
	if (!o->is_dir || o->fd < 0)
		return STATUS_INVALID_PARAMETER;
	NTSTATUS st = fileops_check_access(o, FILE_READ_DATA); /* FILE_LIST_DIRECTORY */
	if (st)
		return st;
	if (q->output_len < (uint32_t)min)
		return STATUS_INFO_LENGTH_MISMATCH;
	return STATUS_SUCCESS;
}

/* The open's scan: made on the first call, restarted by RESTART_SCANS or
 * REOPEN (*fresh); a pattern is taken at the start of a scan, and later
 * calls without RESTART/REOPEN keep the first one, as Windows. */
static NTSTATUS qdir_start(struct smb2_req *req, struct open *o, const struct wire_qdir_req *q,
			   struct qdir_state **out, bool *fresh)
{
	struct qdir_state *s = o->dir;
	NTSTATUS st;
	*fresh = false;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return STATUS_NO_MEMORY;
		s->fd = -1;
		o->dir = s;
		o->dir_free = qdir_free;
		*fresh = true;
	}
	if (*fresh || (q->flags & (SMB2_RESTART_SCANS | SMB2_REOPEN))) {
		if ((st = qdir_open_fd(req, o, s)))
			return st;
		*fresh = true;
	}
	if ((*fresh || !s->pat) && (st = qdir_set_pattern(s, q->pattern, q->pattern_len)))
		return st;
	*out = s;
	return STATUS_SUCCESS;
}

#define QD_SKIP 1 /* qdir_entry: the entry is not shown */

/* One directory entry into the response: 0 written; QD_SKIP not shown (the
 * pattern, the stream depot, "veto files", "hide unreadable", vanished, not
 * UTF-8), consumed;
 * -ENOSPC no room, it stays current for the next call (3.3.5.18); other
 * -errno an error. */
static int qdir_entry(struct smb2_req *req, struct qdir_state *s, uint8_t cls, const char *name, uint8_t **prev)
{
	if (!wildcard_match(s->pat, s->pat_len, name) || vfs_name_reserved(name, strlen(name)) ||
	    share_name_vetoed(req->tree->share, name, strlen(name))) {
		qdir_consume(s);
		return QD_SKIP;
	}
	struct fileops_attrs a;
	uint32_t ea_size = 0;
	bool want_ea = cls != FileDirectoryInformation && cls != FileNamesInformation;
	int r = qdir_attrs(req, s, name, &a, want_ea, &ea_size);
	if (r < 0) {
		log_debug("qdir: stat '%s': %d", name, r);
		qdir_consume(s); /* vanished meanwhile */
		return QD_SKIP;
	}
	if (!share_entry_visible(req, s->fd, name)) {
		qdir_consume(s); /* "hide unreadable" */
		return QD_SKIP;
	}
	if (share_name_hidden(req->tree->share, name)) /* hide dot files, hide files */
		a.attrs = (a.attrs & ~FILE_ATTRIBUTE_NORMAL) | FILE_ATTRIBUTE_HIDDEN;
	struct fscc_dirent d = {
		.file_id = a.ino, .create = a.create, .access = a.access, .write = a.write,
		.change = a.change, .eof = a.eof, .alloc = a.alloc, .attrs = a.attrs,
		.ea_size = ea_size, .name = name, .short_name = NULL,
	};
	char short8[13];
	if (cls == FileBothDirectoryInformation || cls == FileIdBothDirectoryInformation) {
		/* the same name FileAlternateNameInformation gives */
		fileops_short_name(name, short8);
		d.short_name = short8;
	}
	r = fscc_dirent_encode(&req->out, cls, &d, prev);
	if (r == -ENOSPC)
		return r;
	qdir_consume(s);
	if (r == -EILSEQ)
		return QD_SKIP; /* a name that is not UTF-8 cannot be shown */
	return r < 0 ? r : 0;
}

/* Entries into the response until it is full, the scan ends, or one is
 * asked for; *written: how many. */
static NTSTATUS qdir_fill(struct smb2_req *req, struct qdir_state *s, const struct wire_qdir_req *q,
			  unsigned *written)
{
	uint8_t *prev = NULL;
	*written = 0;
	for (;;) {
		NTSTATUS e;
		const char *name = qdir_peek(req, s, &e);
		if (!name)
			return e;
		int r = qdir_entry(req, s, q->info_class, name, &prev);
		if (r == QD_SKIP)
			continue;
		if (r == -ENOSPC)
			return *written ? STATUS_SUCCESS : STATUS_BUFFER_OVERFLOW;
		if (r < 0)
			return STATUS_INTERNAL_ERROR;
		(*written)++;
		s->returned_any = true;
		if (q->flags & SMB2_RETURN_SINGLE_ENTRY)
			return STATUS_SUCCESS;
	}
}

NTSTATUS cmd_query_directory(struct smb2_req *req)
{
	struct wire_qdir_req q;
	if (wire_qdir_decode_req(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	struct open *o = req->open;
	struct qdir_state *s;
	bool fresh;
	NTSTATUS st = qdir_check(&q, o);
	if (st == STATUS_SUCCESS)
		st = qdir_start(req, o, &q, &s, &fresh);
	if (st)
		return st;
	size_t room = q.output_len < QD_MAX_OUT ? q.output_len : QD_MAX_OUT;
	if (req_out_reserve(req, room + 16) < 0)
		return STATUS_NO_MEMORY;
	uint8_t *body = wire_qdir_rsp_begin(&req->out);
	if (!body)
		return STATUS_NO_MEMORY;
	uint8_t *end = req->out.end;
	if ((size_t)(end - req->out.p) > room)
		req->out.end = req->out.p + room;
	unsigned written;
	st = qdir_fill(req, s, &q, &written);
	req->out.end = end;
	if (st == STATUS_SUCCESS && !written)
		st = s->returned_any || !fresh ? STATUS_NO_MORE_FILES : STATUS_NO_SUCH_FILE;
	if (written || st == STATUS_BUFFER_OVERFLOW) {
		if (written)
			st = STATUS_SUCCESS;
		if (wire_qdir_rsp_end(&req->out, body) < 0)
			st = STATUS_INTERNAL_ERROR;
	} else {
		req->out.p = req->out_buf + SMB2_HDR_SIZE;
	}
	return st;
}
