/* Sparse files ([MS-FSCC] 2.3, [MS-FSA] 2.1.5.9): FSCTL_SET_SPARSE keeps
 * the attribute in the DOS attributes, FSCTL_SET_ZERO_DATA punches a hole
 * (or zeroes the range of a file that is not sparse), and
 * FSCTL_QUERY_ALLOCATED_RANGES lists the data with SEEK_DATA / SEEK_HOLE.
 * The FSCTL table (cmd/ioctl.c) has checked the open (a file, not a
 * directory or a pipe) and its access before these run. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>

#include "cmd/alloc.h"
#include "cmd/fileops.h"
#include "cmd/ioctl_int.h"
#include "cmd/streams.h"
#include "state/brl.h"
#include "vfs/vfs.h"
#include "wire/fscc.h"

#define QAR_MAX_RANGES 65536u
#define DOS_STORED_ATTRS (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | \
			  FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_TEMPORARY | FILE_ATTRIBUTE_SPARSE_FILE)

static bool is_sparse(struct ioctl_ctx *c)
{
	struct vfs_dosinfo d;
	return vfs_dos_get(c->id, c->o->fd, &d) == 0 && (d.attrs & FILE_ATTRIBUTE_SPARSE_FILE);
}

NTSTATUS fsctl_set_sparse(struct ioctl_ctx *c)
{
	struct open *o = c->o;
	bool sparse;
	if (wire_fsctl_set_sparse_decode(c->q.in, c->q.in_len, &sparse) < 0)
		return STATUS_INVALID_PARAMETER;
	struct fileops_attrs a;
	NTSTATUS st = fileops_stat_open(o, &a);
	if (st)
		return st;
	struct vfs_dosinfo d = { 0 };
	if (vfs_dos_get(c->id, o->fd, &d) < 0)
		d.create_time = a.create;
	d.attrs = a.attrs & DOS_STORED_ATTRS;
	if (sparse)
		d.attrs |= FILE_ATTRIBUTE_SPARSE_FILE;
	else
		d.attrs &= ~FILE_ATTRIBUTE_SPARSE_FILE;
	lease_watch_own_open(o); /* the attribute's xattr: not another program's change */
	int r = vfs_dos_set(c->id, o->fd, &d);
	lease_watch_own_open(o);
	fileops_attr_cache_drop(o);
	if (r < 0)
		return vfs_nt_status(r);
	return ioctl_rsp_empty(c);
}

/* No fallocate support: write zeroes over [off, end), if the space is
 * there.  0 or -errno; *st set when the space is not there. */
static int zero_by_writing(struct ioctl_ctx *c, uint64_t off, uint64_t end, NTSTATUS *st)
{
	struct open *o = c->o;
	*st = alloc_check(c->id, o->fd, alloc_holes(c->id, o->fd, off, end));
	if (*st != STATUS_SUCCESS)
		return 0;
	uint64_t len = end - off;
	size_t blk = len < (1u << 20) ? (size_t)len : (1u << 20);
	uint8_t *zero = calloc(1, blk);
	if (!zero) {
		*st = STATUS_NO_MEMORY;
		return 0;
	}
	int r = 0;
	while (off < end && r >= 0) {
		size_t n = end - off < blk ? (size_t)(end - off) : blk;
		ssize_t w = vfs_pwrite(c->id, o->fd, zero, n, off);
		r = w < 0 ? (int)w : 0;
		off += w > 0 ? (uint64_t)w : n;
	}
	free(zero);
	return r;
}

/* Zeroes [off, end) of a file, inside its size.
 * Sparse files get a hole; others keep their allocation (as NTFS), which
 * fills their holes in the range: when that needs more than the free space
 * allows (alloc.h), or runs out of it, the range is deallocated instead --
 * it reads as zeroes either way, and what a failed ZERO_RANGE took is given
 * back. */
static NTSTATUS zero_range(struct ioctl_ctx *c, uint64_t off, uint64_t end)
{
	struct open *o = c->o;
	uint64_t len = end - off;
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	int mode = punch;
	if (!is_sparse(c) && alloc_check(c->id, o->fd, alloc_holes(c->id, o->fd, off, end)) == STATUS_SUCCESS)
		mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	int r = vfs_fallocate(c->id, o->fd, mode, off, len);
	if ((r == -EOPNOTSUPP || r == -ENOSPC || r == -EDQUOT) && mode != punch)
		r = vfs_fallocate(c->id, o->fd, punch, off, len);
	if (r == -EOPNOTSUPP) {
		NTSTATUS st = STATUS_SUCCESS;
		r = zero_by_writing(c, off, end, &st);
		if (st != STATUS_SUCCESS)
			return st;
	}
	return r < 0 ? vfs_nt_status(r) : STATUS_SUCCESS;
}

NTSTATUS fsctl_set_zero_data(struct ioctl_ctx *c)
{
	struct open *o = c->o;
	struct wire_zero_data z;
	if (wire_fsctl_zero_data_decode(c->q.in, c->q.in_len, &z) < 0)
		return STATUS_INVALID_PARAMETER;
	if (z.offset > z.beyond_final_zero || z.beyond_final_zero > INT64_MAX)
		return STATUS_INVALID_PARAMETER;
	int64_t size = ioctl_file_size(c->id, o->fd);
	if (size < 0)
		return vfs_nt_status((int)size);
	/* Zeroing never changes the file size: clip to EOF. */
	uint64_t end = z.beyond_final_zero < (uint64_t)size ? z.beyond_final_zero : (uint64_t)size;
	if (z.offset >= end)
		return ioctl_rsp_empty(c);
	if (o->file) {
		NTSTATUS lst = brl_check_io(o->file, o, z.offset, end - z.offset, true);
		if (lst)
			return lst;
	}
	NTSTATUS st = zero_range(c, z.offset, end);
	if (st)
		return st;
	st = streams_written(o); /* a streams_xattr stream that cannot hold it */
	return st ? st : ioctl_rsp_empty(c);
}

/* Appends [off, off+len) to the growing array *v of *n ranges (*cap
 * allocated).  STATUS_BUFFER_OVERFLOW past QAR_MAX_RANGES. */
static NTSTATUS range_add(struct wire_alloc_range **v, unsigned *n, unsigned *cap, uint64_t off, uint64_t len)
{
	if (*n == *cap) {
		if (*cap >= QAR_MAX_RANGES)
			return STATUS_BUFFER_OVERFLOW;
		unsigned ncap = *cap ? *cap * 2 : 16;
		struct wire_alloc_range *nv = realloc(*v, ncap * sizeof(**v));
		if (!nv)
			return STATUS_NO_MEMORY;
		*v = nv;
		*cap = ncap;
	}
	(*v)[*n].offset = off;
	(*v)[*n].length = len;
	(*n)++;
	return STATUS_SUCCESS;
}

/* The allocated ranges of [off, end): one for a file that is not sparse
 * (allocated throughout, as NTFS), else the data between the holes.  The
 * status is STATUS_BUFFER_OVERFLOW when there were more than
 * QAR_MAX_RANGES (those are kept), or an error (nothing kept). */
static NTSTATUS allocated_ranges(struct ioctl_ctx *c, uint64_t off, uint64_t end,
				 struct wire_alloc_range **v, unsigned *n)
{
	unsigned cap = 0;
	*v = NULL;
	*n = 0;
	if (off < end && !is_sparse(c))
		return range_add(v, n, &cap, off, end - off);
	NTSTATUS st = STATUS_SUCCESS;
	for (uint64_t pos = off; pos < end && st == STATUS_SUCCESS;) {
		int64_t data = vfs_lseek(c->id, c->o->fd, (int64_t)pos, SEEK_DATA);
		if (data == -ENXIO || (data >= 0 && (uint64_t)data >= end))
			break;
		if (data < 0) {
			st = vfs_nt_status((int)data);
			break;
		}
		int64_t hole = vfs_lseek(c->id, c->o->fd, data, SEEK_HOLE);
		if (hole < 0) {
			st = vfs_nt_status((int)hole);
			break;
		}
		uint64_t stop = (uint64_t)hole < end ? (uint64_t)hole : end;
		st = range_add(v, n, &cap, (uint64_t)data, stop - (uint64_t)data);
		pos = stop;
	}
	if (nt_is_error(st)) {
		free(*v);
		*v = NULL;
		*n = 0;
	}
	return st;
}

NTSTATUS fsctl_query_allocated_ranges(struct ioctl_ctx *c)
{
	struct wire_alloc_range in;
	if (wire_fsctl_alloc_range_decode(c->q.in, c->q.in_len, &in) < 0)
		return STATUS_INVALID_PARAMETER;
	if (in.offset > INT64_MAX || in.length > INT64_MAX || in.offset + in.length > INT64_MAX)
		return STATUS_INVALID_PARAMETER;
	int64_t size = ioctl_file_size(c->id, c->o->fd);
	if (size < 0)
		return vfs_nt_status((int)size);
	uint64_t end = in.offset + in.length;
	if (end > (uint64_t)size)
		end = (uint64_t)size;
	struct wire_alloc_range *v;
	unsigned n;
	NTSTATUS st = allocated_ranges(c, in.offset, end, &v, &n);
	if (nt_is_error(st))
		return st;
	/* Whole ranges only: none fits -> BUFFER_TOO_SMALL, some ->
	 * BUFFER_OVERFLOW with those (as Windows). */
	unsigned fit = c->q.max_output_response / 16;
	if (n && !fit) {
		free(v);
		return STATUS_BUFFER_TOO_SMALL;
	}
	if (fit < n) {
		n = fit;
		st = STATUS_BUFFER_OVERFLOW;
	}
	uint8_t *b = ioctl_rsp_begin(c, (size_t)n * 16);
	if (b && wire_fsctl_alloc_ranges_encode(&c->req->out, v, n) != n)
		b = NULL;
	free(v);
	return ioctl_rsp_end(c, b, st);
}
