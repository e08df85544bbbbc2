/* SMB2 QUERY_DIRECTORY ([MS-SMB2] 2.2.33, 2.2.34).  The entries themselves
 * are written with fscc_dirent_encode() (wire/fscc.h). */
#ifndef SMB3D_WIRE_QUERY_DIRECTORY_H
#define SMB3D_WIRE_QUERY_DIRECTORY_H

#include "wire/file_common.h"

#define SMB2_RESTART_SCANS 0x01
#define SMB2_RETURN_SINGLE_ENTRY 0x02
#define SMB2_INDEX_SPECIFIED 0x04
#define SMB2_REOPEN 0x10

struct wire_qdir_req {
	uint8_t info_class;       /* FileInformationClass */
	uint8_t flags;            /* SMB2_RESTART_SCANS ... */
	uint32_t file_index;
	struct wire_fileid fid;
	const uint8_t *pattern;   /* UTF-16LE search pattern, NULL when empty */
	uint16_t pattern_len;     /* bytes, even */
	uint32_t output_len;      /* OutputBufferLength */
};

int wire_qdir_decode_req(struct rd *r, struct wire_qdir_req *q);

/* Response in two steps: begin writes the 8-byte body (the buffer starts at
 * 64 + 8 = 72, 8-aligned) and returns it; the caller limits w->end to
 * min(its buffer, w->p + OutputBufferLength) and writes entries; end
 * patches OutputBufferLength.  Returns NULL / -ENOSPC. */
uint8_t *wire_qdir_rsp_begin(struct wr *w);
int wire_qdir_rsp_end(struct wr *w, uint8_t *body);

#endif
