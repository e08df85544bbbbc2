/* Who a tree connect's file operations run as (struct token, state.h):
 * Samba's connection token.  "force user" replaces the session's user by
 * the named account, with that account's primary group and groups; "force
 * group" then replaces the primary group ("+group": only when the user --
 * the forced one, if any -- is a member).  The connecting user has already
 * passed the share's user lists ("valid users", "invalid users", ...):
 * those always name who connects, never the forced user (as Samba). */
#include "cmd/share_token.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "util/log.h"
#include "vfs/vfs.h"

/* getgrouplist() into a malloc'd array; 0 or -ENOMEM. */
static int group_list(const char *name, gid_t primary, gid_t **out, int *n)
{
	int ng = 64;
	gid_t *g = malloc(sizeof(gid_t) * (size_t)ng);
	if (g && getgrouplist(name, primary, g, &ng) < 0) {
		gid_t *g2 = realloc(g, sizeof(gid_t) * (size_t)ng);
		if (g2) {
			g = g2;
			if (getgrouplist(name, primary, g, &ng) < 0)
				ng = 0;
		} else {
			free(g);
			g = NULL;
		}
	}
	*out = g;
	*n = g ? ng : 0;
	return g ? 0 : -ENOMEM;
}

int share_unix_user(const char *name, uid_t uid, struct share_unix_user *u)
{
	struct passwd pw, *p = NULL;
	char buf[4096];
	memset(u, 0, sizeof(*u));
	int r = name ? getpwnam_r(name, &pw, buf, sizeof(buf), &p) : getpwuid_r(uid, &pw, buf, sizeof(buf), &p);
	if (r != 0 || !p)
		return -ENOENT;
	u->uid = p->pw_uid;
	u->gid = p->pw_gid;
	return group_list(p->pw_name, p->pw_gid, &u->groups, &u->n_groups);
}

struct lookup {
	uid_t uid;
	struct share_unix_user u;
	int r;
};

static long lookup_fn(void *arg)
{
	struct lookup *l = arg;
	l->r = share_unix_user(NULL, l->uid, &l->u);
	return 0;
}

static bool member(const struct token *t, gid_t g)
{
	if (t->gid == g)
		return true;
	for (int i = 0; i < t->n_groups; i++)
		if (t->groups[i] == g)
			return true;
	return false;
}

/* The forced user as the base of the token; NSS runs on the pool. */
static NTSTATUS forced_user(const struct conf_share *sh, struct token *t)
{
	struct lookup l = { .uid = (uid_t)sh->force_uid };
	vfs_call(NULL, lookup_fn, &l);
	if (l.r < 0) {
		log_err("share [%s]: force user: uid %ld: %s", sh->name, sh->force_uid,
		        l.r == -ENOENT ? "no such user any more" : strerror(-l.r));
		return STATUS_ACCESS_DENIED;
	}
	/* Not root, the server cannot become anyone else: refuse rather
	 * than act as the server's own account. */
	if (geteuid() != 0 && l.u.uid != geteuid()) {
		log_err("share [%s]: force user needs smb3d to run as root; tree connect refused", sh->name);
		free(l.u.groups);
		return STATUS_ACCESS_DENIED;
	}
	t->uid = l.u.uid;
	t->gid = l.u.gid;
	t->groups = l.u.groups;
	t->n_groups = l.u.n_groups;
	t->authenticated = true; /* Samba's token for a named account */
	return STATUS_SUCCESS;
}

static NTSTATUS session_user(struct session *s, struct token *t)
{
	pthread_mutex_lock(&s->lock);
	t->uid = s->uid;
	t->gid = s->gid;
	t->n_groups = s->groups ? s->n_groups : 0;
	t->groups = calloc((size_t)t->n_groups + 1, sizeof(gid_t));
	if (t->groups && t->n_groups)
		memcpy(t->groups, s->groups, (size_t)t->n_groups * sizeof(gid_t));
	t->authenticated = !s->guest && !s->anonymous;
	pthread_mutex_unlock(&s->lock);
	return t->groups ? STATUS_SUCCESS : STATUS_NO_MEMORY;
}

/* Is the connecting user (not a guest) in "admin users"?  The lists may
 * name groups: NSS, on the pool. */
struct admin_q {
	const struct conf_share *sh;
	char *user;
	bool yes;
};

static long admin_fn(void *arg)
{
	struct admin_q *a = arg;
	a->yes = conf_list_has_user(&a->sh->admin_users, a->user);
	return 0;
}

static bool is_admin(struct session *s, const struct conf_share *sh)
{
	if (!sh->admin_users.n)
		return false;
	struct admin_q a = { .sh = sh };
	pthread_mutex_lock(&s->lock);
	if (!s->guest && !s->anonymous && s->user && s->user[0])
		a.user = strdup(s->user);
	pthread_mutex_unlock(&s->lock);
	if (a.user)
		vfs_call(NULL, admin_fn, &a);
	free(a.user);
	return a.yes;
}

NTSTATUS share_token(struct session *s, const struct conf_share *sh, struct token *t, bool *own)
{
	memset(t, 0, sizeof(*t));
	*own = false;
	bool admin = !sh->ipc && is_admin(s, sh);
	if (sh->ipc || (sh->force_uid < 0 && sh->force_gid < 0 && !admin))
		return STATUS_SUCCESS; /* the session's own user */
	NTSTATUS st = sh->force_uid >= 0 ? forced_user(sh, t) : session_user(s, t);
	if (st != STATUS_SUCCESS)
		return st;
	if (admin) {
		if (geteuid() != 0) {
			log_err("share [%s]: admin users needs smb3d to run as root; tree connect refused", sh->name);
			free(t->groups);
			t->groups = NULL;
			return STATUS_ACCESS_DENIED;
		}
		t->uid = 0; /* Samba: every operation as root */
	}
	if (sh->force_gid >= 0 && (!sh->force_group_members_only || member(t, (gid_t)sh->force_gid)))
		t->gid = (gid_t)sh->force_gid;
	t->ident = vfs_ident_get(t->uid, t->gid, t->groups, t->n_groups);
	if (!t->ident) {
		free(t->groups);
		t->groups = NULL;
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	*own = true;
	return STATUS_SUCCESS;
}

void share_token_free(struct token *t)
{
	free(t->groups);
	vfs_ident_put(t->ident);
	memset(t, 0, sizeof(*t));
}
