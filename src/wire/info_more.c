/* [MS-FSCC] classes fscc.h does not cover yet (see info_more.h). */
#include "wire/info_more.h"

#include <errno.h>

int fscc_fs_control_encode(struct wr *w, uint32_t control_flags)
{
	if (wr_left(w) < 48)
		return -ENOSPC;
	wr_le64(w, 0);                /* FreeSpaceStartFiltering */
	wr_le64(w, 0);                /* FreeSpaceThreshold */
	wr_le64(w, 0);                /* FreeSpaceStopFiltering */
	wr_le64(w, UINT64_MAX);       /* DefaultQuotaThreshold: none */
	wr_le64(w, UINT64_MAX);       /* DefaultQuotaLimit: none */
	wr_le32(w, control_flags);    /* FileSystemControlFlags */
	wr_le32(w, 0);                /* Padding */
	return 0;
}
