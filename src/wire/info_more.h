/* [MS-FSCC] classes fscc.h does not cover yet. */
#ifndef SMB3D_WIRE_INFO_MORE_H
#define SMB3D_WIRE_INFO_MORE_H

#include <stdint.h>

#include "wire/cursor.h"

#define FileAlternateNameInformation 21
#define FileFsControlInformation 6

/* FILE_FS_CONTROL_INFORMATION (2.5.2): quotas off, no limits.  Returns 0 or
 * -ENOSPC (less room than its 48 bytes) without writing. */
int fscc_fs_control_encode(struct wr *w, uint32_t control_flags);

#endif
