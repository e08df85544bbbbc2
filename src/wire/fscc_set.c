/* [MS-FSCC] decoders for the SET_INFO file classes and the
 * FILE_FULL_EA_INFORMATION list (2.4.15). */
#include "wire/fscc.h"

#include <errno.h>
#include <string.h>

int fscc_basic_decode(const uint8_t *b, size_t len, struct fscc_basic *o)
{
	if (len < 40)
		return -EMSGSIZE;
	o->create = get_le64(b);
	o->access = get_le64(b + 8);
	o->write = get_le64(b + 16);
	o->change = get_le64(b + 24);
	o->attrs = get_le32(b + 32);
	return 0;
}

/* 2.4.42.2: ReplaceIfExists 1, Reserved 7, RootDirectory 8,
 * FileNameLength 4, FileName. */
int fscc_rename_decode(const uint8_t *b, size_t len, struct fscc_rename *o)
{
	if (len < 20)
		return -EMSGSIZE;
	o->replace_if_exists = b[0] != 0;
	o->root_directory = get_le64(b + 8);
	o->name_len = get_le32(b + 16);
	if (o->name_len % 2 || o->name_len > len - 20)
		return -EINVAL;
	o->name = o->name_len ? b + 20 : NULL;
	return 0;
}

int fscc_link_decode(const uint8_t *b, size_t len, struct fscc_rename *o)
{
	return fscc_rename_decode(b, len, o);
}

int fscc_disposition_decode(const uint8_t *b, size_t len, bool *delete_pending)
{
	if (len < 1)
		return -EMSGSIZE;
	*delete_pending = b[0] != 0;
	return 0;
}

static int get32(const uint8_t *b, size_t len, uint32_t *v)
{
	if (len < 4)
		return -EMSGSIZE;
	*v = get_le32(b);
	return 0;
}

static int get64(const uint8_t *b, size_t len, uint64_t *v)
{
	if (len < 8)
		return -EMSGSIZE;
	*v = get_le64(b);
	return 0;
}

int fscc_disposition_ex_decode(const uint8_t *b, size_t len, uint32_t *flags)
{
	return get32(b, len, flags);
}

int fscc_position_decode(const uint8_t *b, size_t len, uint64_t *pos)
{
	return get64(b, len, pos);
}

int fscc_mode_decode(const uint8_t *b, size_t len, uint32_t *mode)
{
	return get32(b, len, mode);
}

int fscc_eof_decode(const uint8_t *b, size_t len, uint64_t *eof)
{
	return get64(b, len, eof);
}

int fscc_allocation_decode(const uint8_t *b, size_t len, uint64_t *alloc)
{
	return get64(b, len, alloc);
}

void fscc_ea_iter_init(struct fscc_ea_iter *it, const uint8_t *b, size_t len)
{
	it->p = b;
	it->end = b ? b + len : b;
}

/* An entry: NextEntryOffset 4, Flags 1, EaNameLength 1, EaValueLength 2,
 * EaName + NUL, EaValue.  NextEntryOffset is a multiple of 4 that covers
 * the entry and is followed by another one; 0 ends the list. */
int fscc_ea_next(struct fscc_ea_iter *it, struct fscc_ea *ea)
{
	if (!it->p || it->p == it->end)
		return 0;
	size_t left = (size_t)(it->end - it->p);
	if (left < 8)
		goto bad;
	const uint8_t *e = it->p;
	uint32_t next = get_le32(e);
	ea->flags = e[4];
	ea->name_len = e[5];
	ea->value_len = get_le16(e + 6);
	size_t size = 8 + (size_t)ea->name_len + 1 + ea->value_len;
	if (size > left || e[8 + ea->name_len] != 0)
		goto bad;
	/* A non-zero Next promises another entry of at least 8 bytes. */
	if (next && (next % 4 || next < size || (size_t)next + 8 > left))
		goto bad;
	ea->name = (const char *)e + 8;
	ea->value = e + 8 + ea->name_len + 1;
	it->p = next ? e + next : it->end;
	return 1;
bad:
	it->p = it->end;
	return -EINVAL;
}

int fscc_ea_encode(struct wr *w, const struct fscc_ea *ea, uint8_t **prev_next_field)
{
	size_t size = 8 + (size_t)ea->name_len + 1 + ea->value_len;
	size_t pad = (4 - wr_pos(w) % 4) % 4;
	if (wr_left(w) < pad + size)
		return -ENOSPC;
	wr_zero(w, pad);
	uint8_t *e = wr_reserve(w, size);
	put_le32(e, 0);
	e[4] = ea->flags;
	e[5] = ea->name_len;
	put_le16(e + 6, ea->value_len);
	memcpy(e + 8, ea->name, ea->name_len);
	e[8 + ea->name_len] = 0;
	if (ea->value_len)
		memcpy(e + 9 + ea->name_len, ea->value, ea->value_len);
	if (*prev_next_field)
		put_le32(*prev_next_field, (uint32_t)(e - *prev_next_field));
	*prev_next_field = e;
	return 0;
}
