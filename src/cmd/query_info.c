/* SMB2 QUERY_INFO ([MS-SMB2] 3.3.5.20): file, file-system and security
 * information of an open.  The payloads are encoded by wire/fscc.c; this
 * file gathers the values and applies the buffer-size rules of 3.3.5.20.1:
 *   fixed-size class, buffer too small   -> STATUS_INFO_LENGTH_MISMATCH
 *   variable class, truncated            -> STATUS_BUFFER_OVERFLOW + data
 *   security descriptor too large        -> STATUS_BUFFER_TOO_SMALL, the
 *                                           needed size as error data */
#include "cmd/cmd.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "cmd/fileops.h"
#include "cmd/share_policy.h"
#include "cmd/streams.h"
#include "cmd/acl.h"
#include "cmd/secdesc.h"
#include "state/open.h"
#include "util/log.h"
#include "vfs/vfs.h"
#include "wire/fscc.h"
#include "wire/info.h"
#include "wire/info_more.h"

/* Largest payload built in memory; no info class comes close. */
#define QI_MAX_OUT (256u * 1024)

static const struct vfs_ident *ident_of(struct smb2_req *req)
{
	return req->tree ? req->tree->tok.ident : NULL;
}

/* "\dir\file" as Windows reports names (FileNameInformation, All). */
static char *nt_path(const char *path, bool leading_backslash)
{
	size_t n = strlen(path);
	char *s = malloc(n + 2);
	if (!s)
		return NULL;
	char *q = s;
	if (leading_backslash)
		*q++ = '\\';
	for (size_t i = 0; i < n; i++)
		*q++ = path[i] == '/' ? '\\' : path[i];
	*q = 0;
	return s;
}

/* The smallest OutputBufferLength Windows accepts for the variable-length
 * classes: the C structure size, first name character and padding
 * included (smbtorture smb2.getinfo.q*_buffercheck).  Below it the answer
 * is STATUS_INFO_LENGTH_MISMATCH even where the encoder could fit the
 * fixed fields. */
static size_t windows_min_file(uint8_t cls)
{
	switch (cls) {
	case FileAllInformation: return 104;
	case FileNameInformation:
	case FileAlternateNameInformation:
	case FileNormalizedNameInformation: return 8;
	case FileStreamInformation: return 32;
	default: return 0;
	}
}

static size_t windows_min_fs(uint8_t cls)
{
	switch (cls) {
	case FileFsVolumeInformation: return 24;
	case FileFsAttributeInformation: return 16;
	default: return 0;
	}
}

static NTSTATUS enc_status(int r)
{
	switch (r) {
	case 0: return STATUS_SUCCESS;
	case -EOVERFLOW: return STATUS_BUFFER_OVERFLOW;
	case -ENOSPC: return STATUS_INFO_LENGTH_MISMATCH;
	case -EINVAL: return STATUS_INVALID_INFO_CLASS;
	case -ENOMEM: return STATUS_NO_MEMORY;
	default: return STATUS_INTERNAL_ERROR;
	}
}

/* FILE_FULL_EA_INFORMATION list of the "user." xattrs (Samba's layout: EA
 * "name" is stored as "user.name"). */
static NTSTATUS query_eas(struct smb2_req *req, struct open *o)
{
	static const char dosattrib[] = "user.DOSATTRIB";
	const struct vfs_ident *id = ident_of(req);
	/* as large as the kernel's list can be: names the user cannot see
	 * (trusted.*) may be listed too (vfs.c) */
	enum { NAMES_MAX = 65536 };
	char *names = malloc(NAMES_MAX);
	if (!names)
		return STATUS_NO_MEMORY;
	ssize_t n = vfs_flistxattr(id, o->fd, names, NAMES_MAX);
	if (n < 0)
		n = 0; /* O_PATH fd or no xattr support: no EAs */
	uint8_t *prev = NULL;
	unsigned written = 0, total = 0;
	bool overflow = false;
	for (ssize_t off = 0; off < n; off += (ssize_t)strlen(names + off) + 1) {
		const char *x = names + off;
		if (strncmp(x, "user.", 5) || !strcmp(x, dosattrib) || strlen(x + 5) > 255 ||
		    !strncmp(x + 5, "DosStream.", 10) || !x[5])
			continue;
		uint8_t val[65536];
		ssize_t vl = vfs_fgetxattr(id, o->fd, x, val, sizeof(val));
		if (vl < 0)
			continue;
		total++;
		if (overflow)
			continue;
		struct fscc_ea ea = { 0, (uint8_t)strlen(x + 5), x + 5, (uint16_t)vl, val };
		if (fscc_ea_encode(&req->out, &ea, &prev) < 0)
			overflow = true;
		else
			written++;
	}
	free(names);
	if (total == 0)
		return STATUS_NO_EAS_ON_FILE; /* as NTFS */
	if (overflow)
		return written ? STATUS_BUFFER_OVERFLOW : STATUS_BUFFER_TOO_SMALL;
	return STATUS_SUCCESS;
}

/* MS-FSA 2.1.5.11: classes exposing attributes and times need
 * FILE_READ_ATTRIBUTES; the EA list needs FILE_READ_EA.  *done: the class
 * was answered here (the EA list). */
static NTSTATUS query_file_allowed(struct smb2_req *req, struct open *o, uint8_t cls, bool *done)
{
	NTSTATUS st = STATUS_SUCCESS;
	*done = false;
	switch (cls) {
	case FileBasicInformation:
	case FileAllInformation:
	case FileNetworkOpenInformation:
	case FileAttributeTagInformation:
		st = fileops_check_access(o, FILE_READ_ATTRIBUTES);
		break;
	case FileFullEaInformation:
		if ((st = fileops_check_access(o, FILE_READ_EA)))
			return st;
		*done = true;
		return query_eas(req, o);
	case FileNormalizedNameInformation:
		/* MS-SMB2 3.3.5.20.1: only for the 3.1.1 dialect */
		if (req->sc->dialect < 0x0311)
			return STATUS_NOT_SUPPORTED;
		break;
	}
	return st;
}

/* What an open's attributes say, with the open's own state (position,
 * mode, delete-pending, a sticky write time). */
static void query_file_fill(struct open *o, uint8_t cls, const struct fileops_attrs *a, struct fscc_file_info *fi)
{
	*fi = (struct fscc_file_info){
		.create = a->create, .access = a->access, .write = a->write, .change = a->change,
		.alloc = a->alloc, .eof = a->eof, .attrs = a->attrs, .nlink = a->nlink,
		.directory = a->is_dir, .index = a->ino, .access_mask = o->access,
		.position = o->position, .mode = o->mode, .alignment = 0,
		.volume_serial = a->dev,
	};
	if (cls == FileEaInformation || cls == FileAllInformation)
		fi->ea_size = fileops_ea_size_open(o);
	if (o->file) {
		pthread_mutex_lock(&o->file->lock);
		fi->delete_pending = o->file->delete_pending;
		pthread_mutex_unlock(&o->file->lock);
	}
	if (fi->delete_pending && fi->nlink)
		fi->nlink--; /* MS-FSA: the link count excludes a pending delete */
	if (o->last_write_nt)
		fi->write = o->last_write_nt;
}

/* FileStreamInformation of the open at path: "::$DATA" (files) and the
 * named streams of the base file; *all (malloc'd) and *named
 * (streams_list) are the caller's. */
static NTSTATUS query_streams(struct smb2_req *req, const char *path, const struct fileops_attrs *a,
			      struct fscc_file_info *fi, struct fscc_stream **all, struct fscc_stream **named,
			      unsigned *n_named)
{
	struct fscc_stream data = { "::$DATA", a->eof, a->alloc };
	const char *colon = strchr(path, ':');
	uint64_t dev, ino = a->ino;
	bool base_is_dir = a->is_dir;
	if (colon) {
		struct statx bst;
		char *base = strndup(path, (size_t)(colon - path));
		int r = base ? vfs_statx(ident_of(req), req->tree->root_fd, base, 0, STATX_BASIC_STATS, &bst)
			     : -ENOMEM;
		free(base);
		if (r < 0)
			return vfs_nt_status(r);
		dev = makedev(bst.stx_dev_major, bst.stx_dev_minor);
		ino = bst.stx_ino;
		base_is_dir = S_ISDIR(bst.stx_mode);
		data.size = bst.stx_size;
		data.alloc = (uint64_t)bst.stx_blocks * 512;
	} else {
		dev = makedev((unsigned)(a->dev >> 32), (unsigned)(a->dev & 0xffffffffu));
	}
	int lr;
	if (req->tree->share && req->tree->share->streams_xattr) {
		char *base = colon ? strndup(path, (size_t)(colon - path)) : strdup(path);
		lr = base ? streams_xattr_list(req->tree->root_fd, base[0] ? base : ".", named, n_named) : -ENOMEM;
		free(base);
	} else {
		lr = streams_list(req->tree->root_fd, dev, ino, named, n_named);
	}
	if (lr < 0)
		*n_named = 0;
	*all = calloc(*n_named + 1, sizeof(**all));
	if (!*all)
		return STATUS_NO_MEMORY;
	unsigned n = 0;
	if (!base_is_dir)
		(*all)[n++] = data;
	for (unsigned i = 0; i < *n_named; i++)
		(*all)[n++] = (*named)[i];
	fi->streams = *all;
	fi->n_streams = n;
	return STATUS_SUCCESS;
}

static NTSTATUS query_file(struct smb2_req *req, struct open *o, const struct wire_query_info_req *q)
{
	uint8_t cls = q->info_class;
	bool done;
	NTSTATUS st = query_file_allowed(req, o, cls, &done);
	if (st || done)
		return st;
	if (o->fd < 0) {
		/* named pipe: only the standard class, as Windows */
		struct fscc_file_info fi = { .alloc = 4096, .nlink = 1, .delete_pending = true };
		if (cls != FileStandardInformation)
			return STATUS_INVALID_PARAMETER;
		return enc_status(fscc_file_info_encode(&req->out, cls, &fi));
	}
	struct fileops_attrs a;
	if ((st = fileops_stat_open(o, &a)))
		return st;
	/* one name for the whole answer (a rename may replace o's meanwhile) */
	struct open_path *p = open_path_get(o);
	/* "hide dot files" / "hide files", as in directory listings */
	if (p->s[0] && share_name_hidden(req->tree->share, p->s)) /* req->tree: the open's */
		a.attrs = (a.attrs & ~FILE_ATTRIBUTE_NORMAL) | FILE_ATTRIBUTE_HIDDEN;
	if (wr_left(&req->out) < windows_min_file(cls) && !(cls == FileStreamInformation && a.is_dir)) {
		open_path_put(p);
		return STATUS_INFO_LENGTH_MISMATCH;
	}
	struct fscc_file_info fi;
	query_file_fill(o, cls, &a, &fi);
	struct fscc_stream *named = NULL, *all = NULL;
	unsigned n_named = 0;
	char *name = NULL;
	char alt[13];
	if (cls == FileAlternateNameInformation) {
		fileops_short_name(p->s, alt);
		fi.name = alt;
		cls = FileNameInformation; /* same layout (2.4.5) */
	} else if (cls == FileNameInformation || cls == FileAllInformation) {
		fi.name = name = nt_path(p->s, true);
	} else if (cls == FileNormalizedNameInformation) {
		fi.name = name = nt_path(p->s, false);
	} else if (cls == FileStreamInformation) {
		st = query_streams(req, p->s, &a, &fi, &all, &named, &n_named);
	}
	open_path_put(p);
	if (!st && (cls == FileNameInformation || cls == FileAllInformation ||
		    cls == FileNormalizedNameInformation) && !fi.name)
		st = STATUS_NO_MEMORY;
	if (!st)
		st = enc_status(fscc_file_info_encode(&req->out, cls, &fi));
	free(name);
	free(all);
	streams_list_free(named, n_named);
	return st;
}

static uint32_t volume_serial(const struct tree *t)
{
	/* stable per share: FNV-1a of the share name */
	uint32_t h = 2166136261u;
	const char *s = t->share && t->share->name ? t->share->name : "";
	for (; *s; s++)
		h = (h ^ (uint8_t)tolower((unsigned char)*s)) * 16777619u;
	return h;
}

static NTSTATUS query_fs(struct smb2_req *req, struct open *o, const struct wire_query_info_req *q)
{
	if (o->fd < 0)
		return STATUS_INVALID_PARAMETER;
	struct statfs sfs;
	int r = vfs_fstatfs(ident_of(req), o->fd, &sfs);
	if (r < 0)
		return vfs_nt_status(r);
	uint32_t bps = 512;
	uint64_t bsize = sfs.f_frsize ? (uint64_t)sfs.f_frsize : (uint64_t)sfs.f_bsize;
	if (bsize < bps)
		bsize = bps;
	struct fscc_fs_info fs = {
		.serial = volume_serial(req->tree),
		.label = req->tree->share ? req->tree->share->name : "",
		.total_units = sfs.f_blocks,
		.avail_units = sfs.f_bavail,
		.actual_avail_units = sfs.f_bfree,
		.sectors_per_unit = (uint32_t)(bsize / bps),
		.bytes_per_sector = bps,
		.attrs = FILE_CASE_SENSITIVE_SEARCH | FILE_CASE_PRESERVED_NAMES | FILE_UNICODE_ON_DISK |
			 FILE_PERSISTENT_ACLS | FILE_SUPPORTS_SPARSE_FILES | FILE_SUPPORTS_OBJECT_IDS |
			 FILE_SUPPORTS_HARD_LINKS,
		.max_name_len = 255,
		.fs_name = "NTFS",
		.device_type = FILE_DEVICE_DISK,
		.device_characteristics = 0x20, /* FILE_DEVICE_IS_MOUNTED */
		.sector_flags = SSINFO_FLAGS_ALIGNED_DEVICE | SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE,
	};
	uint32_t serial = fs.serial;
	memcpy(fs.object_id, &serial, 4);
	memcpy(fs.object_id + 4, "smb3d-volume", 12);
	if (wr_left(&req->out) < windows_min_fs(q->info_class))
		return STATUS_INFO_LENGTH_MISMATCH;
	if (q->info_class == FileFsControlInformation)
		return enc_status(fscc_fs_control_encode(&req->out, 0));
	return enc_status(fscc_fs_info_encode(&req->out, q->info_class, &fs));
}

static NTSTATUS query_security(struct smb2_req *req, struct open *o, const struct wire_query_info_req *q,
			       uint32_t *needed)
{
	uint32_t si = q->additional_info;
	NTSTATUS st;
	if (si & (OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION |
		  LABEL_SECURITY_INFORMATION))
		if ((st = fileops_check_access(o, READ_CONTROL)))
			return st;
	if (si & SACL_SECURITY_INFORMATION)
		if ((st = fileops_check_access(o, ACCESS_SYSTEM_SECURITY)))
			return st;
	if (o->fd < 0)
		return STATUS_INVALID_PARAMETER;
	size_t room = wr_left(&req->out);
	struct acl_stored a;
	if (acl_load(o->fd, &a) == 0) {
		/* a descriptor set by a client (acl.h) */
		size_t need = acl_query(&a.sd, si, NULL, 0);
		if (need > room) {
			acl_stored_free(&a);
			*needed = (uint32_t)need;
			return STATUS_BUFFER_TOO_SMALL;
		}
		acl_query(&a.sd, si, wr_reserve(&req->out, need), need);
		acl_stored_free(&a);
		return STATUS_SUCCESS;
	}
	struct statx stx;
	int r = vfs_statx(ident_of(req), o->fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx);
	if (r < 0)
		return vfs_nt_status(r);
	size_t need = secdesc_build(stx.stx_uid, stx.stx_gid, stx.stx_mode, S_ISDIR(stx.stx_mode),
				    si, NULL, 0);
	if (need > room) {
		*needed = (uint32_t)need;
		return STATUS_BUFFER_TOO_SMALL;
	}
	secdesc_build(stx.stx_uid, stx.stx_gid, stx.stx_mode, S_ISDIR(stx.stx_mode), si,
		      wr_reserve(&req->out, need), need);
	return STATUS_SUCCESS;
}

NTSTATUS cmd_query_info(struct smb2_req *req)
{
	struct wire_query_info_req q;
	if (wire_query_info_decode_req(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	struct open *o = req->open;

	size_t room = q.output_len < QI_MAX_OUT ? q.output_len : QI_MAX_OUT;
	NTSTATUS st = STATUS_NO_MEMORY;
	if (req_out_reserve(req, 16 + room) < 0)
		goto out;
	uint8_t *body = wire_query_info_rsp_begin(&req->out);
	uint8_t *end = req->out.end;
	if (!body)
		goto out;
	/* The client's OutputBufferLength is the room the encoders see. */
	if ((size_t)(end - req->out.p) > room)
		req->out.end = req->out.p + room;
	uint32_t needed = 0;
	switch (q.info_type) {
	case SMB2_0_INFO_FILE:
		st = query_file(req, o, &q);
		break;
	case SMB2_0_INFO_FILESYSTEM:
		st = query_fs(req, o, &q);
		break;
	case SMB2_0_INFO_SECURITY:
		st = query_security(req, o, &q, &needed);
		break;
	case SMB2_0_INFO_QUOTA:
		st = STATUS_NOT_SUPPORTED;
		break;
	default:
		st = STATUS_INVALID_PARAMETER;
		break;
	}
	req->out.end = end;
	req->out.err = false;
	if (st == STATUS_SUCCESS || st == STATUS_BUFFER_OVERFLOW) {
		if (wire_query_info_rsp_end(&req->out, body) < 0)
			st = STATUS_INTERNAL_ERROR;
	} else {
		req->out.p = req->out_buf + SMB2_HDR_SIZE;
		if (st == STATUS_BUFFER_TOO_SMALL && needed) {
			/* MS-SMB2 3.3.5.20.3: the error data is the size needed */
			uint8_t b[4];
			put_le32(b, needed);
			smb2_error_encode(&req->out, b, 4);
		}
	}
out:
	return st;
}
