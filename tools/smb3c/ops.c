/* smb3c: the file operations (request encoders, response decoders):
 * TREE_CONNECT, CREATE, CLOSE, QUERY_DIRECTORY, READ, WRITE, SET_INFO
 * (end of file) and the FSCTL_QUERY_NETWORK_INTERFACE_INFO ioctl. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smb3c.h"
#include "util/utf16.h"
#include "wire/ioctl.h"

static bool want_sign(struct chan *ch) { return ch->s->signing; }

/* UTF-16LE of a path with '/' turned into '\\' and no leading separator. */
static long path16(const char *path, uint8_t *out, size_t cap)
{
	while (*path == '/' || *path == '\\')
		path++;
	long n = utf8_to_utf16le(path, strlen(path), out, cap);
	if (n < 0)
		return n;
	for (long i = 0; i + 1 < n; i += 2)
		if (out[i] == '/' && out[i + 1] == 0)
			out[i] = '\\';
	return n;
}

int op_tree_connect(struct chan *ch, const char *host, const char *share, uint32_t *tid)
{
	char unc[1024];
	snprintf(unc, sizeof(unc), "\\\\%s\\%s", host, share);
	uint8_t p16[2048];
	long n = utf8_to_utf16le(unc, strlen(unc), p16, sizeof(p16));
	if (n < 0)
		return (int)n;
	struct msg m;
	int rc = msg_new(&m, ch->s, SMB2_TREE_CONNECT, 8 + (size_t)n, 0);
	if (rc)
		return rc;
	uint8_t *b = msg_smb(&m) + SMB2_HDR_SIZE;
	put_le16(b, 9);
	put_le16(b + 2, 0);
	put_le16(b + 4, SMB2_HDR_SIZE + 8);
	put_le16(b + 6, (uint16_t)n);
	memcpy(b + 8, p16, (size_t)n);
	struct req r = { 0 };
	/* MS-SMB2 3.2.4.1.1: with 3.1.1 a TREE_CONNECT is always signed. */
	rc = chan_call(ch, &m, &r, want_sign(ch) || ch->dialect == SMB2_DIALECT_311);
	if (rc)
		return rc;
	if (r.status) {
		fprintf(stderr, "smb3c: TREE_CONNECT %s: %s\n", unc, nt_errstr(r.status));
		req_release(&r);
		return -ENOENT;
	}
	struct rd rd = rd_init(r.msg, r.msg_len);
	rd_seek(&rd, SMB2_HDR_SIZE + 4);
	uint32_t share_flags = rd_le32(&rd);
	if (share_flags & SMB2_SHAREFLAG_ENCRYPT_DATA)
		ch->s->encrypt = ch->s->cipher != 0;
	*tid = r.hdr.tree_id;
	req_release(&r);
	return 0;
}

int op_create(struct chan *ch, const char *path, uint32_t access, uint32_t disposition, uint32_t options,
	      struct smb3c_fid *fid, struct smb3c_stat *st)
{
	uint8_t p16[2048];
	long n = path16(path, p16, sizeof(p16));
	if (n < 0)
		return (int)n;
	struct msg m;
	int rc = msg_new(&m, ch->s, SMB2_CREATE, 56 + (n ? (size_t)n : 1), ch->s->tree_id);
	if (rc)
		return rc;
	uint8_t *b = msg_smb(&m) + SMB2_HDR_SIZE;
	memset(b, 0, 56 + (n ? (size_t)n : 1));
	put_le16(b, 57);
	put_le32(b + 4, 2);            /* ImpersonationLevel: Impersonation */
	put_le32(b + 24, access);
	put_le32(b + 28, 0x80);        /* FILE_ATTRIBUTE_NORMAL */
	put_le32(b + 32, 7);           /* share read|write|delete */
	put_le32(b + 36, disposition);
	put_le32(b + 40, options);
	put_le16(b + 44, SMB2_HDR_SIZE + 56);
	put_le16(b + 46, (uint16_t)n);
	memcpy(b + 56, p16, (size_t)n);
	struct req r = { 0 };
	rc = chan_call(ch, &m, &r, want_sign(ch));
	if (rc)
		return rc;
	if (r.status) {
		fprintf(stderr, "smb3c: CREATE %s: %s\n", path, nt_errstr(r.status));
		req_release(&r);
		return -ENOENT;
	}
	struct rd rd = rd_init(r.msg, r.msg_len);
	rd_seek(&rd, SMB2_HDR_SIZE);
	if (rd_le16(&rd) != 89) {
		req_release(&r);
		return -EBADMSG;
	}
	rd_seek(&rd, SMB2_HDR_SIZE + 24);
	uint64_t mtime = rd_le64(&rd);
	rd_skip(&rd, 16);
	uint64_t eof = rd_le64(&rd);
	uint32_t attrs = rd_le32(&rd);
	rd_skip(&rd, 4);
	fid->persistent = rd_le64(&rd);
	fid->volatile_ = rd_le64(&rd);
	if (st) {
		st->size = eof;
		st->attrs = attrs;
		st->mtime = mtime;
	}
	rc = rd_ok(&rd) ? 0 : -EBADMSG;
	req_release(&r);
	return rc;
}

int op_close(struct chan *ch, const struct smb3c_fid *fid)
{
	struct msg m;
	int rc = msg_new(&m, ch->s, SMB2_CLOSE, 24, ch->s->tree_id);
	if (rc)
		return rc;
	uint8_t *b = msg_smb(&m) + SMB2_HDR_SIZE;
	memset(b, 0, 24);
	put_le16(b, 24);
	put_le64(b + 8, fid->persistent);
	put_le64(b + 16, fid->volatile_);
	struct req r = { 0 };
	rc = chan_call(ch, &m, &r, want_sign(ch));
	if (rc)
		return rc;
	rc = r.status ? -EIO : 0;
	if (r.status)
		fprintf(stderr, "smb3c: CLOSE: %s\n", nt_errstr(r.status));
	req_release(&r);
	return rc;
}

int op_list(struct chan *ch, const struct smb3c_fid *fid,
	    void (*each)(const char *name, uint64_t size, uint32_t attrs, uint64_t mtime, void *arg), void *arg)
{
	for (bool first = true;; first = false) {
		struct msg m;
		int rc = msg_new(&m, ch->s, SMB2_QUERY_DIRECTORY, 34, ch->s->tree_id);
		if (rc)
			return rc;
		uint8_t *b = msg_smb(&m) + SMB2_HDR_SIZE;
		memset(b, 0, 34);
		put_le16(b, 33);
		b[2] = 0x01;                  /* FileDirectoryInformation */
		b[3] = first ? 0x01 : 0;      /* SMB2_RESTART_SCANS */
		put_le64(b + 8, fid->persistent);
		put_le64(b + 16, fid->volatile_);
		put_le16(b + 24, SMB2_HDR_SIZE + 32);
		put_le16(b + 26, 2);
		b[32] = '*';
		put_le32(b + 28, 65536);
		struct req r = { 0 };
		rc = chan_call(ch, &m, &r, want_sign(ch));
		if (rc)
			return rc;
		if (r.status == STATUS_NO_MORE_FILES) {
			req_release(&r);
			return 0;
		}
		if (r.status) {
			fprintf(stderr, "smb3c: QUERY_DIRECTORY: %s\n", nt_errstr(r.status));
			req_release(&r);
			return -EIO;
		}
		struct rd rd = rd_init(r.msg, r.msg_len);
		rd_seek(&rd, SMB2_HDR_SIZE + 2);
		uint16_t off = rd_le16(&rd);
		uint32_t len = rd_le32(&rd);
		const uint8_t *buf = rd_range(&rd, off, len);
		if (!rd_ok(&rd) || !buf) {
			req_release(&r);
			return -EBADMSG;
		}
		size_t pos = 0;
		for (;;) {
			struct rd e = rd_init(buf, len);
			if (!rd_seek(&e, pos))
				break;
			uint32_t next = rd_le32(&e);
			rd_skip(&e, 4 + 16);
			uint64_t mtime = rd_le64(&e);
			rd_skip(&e, 8);
			uint64_t eof = rd_le64(&e);
			rd_skip(&e, 8);
			uint32_t attrs = rd_le32(&e);
			uint32_t nlen = rd_le32(&e);
			const uint8_t *name = rd_ptr(&e, nlen);
			if (!rd_ok(&e))
				break;
			char *u8 = NULL;
			if (utf16le_to_utf8(name, nlen, &u8, NULL) == 0) {
				if (strcmp(u8, ".") && strcmp(u8, ".."))
					each(u8, eof, attrs, mtime, arg);
				free(u8);
			}
			if (!next)
				break;
			pos += next;
		}
		req_release(&r);
	}
}

int op_query_interfaces(struct chan *ch, struct smb3c_netif *out, int max)
{
	struct msg m;
	int rc = msg_new(&m, ch->s, SMB2_IOCTL, 56, ch->s->tree_id);
	if (rc)
		return rc;
	uint8_t *b = msg_smb(&m) + SMB2_HDR_SIZE;
	memset(b, 0, 56);
	put_le16(b, 57);
	put_le32(b + 4, FSCTL_QUERY_NETWORK_INTERFACE_INFO);
	put_le64(b + 8, UINT64_MAX);
	put_le64(b + 16, UINT64_MAX);
	put_le32(b + 24, SMB2_HDR_SIZE + 56); /* InputOffset */
	put_le32(b + 36, SMB2_HDR_SIZE + 56); /* OutputOffset */
	put_le32(b + 44, 65536);             /* MaxOutputResponse */
	put_le32(b + 48, SMB2_0_IOCTL_IS_FSCTL);
	struct req r = { 0 };
	rc = chan_call(ch, &m, &r, want_sign(ch) || ch->dialect >= SMB2_DIALECT_300);
	if (rc)
		return rc;
	if (r.status) {
		fprintf(stderr, "smb3c: FSCTL_QUERY_NETWORK_INTERFACE_INFO: %s\n", nt_errstr(r.status));
		req_release(&r);
		return -EIO;
	}
	struct rd rd = rd_init(r.msg, r.msg_len);
	rd_seek(&rd, SMB2_HDR_SIZE + 32);
	uint32_t ooff = rd_le32(&rd), olen = rd_le32(&rd);
	const uint8_t *buf = rd_range(&rd, ooff, olen);
	if (!rd_ok(&rd) || !buf) {
		req_release(&r);
		return -EBADMSG;
	}
	/* NETWORK_INTERFACE_INFO (MS-SMB2 2.2.32.5): a Next-linked list. */
	int n = 0;
	size_t pos = 0;
	while (n < max) {
		struct rd e = rd_init(buf, olen);
		if (!rd_seek(&e, pos))
			break;
		uint32_t next = rd_le32(&e);
		struct smb3c_netif *ni = &out[n];
		memset(ni, 0, sizeof(*ni));
		ni->ifindex = rd_le32(&e);
		ni->capability = rd_le32(&e);
		rd_skip(&e, 4);
		ni->speed = rd_le64(&e);
		uint16_t fam = rd_le16(&e);
		if (fam == WIRE_NETIF_AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ni->ss;
			s4->sin_family = AF_INET;
			rd_skip(&e, 2);
			rd_bytes(&e, &s4->sin_addr, 4);
			ni->sslen = sizeof(*s4);
		} else if (fam == WIRE_NETIF_AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ni->ss;
			s6->sin6_family = AF_INET6;
			rd_skip(&e, 2);
			s6->sin6_flowinfo = rd_le32(&e);
			rd_bytes(&e, &s6->sin6_addr, 16);
			s6->sin6_scope_id = rd_le32(&e);
			ni->ipv6 = true;
			ni->sslen = sizeof(*s6);
		}
		if (!rd_ok(&e))
			break;
		if (ni->sslen)
			n++;
		if (!next)
			break;
		pos += next;
	}
	req_release(&r);
	return n;
}

int op_read_msg(struct msg *m, struct session *s, const struct smb3c_fid *fid, uint64_t off, uint32_t len)
{
	int rc = msg_new(m, s, SMB2_READ, 49, s->tree_id);
	if (rc)
		return rc;
	uint8_t *h = msg_smb(m);
	put_le16(h + 6, (uint16_t)((len + 65535) / 65536)); /* CreditCharge (3.2.4.1.5) */
	uint8_t *b = h + SMB2_HDR_SIZE;
	memset(b, 0, 49);
	put_le16(b, 49);
	b[2] = 0x50;                 /* Padding: data right after the 16-byte body */
	put_le32(b + 4, len);
	put_le64(b + 8, off);
	put_le64(b + 16, fid->persistent);
	put_le64(b + 24, fid->volatile_);
	put_le32(b + 32, 0);         /* MinimumCount */
	return 0;
}

int op_write_msg(struct msg *m, struct session *s, const struct smb3c_fid *fid, uint64_t off, uint32_t len,
		 uint8_t **data)
{
	int rc = msg_new(m, s, SMB2_WRITE, 48 + (size_t)len, s->tree_id);
	if (rc)
		return rc;
	uint8_t *h = msg_smb(m);
	put_le16(h + 6, (uint16_t)((len + 65535) / 65536));
	uint8_t *b = h + SMB2_HDR_SIZE;
	memset(b, 0, 48);
	put_le16(b, 49);
	put_le16(b + 2, SMB2_HDR_SIZE + 48);
	put_le32(b + 4, len);
	put_le64(b + 8, off);
	put_le64(b + 16, fid->persistent);
	put_le64(b + 24, fid->volatile_);
	*data = b + 48;
	return 0;
}

int op_read_rsp(const struct req *r, const uint8_t **data, uint32_t *len)
{
	struct rd rd = rd_init(r->msg, r->msg_len);
	rd_seek(&rd, SMB2_HDR_SIZE);
	uint16_t ss = rd_le16(&rd);
	uint8_t off = rd_u8(&rd);
	rd_skip(&rd, 1);
	uint32_t n = rd_le32(&rd);
	if (!rd_ok(&rd) || ss != 17)
		return -EBADMSG;
	*data = rd_range(&rd, off, n);
	if (!*data)
		return -EBADMSG;
	*len = n;
	return 0;
}

int op_write_rsp(const struct req *r, uint32_t *count)
{
	struct rd rd = rd_init(r->msg, r->msg_len);
	rd_seek(&rd, SMB2_HDR_SIZE);
	uint16_t ss = rd_le16(&rd);
	rd_skip(&rd, 2);
	*count = rd_le32(&rd);
	return rd_ok(&rd) && ss == 17 ? 0 : -EBADMSG;
}

int op_set_eof(struct chan *ch, const struct smb3c_fid *fid, uint64_t eof)
{
	struct msg m;
	int rc = msg_new(&m, ch->s, SMB2_SET_INFO, 32 + 8, ch->s->tree_id);
	if (rc)
		return rc;
	uint8_t *b = msg_smb(&m) + SMB2_HDR_SIZE;
	memset(b, 0, 40);
	put_le16(b, 33);
	b[2] = 1;                         /* SMB2_0_INFO_FILE */
	b[3] = 20;                        /* FileEndOfFileInformation */
	put_le32(b + 4, 8);
	put_le16(b + 8, SMB2_HDR_SIZE + 32);
	put_le64(b + 16, fid->persistent);
	put_le64(b + 24, fid->volatile_);
	put_le64(b + 32, eof);
	struct req r = { 0 };
	rc = chan_call(ch, &m, &r, want_sign(ch));
	if (rc)
		return rc;
	rc = r.status ? -EIO : 0;
	if (r.status)
		fprintf(stderr, "smb3c: SET_INFO eof: %s\n", nt_errstr(r.status));
	req_release(&r);
	return rc;
}
