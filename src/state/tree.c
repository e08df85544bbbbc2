/* Tree connects of a session (MS-SMB2 3.3.1.9 TreeConnect). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "state/open.h"
#include "state/state.h"
#include "util/log.h"
#include "vfs/vfs.h"

/* A copy of tok (its groups and a reference to its identity); 0 or -1. */
static int token_copy(struct token *dst, const struct token *tok)
{
	*dst = *tok;
	dst->groups = calloc((size_t)tok->n_groups + 1, sizeof(gid_t));
	if (!dst->groups)
		return -1;
	if (tok->n_groups)
		memcpy(dst->groups, tok->groups, (size_t)tok->n_groups * sizeof(gid_t));
	dst->ident = vfs_ident_ref(tok->ident);
	return 0;
}

/* The session's own user as a token (under its lock: a re-authentication
 * replaces its groups). */
static int token_of_session(struct token *dst, struct session *s)
{
	pthread_mutex_lock(&s->lock);
	struct token t = {
		.uid = s->uid, .gid = s->gid, .groups = s->groups, .n_groups = s->groups ? s->n_groups : 0,
		.authenticated = !s->guest && !s->anonymous, .ident = s->ident,
	};
	int r = token_copy(dst, &t);
	pthread_mutex_unlock(&s->lock);
	return r;
}

struct tree *tree_new(struct session *s, const struct conf_share *share, int root_fd, const struct token *tok)
{
	struct tree *t = calloc(1, sizeof(*t));
	struct conf_share *c = conf_share_dup(share); /* outlives a reload */
	if (!t || !c)
		goto fail;
	/* the identity is set before the tree is in the table: a request that
	 * guesses the new TreeId never finds a tree without one */
	if ((tok ? token_copy(&t->tok, tok) : token_of_session(&t->tok, s)) < 0)
		goto fail;
	t->tok.samba_acls = share->acl_xattr;
	t->share = c;
	t->session = s;
	t->root_fd = root_fd;
	t->ipc = share->ipc;
	atomic_init(&t->refs, 1); /* the session's */
	/* A destroyed session takes no tree: its teardown may have collected
	 * its trees already (state.h "Lifetimes"). */
	pthread_mutex_lock(&s->lock);
	uint64_t id = s->state == SESSION_EXPIRED ? 0 : idtable_alloc(&s->trees, t, 0xFFFFFFFFu);
	pthread_mutex_unlock(&s->lock);
	if (!id)
		goto fail;
	t->id = (uint32_t)id;
	session_get(s); /* the tree's: its session's memory outlives it */
	return t;
fail:
	conf_share_free(c);
	if (t) {
		free(t->tok.groups);
		vfs_ident_put(t->tok.ident);
	}
	free(t);
	return NULL;
}

struct tree *tree_lookup(struct session *s, uint32_t id)
{
	pthread_mutex_lock(&s->lock);
	struct tree *t = idtable_find(&s->trees, id);
	if (t && t->disconnected)
		t = NULL;
	if (t)
		atomic_fetch_add(&t->refs, 1);
	pthread_mutex_unlock(&s->lock);
	return t;
}

void tree_put(struct tree *t)
{
	if (!t || !REF_DROP(&t->refs))
		return;
	if (t->root_fd >= 0)
		close(t->root_fd);
	share_root_put(t->detached_root);
	conf_share_free(t->share);
	free(t->tok.groups);
	vfs_ident_put(t->tok.ident);
	session_put(t->session);
	free(t);
}

bool tree_disconnect(struct session *s, uint32_t id)
{
	return tree_disconnect_ex(s, id, false);
}

bool tree_disconnect_ex(struct session *s, uint32_t id, bool keep_durable)
{
	pthread_mutex_lock(&s->lock);
	struct tree *t = idtable_remove(&s->trees, id);
	if (t)
		t->disconnected = true;
	pthread_mutex_unlock(&s->lock);
	if (!t)
		return false;
	if (state_close_opens_of_tree)
		state_close_opens_of_tree(s, t, keep_durable);
	tree_put(t);
	return true;
}
