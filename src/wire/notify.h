/* SMB2 CHANGE_NOTIFY ([MS-SMB2] 2.2.35, 2.2.36) and the
 * FILE_NOTIFY_INFORMATION list ([MS-FSCC] 2.7.1). */
#ifndef SMB3D_WIRE_NOTIFY_H
#define SMB3D_WIRE_NOTIFY_H

#include "wire/file_common.h"

#define SMB2_WATCH_TREE 0x0001

/* CompletionFilter */
#define FILE_NOTIFY_CHANGE_FILE_NAME 0x00000001u
#define FILE_NOTIFY_CHANGE_DIR_NAME 0x00000002u
#define FILE_NOTIFY_CHANGE_ATTRIBUTES 0x00000004u
#define FILE_NOTIFY_CHANGE_SIZE 0x00000008u
#define FILE_NOTIFY_CHANGE_LAST_WRITE 0x00000010u
#define FILE_NOTIFY_CHANGE_LAST_ACCESS 0x00000020u
#define FILE_NOTIFY_CHANGE_CREATION 0x00000040u
#define FILE_NOTIFY_CHANGE_EA 0x00000080u
#define FILE_NOTIFY_CHANGE_SECURITY 0x00000100u
#define FILE_NOTIFY_CHANGE_STREAM_NAME 0x00000200u
#define FILE_NOTIFY_CHANGE_STREAM_SIZE 0x00000400u
#define FILE_NOTIFY_CHANGE_STREAM_WRITE 0x00000800u

/* Action */
#define FILE_ACTION_ADDED 0x00000001u
#define FILE_ACTION_REMOVED 0x00000002u
#define FILE_ACTION_MODIFIED 0x00000003u
#define FILE_ACTION_RENAMED_OLD_NAME 0x00000004u
#define FILE_ACTION_RENAMED_NEW_NAME 0x00000005u
#define FILE_ACTION_ADDED_STREAM 0x00000006u
#define FILE_ACTION_REMOVED_STREAM 0x00000007u
#define FILE_ACTION_MODIFIED_STREAM 0x00000008u

struct wire_notify_req {
	uint16_t flags;           /* SMB2_WATCH_TREE */
	uint32_t output_len;
	struct wire_fileid fid;
	uint32_t completion_filter;
};

int wire_notify_decode_req(struct rd *r, struct wire_notify_req *q);

/* Same two-step shape as QUERY_DIRECTORY (begin / entries / end). */
uint8_t *wire_notify_rsp_begin(struct wr *w);
int wire_notify_rsp_end(struct wr *w, uint8_t *body);

/* Append one FILE_NOTIFY_INFORMATION (name in UTF-8, relative to the
 * watched directory, '\' separators).  Entries are 4-byte aligned from
 * w->base; *prev (NULL before the first entry) is the previous entry, whose
 * NextEntryOffset is patched, and is updated to this one.  Returns 0,
 * -ENOSPC without writing anything when it does not fit (the caller then
 * answers STATUS_NOTIFY_ENUM_DIR), -EINVAL for invalid UTF-8. */
int wire_notify_entry_encode(struct wr *w, uint32_t action, const char *name, uint8_t **prev);

#endif
