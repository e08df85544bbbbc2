/* Helpers shared by the file-service handlers (create, close, read, write,
 * query/set info, query directory, lock, ioctl, notify): checks on an open
 * (the pipeline looks it up: req->open), client names -> share-relative
 * paths, stat -> FSCC attributes and times, the access masks and checks,
 * and closing an open. */
#ifndef SMB3D_CMD_FILEOPS_H
#define SMB3D_CMD_FILEOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "proto/smb.h"
#include "state/open.h"

struct wire_close_rsp;
struct vfs_ident;
struct token;

/* ---- access masks ([MS-SMB2] 2.2.13.1, [MS-DTYP] 2.4.3) ---- */
#ifndef FILE_READ_DATA
#define FILE_READ_DATA 0x00000001u         /* dir: FILE_LIST_DIRECTORY */
#define FILE_WRITE_DATA 0x00000002u        /* dir: FILE_ADD_FILE */
#define FILE_APPEND_DATA 0x00000004u       /* dir: FILE_ADD_SUBDIRECTORY */
#define FILE_READ_EA 0x00000008u
#define FILE_WRITE_EA 0x00000010u
#define FILE_EXECUTE 0x00000020u           /* dir: FILE_TRAVERSE */
#define FILE_DELETE_CHILD 0x00000040u
#define FILE_READ_ATTRIBUTES 0x00000080u
#define FILE_WRITE_ATTRIBUTES 0x00000100u
#define DELETE_ACCESS 0x00010000u          /* "DELETE" */
#define READ_CONTROL 0x00020000u
#define WRITE_DAC 0x00040000u
#define WRITE_OWNER 0x00080000u
#define SYNCHRONIZE 0x00100000u
#define ACCESS_SYSTEM_SECURITY 0x01000000u
#define MAXIMUM_ALLOWED 0x02000000u
#define GENERIC_ALL 0x10000000u
#define GENERIC_EXECUTE 0x20000000u
#define GENERIC_WRITE 0x40000000u
#define GENERIC_READ 0x80000000u
#endif
#define FILE_ALL_ACCESS 0x001F01FFu
#define FILE_GENERIC_READ 0x00120089u
#define FILE_GENERIC_WRITE 0x00120116u
#define FILE_GENERIC_EXECUTE 0x001200A0u

/* ShareAccess */
#ifndef FILE_SHARE_READ
#define FILE_SHARE_READ 0x1u
#define FILE_SHARE_WRITE 0x2u
#define FILE_SHARE_DELETE 0x4u
#endif

/* Rights that modify the file or its metadata (refused on "read only" shares). */
#define FILEOPS_WRITE_RIGHTS (FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA | \
			      FILE_DELETE_CHILD | FILE_WRITE_ATTRIBUTES | DELETE_ACCESS | \
			      WRITE_DAC | WRITE_OWNER)

/* ---- opens ---- */

/* Check that the open was granted all of `needed` (STATUS_ACCESS_DENIED). */
NTSTATUS fileops_check_access(const struct open *o, uint32_t needed);

/* Close an open (CLOSE, tree disconnect, logoff): unregister it, unlink it
 * from its file, perform delete-on-close when this was the last open of a
 * delete-pending file, release pipe state.  When `post` is not NULL the
 * attributes after close are filled (CLOSE with POSTQUERY_ATTRIB).  Returns
 * false if the open was already closed.  The caller keeps (and drops) its own
 * reference. */
bool fileops_close_open(struct open *o, struct wire_close_rsp *post);
/* The same for a detached open, only while it is still detached since
 * detach number `gen` (open_unregister_detached): the scavenger's and a
 * purge's close, which must not close an open reconnected meanwhile. */
bool fileops_close_detached(struct open *o, uint32_t gen);

/* Open o asks for the delete of f (a disposition, delete-on-close): note
 * its ParentLeaseKey; the directory lease every deleter names is not
 * broken by the delete (smbtorture smb2.dirlease.unlink_*).  Without
 * f->lock. */
void fileops_note_deleter(struct file *f, const struct open *o);

/* Installs state_close_opens_of_tree (called at start-up by cmd_init()). */
void fileops_init(void);

/* Before the share-mode check of a CREATE on file f: break the oplocks the
 * new open conflicts with and wait for them (cmd/oplock_wait.c).
 * `overwrite`: the disposition replaces the data; `self`: the lease the
 * new open joins (never broken by it), or NULL.  Called without f->lock
 * held. */
struct lease;
void oplock_break_for_create(struct smb2_req *req, struct file *f, uint32_t access, uint32_t share, bool overwrite,
			     bool (*conflicts)(const struct open *e, uint32_t access, uint32_t share),
			     const struct lease *self);

/* Lease breaks besides a CREATE's (cmd/lease_break.c).  A delete or a
 * rename through o: the handle caching of the file's other leases goes
 * (`wait`: the request waits for the acks, going async; req may be NULL
 * without wait).  A change of what the parent directory of `path` lists,
 * through o (NULL: none): the directory's leases break to none, but the
 * one o's lease names as its parent. */
void lease_break_handles(struct smb2_req *req, struct open *o, bool wait);
/* The same without waiting for acks, for a delete through o (pending, or
 * a CREATE with FILE_DELETE_ON_CLOSE): the
 * request waits (up to 250 ms, not async) until the kernel took the
 * breaks, so its reply follows them, also when the holders' channels are
 * on other workers (smbtorture smb2.lease.unlink).  Decide no directory
 * lease break before it in the same request: it yields. */
void lease_break_handles_first(struct smb2_req *req, struct open *o);
/* The same for the leases of file f but those with key spare_key. */
void lease_break_file_handles(struct smb2_req *req, struct file *f, const uint8_t *spare_key, bool wait);
/* A write, truncation or byte-range lock through `by` on f: level II
 * oplocks and the other leases lose read caching (oplock_break_level2),
 * and the detached opens of those leases are closed at once (MS-SMB2
 * 3.3.4.7).  In the request's coroutine, without a file lock. */
void lease_break_data(struct file *f, const struct open *by);
struct vfs_ident;
void lease_break_parent(const struct vfs_ident *id, int root, const struct open *o, const char *path);
/* The same with the ParentLeaseKey given (NULL: none spared). */
void lease_break_dir(const struct vfs_ident *id, int root, const uint8_t *spare_key, const char *path);
/* Its two halves, for a change in two directories (a rename): the file
 * object of the parent of `path` when a directory may be leased (a
 * reference; NULL otherwise), looked up on disk (may yield); then the
 * break, which takes the reference (never yields), sent before the reply
 * (`send_now`) or after it. */
struct file *lease_dir_of(const struct vfs_ident *id, int root, const char *path);
void lease_dir_break(struct file *d, const uint8_t *spare_key, bool send_now);

/* Directory leases and the changes other programs make (cmd/lease_watch.c).
 * Installed by cmd_init(). */
void lease_watch_init(void);
/* Before a directory lease is granted to the directory open o: watch its
 * directory; false when that cannot be (the lease then caches nothing:
 * nothing would tell us to break it).  On a worker. */
bool lease_watch_dir(struct open *o);
/* The open closes: its watch, if any, ends. */
void lease_watch_closed(struct open *o);
/* A request is changing, or just changed, share-relative `path` of o's
 * share: what inotify reports of that name now is smb3d's own change,
 * whose leases broke in-process already.  Cheap when nothing is watched. */
void lease_watch_own(const struct open *o, const char *path);
/* The same for o's own path, read (struct open_path) only when something
 * is watched. */
void lease_watch_own_open(const struct open *o);

/* MS-SMB2 3.3.5.9 / MS-FSA 2.1.5.1.2.1: does a new open with (access,
 * share) conflict with the existing open e?  Only the data rights (read,
 * write, append, execute, delete) take part. */
/* Is g the tree user's primary group or one of its groups? */
bool fileops_in_group(const struct token *s, gid_t g);
bool fileops_share_conflict(const struct open *e, uint32_t access, uint32_t share);

/* ---- names ---- */

/* UTF-16LE client name -> share-relative, '/'-separated UTF-8 path ("" =
 * the share root), malloc'd in *path.  Windows rules: invalid UTF-16, NUL,
 * control characters and < > " | ? * -> STATUS_OBJECT_NAME_INVALID; a
 * leading backslash -> STATUS_INVALID_PARAMETER; a "." component ->
 * STATUS_OBJECT_NAME_INVALID; ".." drops the component before it ("d\\.."
 * is d's parent), one that would climb above the share root ->
 * STATUS_OBJECT_PATH_SYNTAX_BAD; ":" names a
 * stream: "name::$DATA" is the file itself, other streams are
 * STATUS_OBJECT_NAME_INVALID (no stream support yet); a trailing backslash
 * is dropped (*trailing_slash set when not NULL). */
NTSTATUS fileops_name(struct smb2_req *req, const uint8_t *utf16, size_t len, char **path);
/* Same, taking named streams: "name:s" / "name:s:$DATA" set *stream to a
 * malloc'd "s" (NULL for the default stream). */
NTSTATUS fileops_name_stream(struct smb2_req *req, const uint8_t *utf16, size_t len, char **path,
			     bool *trailing_slash, char **stream);
NTSTATUS fileops_name_ex(struct smb2_req *req, const uint8_t *utf16, size_t len, char **path,
			 bool *trailing_slash);

/* ---- attributes and times ---- */

struct fileops_attrs {
	uint64_t create, access, write, change;  /* NT time */
	uint64_t alloc, eof;
	uint32_t attrs;                          /* FILE_ATTRIBUTE_* */
	uint64_t ino, dev;
	uint32_t nlink;
	bool is_dir;
};

/* From a statx (STATX_BASIC_STATS | STATX_BTIME) and the DOS info
 * (`dos` may be NULL when there is no user.DOSATTRIB). */
struct vfs_dosinfo;
void fileops_attrs_from_stat(const struct statx *st, const struct vfs_dosinfo *dos,
			     struct fileops_attrs *a);
/* Same, with an explicit ChangeTime stored by SET_INFO applied while it
 * stands (vfs/dosattr.h); `x` may be NULL. */
struct vfs_dosinfo_ext;
void fileops_attrs_from_stat_ext(const struct statx *st, const struct vfs_dosinfo_ext *x,
				 struct fileops_attrs *a);
/* Correct a->alloc from the data extents of fd when st_blocks also counts
 * an xattr block (fileops.c); fd may be -1 (no correction). */
void fileops_fix_alloc(const struct vfs_ident *id, int fd, const struct statx *st,
		       struct fileops_attrs *a);
/* Would fileops_fix_alloc look at the extents (it needs an fd then)? */
bool fileops_alloc_suspect(const struct statx *st, const struct fileops_attrs *a);
/* statx + vfs_dos_get of an open's fd (O_PATH fds too); the DOS
 * attributes come from the open's cache while the inode's ctime is
 * unchanged (attrcache.c). */
NTSTATUS fileops_stat_open(struct open *o, struct fileops_attrs *a);
/* The CREATE response of open o ([MS-SMB2] 2.2.14): its FileId, its
 * attributes a, the oplock level and the CreateAction to answer. */
struct wire_create_rsp;
void fileops_create_rsp(struct wire_create_rsp *r, const struct open *o, const struct fileops_attrs *a,
			uint8_t oplock_level, uint32_t action);
/* fileops_ea_size of an open's fd, cached the same way. */
uint32_t fileops_ea_size_open(struct open *o);
/* Seed the cache with vfs_dos_get_ext's result `r` / `x`, read through
 * the open's fd after `st` was taken. */
void fileops_attr_cache_prime(struct open *o, const struct statx *st, int r, const struct vfs_dosinfo_ext *x);
/* Forget the cached values (after this server changed them: belt and
 * braces, the new ctime would do it too). */
void fileops_attr_cache_drop(struct open *o);
/* The allocation size a client set on this open (FileAllocationInformation,
 * the CREATE AllocationSize context): reported as at least that for as long
 * as the open lives, whether or not it was preallocated ("strict allocate",
 * alloc.h) -- as Samba's initial_allocation_size.  0 forgets it. */
void fileops_alloc_hint(struct open *o, uint64_t alloc);

/* The 8.3 name shown for the last component of `path` (directory entries
 * and FileAlternateNameInformation agree on it): the name itself in upper
 * case when it is a valid 8.3 name, else "XXXXXX~1.EXT"; "" for the share
 * root and the dot entries. */
void fileops_short_name(const char *path, char out[13]);

/* ---- EAs (src/cmd/ea.c): user.<name> xattrs, as Samba ---- */

/* EaSize of FileEaInformation / FileAllInformation / directory entries:
 * the size of the FILE_FULL_EA_INFORMATION list of the file's EAs, 0 when
 * it has none (or the fd cannot read xattrs). */
uint32_t fileops_ea_size(const struct vfs_ident *id, int fd);
/* The same for entry `name` of directory dirfd, by name (getxattrat(2);
 * 0 on kernels without it). */
uint32_t fileops_ea_size_at(const struct vfs_ident *id, int dirfd, const char *name);
/* Check a FILE_FULL_EA_INFORMATION list (SET_INFO FullEa, the CREATE ExtA
 * context): STATUS_INVALID_EA_NAME for a bad name (*err_off set to the
 * offending entry's offset when not NULL), STATUS_EA_LIST_INCONSISTENT /
 * INVALID_PARAMETER for a malformed list. */
NTSTATUS fileops_ea_check(const uint8_t *b, size_t len, uint32_t *err_off);
/* Apply a checked list to an fd that permits xattr calls (an empty value
 * removes the EA).  With `replace_all`, existing EAs are removed first
 * (overwrite / supersede at CREATE). */
NTSTATUS fileops_ea_apply(const struct vfs_ident *id, int fd, const uint8_t *b, size_t len,
			  bool replace_all);

/* ---- access checks ---- */

/* GENERIC_* -> file rights ([MS-SMB2] 3.3.5.9, [MS-DTYP] 2.4.3). */
uint32_t fileops_map_generic(uint32_t access);
/* The maximal access of the tree's user (t->tok) on a file with stat `st`, from unix
 * permission bits (owner: everything; others by rwx), the parent directory
 * (DELETE when the parent is writable and not sticky-protected; `parent` may
 * be NULL = allow) and the share (read only). */
uint32_t fileops_max_access(const struct token *s, const struct tree *t,
			    const struct statx *st, const struct statx *parent);

#endif
