/* NTLMSSP message codec (MS-NLMP 2.2.1, 2.2.2.1). */
#include "wire/ntlmssp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t ntlmssp_sig[8] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0 };

#define NEGOTIATE_FIXED 32    /* up to and without Version */
#define CHALLENGE_FIXED 48    /* up to and without Version */
#define AUTHENTICATE_FIXED 64 /* up to and without Version */

int ntlmssp_message_type(const uint8_t *buf, size_t len)
{
	if (!buf || len < 12 || memcmp(buf, ntlmssp_sig, 8) != 0)
		return -EINVAL;
	uint32_t t = get_le32(buf + 8);
	if (t < NTLMSSP_NEGOTIATE || t > NTLMSSP_AUTHENTICATE)
		return -EINVAL;
	return (int)t;
}

/* A (Len, MaxLen, BufferOffset) triple, MS-NLMP 2.2.1.1.  The referenced
 * bytes must lie inside the message; MaxLen is ignored as the spec says.
 * *min_off tracks the lowest offset of a non-empty field (it tells where
 * the payload begins, hence whether Version and MIC fields are there). */
static bool read_field(struct rd *r, const uint8_t **p, size_t *len, size_t *min_off)
{
	uint16_t l = rd_le16(r);
	(void)rd_le16(r);
	uint32_t off = rd_le32(r);
	if (!rd_ok(r))
		return false;
	*len = l;
	*p = NULL;
	if (l == 0)
		return true;
	*p = rd_range(r, off, l);
	if (!*p)
		return false;
	if (off < *min_off)
		*min_off = off;
	return true;
}

static bool check_header(struct rd *r, uint32_t type)
{
	const uint8_t *sig = rd_ptr(r, 8);
	uint32_t t = rd_le32(r);
	return rd_ok(r) && memcmp(sig, ntlmssp_sig, 8) == 0 && t == type;
}

int ntlmssp_decode_negotiate(const uint8_t *buf, size_t len, struct ntlmssp_negotiate *out, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	memset(out, 0, sizeof(*out));
	struct rd r = rd_init(buf, len);
	if (!check_header(&r, NTLMSSP_NEGOTIATE)) {
		*why = "NEGOTIATE: bad signature or type";
		return -EINVAL;
	}
	out->flags = rd_le32(&r);
	/* DomainNameFields / WorkstationFields are only meaningful with the OEM
	 * *_SUPPLIED flags; check them for sanity when present. */
	if (rd_left(&r) >= 16) {
		const uint8_t *p;
		size_t l, min_off = SIZE_MAX;
		if (!read_field(&r, &p, &l, &min_off) || !read_field(&r, &p, &l, &min_off)) {
			*why = "NEGOTIATE: field out of bounds";
			return -EINVAL;
		}
	}
	if (!rd_ok(&r)) {
		*why = "NEGOTIATE: truncated";
		return -EINVAL;
	}
	return 0;
}

int ntlmssp_decode_challenge(const uint8_t *buf, size_t len, struct ntlmssp_challenge *out, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	memset(out, 0, sizeof(*out));
	struct rd r = rd_init(buf, len);
	size_t min_off = SIZE_MAX;
	if (!check_header(&r, NTLMSSP_CHALLENGE)) {
		*why = "CHALLENGE: bad signature or type";
		return -EINVAL;
	}
	bool ok = read_field(&r, &out->target_name, &out->target_name_len, &min_off);
	out->flags = rd_le32(&r);
	rd_bytes(&r, out->server_challenge, 8);
	rd_skip(&r, 8); /* Reserved */
	ok = ok && read_field(&r, &out->target_info, &out->target_info_len, &min_off);
	if (!ok || !rd_ok(&r)) {
		*why = "CHALLENGE: truncated or field out of bounds";
		return -EINVAL;
	}
	if (min_off >= CHALLENGE_FIXED + NTLMSSP_VERSION_LEN)
		rd_bytes(&r, out->version, NTLMSSP_VERSION_LEN);
	return 0;
}

int ntlmssp_decode_authenticate(const uint8_t *buf, size_t len, struct ntlmssp_authenticate *m, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	memset(m, 0, sizeof(*m));
	struct rd r = rd_init(buf, len);
	size_t min_off = len;
	if (!check_header(&r, NTLMSSP_AUTHENTICATE)) {
		*why = "AUTHENTICATE: bad signature or type";
		return -EINVAL;
	}
	bool ok = read_field(&r, &m->lm_response, &m->lm_response_len, &min_off) &&
		  read_field(&r, &m->nt_response, &m->nt_response_len, &min_off) &&
		  read_field(&r, &m->domain, &m->domain_len, &min_off) &&
		  read_field(&r, &m->user, &m->user_len, &min_off) &&
		  read_field(&r, &m->workstation, &m->workstation_len, &min_off) &&
		  read_field(&r, &m->enc_session_key, &m->enc_session_key_len, &min_off);
	m->flags = rd_le32(&r);
	if (!ok || !rd_ok(&r)) {
		*why = "AUTHENTICATE: truncated or field out of bounds";
		return -EINVAL;
	}
	/* MS-NLMP 2.2.1.3: Version (8) then MIC (16) precede the payload when
	 * the payload starts at or after offset 88. */
	if (min_off >= NTLMSSP_MIC_OFFSET + NTLMSSP_MIC_LEN && len >= NTLMSSP_MIC_OFFSET + NTLMSSP_MIC_LEN) {
		m->mic_room = true;
		memcpy(m->mic, buf + NTLMSSP_MIC_OFFSET, NTLMSSP_MIC_LEN);
	}
	return 0;
}

/* ---------------------------------------------------------------- encode */

struct payload {
	uint8_t *msg;
	size_t off; /* next free payload offset */
};

/* Write a field triple at `hdr` and its bytes at the payload tail. */
static void put_field(struct payload *pl, uint8_t *hdr, const void *data, size_t len)
{
	put_le16(hdr, (uint16_t)len);
	put_le16(hdr + 2, (uint16_t)len);
	put_le32(hdr + 4, (uint32_t)pl->off);
	if (len)
		memcpy(pl->msg + pl->off, data, len);
	pl->off += len;
}

static int alloc_msg(size_t fixed, size_t payload, uint32_t type, uint8_t **msg)
{
	if (payload > 6 * 0xffff)
		return -EINVAL;
	*msg = calloc(1, fixed + payload);
	if (!*msg)
		return -ENOMEM;
	memcpy(*msg, ntlmssp_sig, 8);
	put_le32(*msg + 8, type);
	return 0;
}

int ntlmssp_encode_negotiate(const struct ntlmssp_negotiate *m, uint8_t **out, size_t *out_len)
{
	size_t fixed = NEGOTIATE_FIXED + NTLMSSP_VERSION_LEN;
	int rc = alloc_msg(fixed, 0, NTLMSSP_NEGOTIATE, out);
	if (rc)
		return rc;
	put_le32(*out + 12, m->flags);
	struct payload pl = { *out, fixed };
	put_field(&pl, *out + 16, NULL, 0);
	put_field(&pl, *out + 24, NULL, 0);
	*out_len = fixed;
	return 0;
}

int ntlmssp_encode_challenge(const struct ntlmssp_challenge *m, uint8_t **out, size_t *out_len)
{
	size_t fixed = CHALLENGE_FIXED + NTLMSSP_VERSION_LEN;
	if (m->target_name_len > 0xffff || m->target_info_len > 0xffff)
		return -EINVAL;
	int rc = alloc_msg(fixed, m->target_name_len + m->target_info_len, NTLMSSP_CHALLENGE, out);
	if (rc)
		return rc;
	uint8_t *b = *out;
	struct payload pl = { b, fixed };
	put_field(&pl, b + 12, m->target_name, m->target_name_len);
	put_le32(b + 20, m->flags);
	memcpy(b + 24, m->server_challenge, 8);
	put_field(&pl, b + 40, m->target_info, m->target_info_len);
	memcpy(b + CHALLENGE_FIXED, m->version, NTLMSSP_VERSION_LEN);
	*out_len = pl.off;
	return 0;
}

int ntlmssp_encode_authenticate(const struct ntlmssp_authenticate *m, uint8_t **out, size_t *out_len)
{
	size_t fixed = NTLMSSP_MIC_OFFSET + NTLMSSP_MIC_LEN;
	size_t lens[6] = { m->lm_response_len, m->nt_response_len, m->domain_len,
			   m->user_len, m->workstation_len, m->enc_session_key_len };
	size_t total = 0;
	for (int i = 0; i < 6; i++) {
		if (lens[i] > 0xffff)
			return -EINVAL;
		total += lens[i];
	}
	int rc = alloc_msg(fixed, total, NTLMSSP_AUTHENTICATE, out);
	if (rc)
		return rc;
	uint8_t *b = *out;
	struct payload pl = { b, fixed };
	/* Payload order as Windows writes it: domain, user, workstation,
	 * LM, NT, session key; the header order is fixed by the spec. */
	put_field(&pl, b + 28, m->domain, m->domain_len);
	put_field(&pl, b + 36, m->user, m->user_len);
	put_field(&pl, b + 44, m->workstation, m->workstation_len);
	put_field(&pl, b + 12, m->lm_response, m->lm_response_len);
	put_field(&pl, b + 20, m->nt_response, m->nt_response_len);
	put_field(&pl, b + 52, m->enc_session_key, m->enc_session_key_len);
	put_le32(b + 60, m->flags);
	/* Version left zero; MIC as given */
	memcpy(b + NTLMSSP_MIC_OFFSET, m->mic, NTLMSSP_MIC_LEN);
	*out_len = pl.off;
	return 0;
}

/* ---------------------------------------------------------------- AV pairs */

int ntlmssp_av_find(const uint8_t *av, size_t len, uint16_t id, const uint8_t **val, size_t *val_len)
{
	struct rd r = rd_init(av, len);
	int found = -ENOENT;
	for (;;) {
		uint16_t aid = rd_le16(&r);
		uint16_t alen = rd_le16(&r);
		const uint8_t *v = rd_ptr(&r, alen);
		if (!rd_ok(&r))
			return -EINVAL; /* ran off the end without MsvAvEOL */
		if (aid == MSV_AV_EOL)
			return found;
		if (aid == id && found == -ENOENT) {
			*val = v;
			*val_len = alen;
			found = 0;
		}
	}
}

void ntlmssp_av_put(struct wr *w, uint16_t id, const void *val, size_t len)
{
	wr_le16(w, id);
	wr_le16(w, (uint16_t)len);
	wr_bytes(w, val, len);
}
