/* What a share's Samba options say about names and new files:
 * "veto files" (names no client path reaches and no listing shows),
 * "hide files" / "hide dot files" (names listed as hidden), and the modes
 * of new files and directories ("create mask", "directory mask",
 * "force create mode", "force directory mode", "inherit permissions"). */
#ifndef SMB3D_CMD_SHARE_POLICY_H
#define SMB3D_CMD_SHARE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proto/smb.h"

struct conf_share;

/* Does the name component name[0..len) match "veto files"?  Case-insensitive
 * unless the share is case sensitive, as Samba. */
bool share_name_vetoed(const struct conf_share *s, const char *name, size_t len);

/* Is the last component of `name` hidden by "hide dot files" / "hide files"? */
bool share_name_hidden(const struct conf_share *s, const char *name);

/* The mode for a new file or directory at `path` (relative to the share
 * root `root`), as Samba's unix_mode(). */
mode_t share_new_mode(struct smb2_req *req, int root, const char *path, bool dir);

/* "hide unreadable": is entry `name` (file or directory) of directory
 * dirfd listed for the tree's user?  When the user may read it: unix read
 * permission, and a stored DACL granting read data, EAs, attributes and
 * control (as Samba). */
bool share_entry_visible(struct smb2_req *req, int dirfd, const char *name);

/* "delete veto files": remove the vetoed names in directory `dir` (share
 * relative) and everything under them, as `id`, before the directory is
 * removed.  0 when the share does not say so; else 0 or -errno. */
struct vfs_ident;
int share_delete_vetoed(const struct vfs_ident *id, int root, const char *dir, const struct conf_share *sh);

/* Finish a new file or directory at `fd` (`path` under `root`) made with
 * `mode`: its owner from "inherit owner", its group from "force group",
 * and the bits mkdir()/open() cannot set (setgid, sticky) or a chown
 * cleared. */
void share_new_object(struct smb2_req *req, int root, const char *path, int fd, mode_t mode);
/* The share a TREE_CONNECT names: a configured share, or, when none has the
 * name and [homes] exists, the home directory of the unix user of that
 * name with [homes]' settings.  Where the settings use % substitutions
 * (path, comment, user lists) or for [homes], a copy for this session is
 * made and returned in *owned (the caller frees it with conf_share_free).
 * NULL: no such share. */
struct conf;
const struct conf_share *share_for_connect(struct smb2_req *req, const struct conf *cf, const char *name,
                                           struct conf_share **owned);

/* A share's "max connections" (tree connects to it from every client).
 * share_limit_enter() is false (logged) when the share is full; otherwise
 * the caller creates its tree and calls share_limit_leave(): the count and
 * the creation happen under one lock, so two connects cannot both take the
 * last place.  No-ops for a share without a limit. */
bool share_limit_enter(const struct conf_share *s);
void share_limit_leave(const struct conf_share *s);

#endif
