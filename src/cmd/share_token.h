/* The identity of a tree connect: the session's user, or the share's
 * "force user" / "force group" (share_token.c). */
#ifndef SMB3D_CMD_SHARE_TOKEN_H
#define SMB3D_CMD_SHARE_TOKEN_H

#include <stdbool.h>
#include <sys/types.h>

#include "proto/smb.h"
#include "state/state.h"

struct conf_share;

/* A unix account: uid, primary group, all its groups (malloc'd). */
struct share_unix_user {
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int n_groups;
};

/* Look an account up by name, or by uid when name is NULL.  Blocking
 * (NSS): call it on the pool.  0, -ENOENT or -ENOMEM. */
int share_unix_user(const char *name, uid_t uid, struct share_unix_user *u);

/* The token of a tree connect of s to sh.  *own false: the share forces
 * nothing and the tree takes the session's user (tree_new(..., NULL));
 * true: *t is built and the caller frees it with share_token_free() after
 * tree_new() copied it.  Not STATUS_SUCCESS: the connect is refused
 * (logged). */
NTSTATUS share_token(struct session *s, const struct conf_share *sh, struct token *t, bool *own);
void share_token_free(struct token *t);

#endif
