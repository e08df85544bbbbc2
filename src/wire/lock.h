/* SMB2 LOCK ([MS-SMB2] 2.2.26, 2.2.27). */
#ifndef SMB3D_WIRE_LOCK_H
#define SMB3D_WIRE_LOCK_H

#include "wire/file_common.h"

#define SMB2_LOCKFLAG_SHARED_LOCK 0x00000001u
#define SMB2_LOCKFLAG_EXCLUSIVE_LOCK 0x00000002u
#define SMB2_LOCKFLAG_UNLOCK 0x00000004u
#define SMB2_LOCKFLAG_FAIL_IMMEDIATELY 0x00000010u

#define WIRE_LOCK_ELEM_SIZE 24

struct wire_lock_elem {
	uint64_t offset;
	uint64_t length;
	uint32_t flags;           /* SMB2_LOCKFLAG_* */
};

struct wire_lock_req {
	uint16_t lock_count;      /* >= 1 */
	uint8_t lock_seq_num;     /* LockSequenceNumber, low 4 bits */
	uint32_t lock_seq_index;  /* LockSequenceIndex, high 28 bits */
	struct wire_fileid fid;
	const uint8_t *locks;     /* lock_count * 24 bytes in the message */
};

/* -EINVAL when LockCount is 0 or the elements do not fit the message. */
int wire_lock_decode_req(struct rd *r, struct wire_lock_req *q);
/* Element i (< lock_count) of a decoded request. */
void wire_lock_req_elem(const struct wire_lock_req *q, unsigned i, struct wire_lock_elem *e);
void wire_lock_encode_rsp(struct wr *w);

#endif
