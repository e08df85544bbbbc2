/* SMB2 IOCTL ([MS-SMB2] 2.2.31, 2.2.32) and the FSCTL payloads the server
 * understands (2.2.31.1 - 2.2.32.6, [MS-FSCC] 2.3). */
#ifndef SMB3D_WIRE_IOCTL_H
#define SMB3D_WIRE_IOCTL_H

#include "wire/file_common.h"

#define SMB2_0_IOCTL_IS_FSCTL 0x00000001u

#define FSCTL_DFS_GET_REFERRALS 0x00060194u
#define FSCTL_DFS_GET_REFERRALS_EX 0x000601B0u
#define FSCTL_PIPE_PEEK 0x0011400Cu
#define FSCTL_PIPE_WAIT 0x00110018u
#define FSCTL_PIPE_TRANSCEIVE 0x0011C017u
#define FSCTL_SRV_COPYCHUNK 0x001440F2u
#define FSCTL_SRV_COPYCHUNK_WRITE 0x001480F2u
#define FSCTL_SRV_ENUMERATE_SNAPSHOTS 0x00144064u
#define FSCTL_SRV_REQUEST_RESUME_KEY 0x00140078u
#define FSCTL_SRV_READ_HASH 0x001441BBu
#define FSCTL_LMR_REQUEST_RESILIENCY 0x001401D4u
#define FSCTL_QUERY_NETWORK_INTERFACE_INFO 0x001401FCu
#define FSCTL_VALIDATE_NEGOTIATE_INFO 0x00140204u
#define FSCTL_SET_REPARSE_POINT 0x000900A4u
#define FSCTL_GET_REPARSE_POINT 0x000900A8u
#define FSCTL_CREATE_OR_GET_OBJECT_ID 0x000900C0u
#define FSCTL_SET_SPARSE 0x000900C4u
#define FSCTL_SET_ZERO_DATA 0x000980C8u
#define FSCTL_QUERY_ALLOCATED_RANGES 0x000940CFu
#define FSCTL_FILE_LEVEL_TRIM 0x00098208u
#define FSCTL_GET_COMPRESSION 0x0009003Cu
#define FSCTL_SET_COMPRESSION 0x0009C040u
#define FSCTL_DUPLICATE_EXTENTS_TO_FILE 0x00098344u

/* The response buffers start right after the 48-byte body: 64 + 48. */
#define WIRE_IOCTL_RSP_BUF_OFFSET 0x70

struct wire_ioctl_req {
	uint32_t ctl_code;
	struct wire_fileid fid;
	const uint8_t *in;         /* InputCount bytes in the message or NULL */
	uint32_t in_len;
	uint32_t max_input_response;
	const uint8_t *out;        /* client-supplied output buffer (rare) */
	uint32_t out_len;
	uint32_t max_output_response;
	uint32_t flags;            /* SMB2_0_IOCTL_IS_FSCTL */
};

int wire_ioctl_decode_req(struct rd *r, struct wire_ioctl_req *q);

/* Response in two steps: begin writes the 48-byte body (InputCount 0)
 * followed by `pad` zero bytes, both offsets pointing after them (0x70
 * without padding), and returns the body; the caller writes the output
 * payload at w->p (with the fsctl encoders below); end patches OutputCount
 * with what was written since.  Returns NULL / -ENOSPC when w is full.
 * Only Samba's test FSCTL_SMBTORTURE_IOCTL_RESPONSE_BODY_PADDING8 pads: a
 * client must follow OutputOffset, not assume 0x70. */
uint8_t *wire_ioctl_rsp_begin(struct wr *w, uint32_t ctl_code, const struct wire_fileid *fid, uint8_t pad);
int wire_ioctl_rsp_end(struct wr *w, uint8_t *body);

/* --- FSCTL payloads.  Decoders return 0 or -EINVAL (bad size). */

/* SRV_REQUEST_RESUME_KEY response (2.2.32.3): 24-byte key, ContextLength 0. */
void wire_fsctl_resume_key_encode(struct wr *w, const uint8_t key[24]);

#define WIRE_COPYCHUNK_SIZE 24
struct wire_copychunk {
	uint64_t source_offset;
	uint64_t target_offset;
	uint32_t length;
};
/* SRV_COPYCHUNK_COPY (2.2.31.1). */
struct wire_copychunk_req {
	const uint8_t *source_key; /* 24 bytes */
	uint32_t chunk_count;
	const uint8_t *chunks;     /* chunk_count * 24 bytes */
};
int wire_fsctl_copychunk_decode(const uint8_t *in, size_t len, struct wire_copychunk_req *q);
void wire_fsctl_copychunk_get(const struct wire_copychunk_req *q, uint32_t i, struct wire_copychunk *c);
/* SRV_COPYCHUNK_RESPONSE (2.2.32.1); on STATUS_INVALID_PARAMETER the same
 * three fields carry the server limits. */
void wire_fsctl_copychunk_rsp_encode(struct wr *w, uint32_t chunks_written,
				     uint32_t chunk_bytes_written, uint32_t total_bytes_written);

/* VALIDATE_NEGOTIATE_INFO (2.2.31.4 / 2.2.32.6). */
struct wire_validate_neg_req {
	uint32_t capabilities;
	uint8_t guid[16];
	uint16_t security_mode;
	uint16_t dialect_count;
	const uint8_t *dialects;   /* dialect_count LE16 values */
};
int wire_fsctl_validate_neg_decode(const uint8_t *in, size_t len, struct wire_validate_neg_req *q);
uint16_t wire_fsctl_validate_neg_dialect(const struct wire_validate_neg_req *q, unsigned i);
void wire_fsctl_validate_neg_rsp_encode(struct wr *w, uint32_t capabilities, const uint8_t guid[16],
					uint16_t security_mode, uint16_t dialect);

/* NETWORK_INTERFACE_INFO (2.2.32.5) */
#define SMB2_NETIF_RSS_CAPABLE 0x00000001u
#define SMB2_NETIF_RDMA_CAPABLE 0x00000002u
#define WIRE_NETIF_AF_INET 0x0002    /* wire values, not Linux's AF_* */
#define WIRE_NETIF_AF_INET6 0x0017
#define WIRE_NETIF_SIZE 152          /* 24 + SOCKADDR_STORAGE 128 */
struct wire_netif {
	uint32_t ifindex;
	uint32_t capability;       /* SMB2_NETIF_* */
	uint64_t link_speed;       /* bits per second */
	bool ipv6;
	uint8_t addr[16];          /* network byte order; IPv4 in addr[0..3] */
	uint32_t flowinfo, scope_id; /* IPv6 only */
};
/* Writes the whole list, Next = 152 except 0 on the last.  -ENOSPC. */
int wire_fsctl_netif_encode(struct wr *w, const struct wire_netif *ifs, unsigned n);

/* FILE_ZERO_DATA_INFORMATION ([MS-FSCC] 2.3.67). */
struct wire_zero_data {
	uint64_t offset;
	uint64_t beyond_final_zero;
};
int wire_fsctl_zero_data_decode(const uint8_t *in, size_t len, struct wire_zero_data *z);

/* FILE_ALLOCATED_RANGE_BUFFER ([MS-FSCC] 2.3.32 / 2.3.33). */
struct wire_alloc_range {
	uint64_t offset;
	uint64_t length;
};
int wire_fsctl_alloc_range_decode(const uint8_t *in, size_t len, struct wire_alloc_range *a);
/* Writes as many whole ranges as fit; returns how many (the caller answers
 * STATUS_BUFFER_OVERFLOW when fewer than n). */
unsigned wire_fsctl_alloc_ranges_encode(struct wr *w, const struct wire_alloc_range *a, unsigned n);

/* FILE_SET_SPARSE_BUFFER ([MS-FSCC] 2.3.64): an empty input means TRUE. */
int wire_fsctl_set_sparse_decode(const uint8_t *in, size_t len, bool *sparse);

/* FSCTL_PIPE_TRANSCEIVE: the input is the raw pipe write (q->in/in_len);
 * the output is the raw pipe read, written between rsp_begin and rsp_end. */

#endif
