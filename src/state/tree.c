/* Tree connects of a session (MS-SMB2 3.3.1.9 TreeConnect). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "state/state.h"

static void share_copy_free(struct conf_share *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->path);
	free(c->comment);
	free(c);
}

struct tree *tree_new(struct session *s, const struct conf_share *share, int root_fd)
{
	struct tree *t = calloc(1, sizeof(*t));
	struct conf_share *c = calloc(1, sizeof(*c));
	if (!t || !c)
		goto fail;
	*c = *share;
	c->name = strdup(share->name);
	c->path = share->path ? strdup(share->path) : NULL;
	c->comment = share->comment ? strdup(share->comment) : NULL;
	c->valid_users = NULL; /* checked at connect time only */
	c->n_valid_users = 0;
	if (!c->name)
		goto fail;
	t->share = c;
	t->session = s;
	t->root_fd = root_fd;
	t->ipc = share->ipc;
	atomic_init(&t->refs, 1); /* the session's */
	pthread_mutex_lock(&s->lock);
	uint64_t id = idtable_alloc(&s->trees, t, 0xFFFFFFFFu);
	pthread_mutex_unlock(&s->lock);
	if (!id)
		goto fail;
	t->id = (uint32_t)id;
	return t;
fail:
	share_copy_free(c);
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
	if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	if (t->root_fd >= 0)
		close(t->root_fd);
	share_copy_free(t->share);
	free(t);
}

bool tree_disconnect(struct session *s, uint32_t id)
{
	pthread_mutex_lock(&s->lock);
	struct tree *t = idtable_remove(&s->trees, id);
	if (t)
		t->disconnected = true;
	pthread_mutex_unlock(&s->lock);
	if (!t)
		return false;
	if (state_close_opens_of_tree)
		state_close_opens_of_tree(s, t);
	tree_put(t);
	return true;
}
