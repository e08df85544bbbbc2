#include "cmd/share_policy.h"
#include "cmd/fileops.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/acl.h"
#include "conf/conf.h"
#include "net/conn.h"
#include "state/state.h"
#include "util/log.h"
#include "vfs/vfs.h"

static int fold(int c, bool ci)
{
	return ci && c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* '*' any run, '?' one character; iterative, backtracking only to the last
 * '*' (linear in practice, never exponential). */
static bool wild_match(const char *pat, const char *s, size_t len, bool ci)
{
	const char *star = NULL, *p = pat;
	size_t i = 0, mark = 0;
	while (i < len) {
		if (*p == '*') {
			star = p++;
			mark = i;
		} else if (*p && (*p == '?' || fold((unsigned char)*p, ci) == fold((unsigned char)s[i], ci))) {
			p++;
			i++;
		} else if (star) {
			p = star + 1;
			i = ++mark;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

static bool list_matches(const struct conf_list *l, const char *name, size_t len, bool ci)
{
	for (size_t i = 0; i < l->n; i++)
		if (wild_match(l->v[i], name, len, ci))
			return true;
	return false;
}

bool share_name_vetoed(const struct conf_share *s, const char *name, size_t len)
{
	return s && s->veto_files.n && list_matches(&s->veto_files, name, len, s->case_insensitive);
}

bool share_name_hidden(const struct conf_share *s, const char *name)
{
	if (!s)
		return false;
	const char *last = strrchr(name, '/');
	last = last ? last + 1 : name;
	if (s->hide_dot_files && last[0] == '.' && strcmp(last, ".") && strcmp(last, ".."))
		return true;
	return s->hide_files.n && list_matches(&s->hide_files, last, strlen(last), s->case_insensitive);
}

/* The parent directory's statx (mode and owner); -errno. */
static int parent_stat(struct smb2_req *req, int root, const char *path, struct statx *st)
{
	const char *slash = strrchr(path, '/');
	char *parent = slash ? strndup(path, (size_t)(slash - path)) : NULL;
	if (slash && !parent)
		return -ENOMEM;
	int r = parent ? vfs_statx(req->tree->tok.ident, root, parent, 0, STATX_MODE | STATX_UID, st)
	               : vfs_statx(req->tree->tok.ident, root, "", AT_EMPTY_PATH, STATX_MODE | STATX_UID, st);
	free(parent);
	return r;
}

/* The parent directory's mode, or 0 if it cannot be read. */
static mode_t parent_mode(struct smb2_req *req, int root, const char *path)
{
	struct statx st;
	return parent_stat(req, root, path, &st) < 0 ? 0 : st.stx_mode & 07777;
}

/* Does the parent directory of `path` have a default POSIX ACL? */
static bool parent_default_acl(struct smb2_req *req, int root, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *parent = slash ? strndup(path, (size_t)(slash - path)) : NULL;
	if (slash && !parent)
		return false;
	int fd = vfs_open(req->tree->tok.ident, root, parent ? parent : ".", O_RDONLY | O_DIRECTORY, 0);
	free(parent);
	if (fd < 0)
		return false;
	ssize_t n = vfs_fgetxattr(req->tree->tok.ident, fd, "system.posix_acl_default", NULL, 0);
	vfs_close(fd);
	return n > 0;
}

mode_t share_new_mode(struct smb2_req *req, int root, const char *path, bool dir)
{
	const struct conf_share *s = req->tree ? req->tree->share : NULL;
	if (!s)
		return dir ? 0755 : 0644;
	/* a new file has the archive attribute: "map archive" makes it u+x */
	mode_t archive = !dir && s->map_archive ? S_IXUSR : 0;
	/* "inherit acls" (Samba's open and mkdir): the kernel then applies the
	 * parent's default ACL, cut down only by the masks */
	if (s->inherit_acls && parent_default_acl(req, root, path))
		return 0777 & (dir ? s->directory_mask : s->create_mask);
	if (s->inherit_permissions) {
		mode_t pm = parent_mode(req, root, path);
		if (pm)
			return dir ? pm & ~(mode_t)S_ISUID : (pm & 0666) | archive;
	}
	if (dir)
		return (0777 & s->directory_mask) | s->force_directory_mode;
	return ((0666 | archive) & s->create_mask) | s->force_create_mode;
}

struct chown_arg {
	int fd;
	uid_t uid;
	gid_t gid;
};

static long chown_fn(void *p)
{
	struct chown_arg *a = p;
	return fchown(a->fd, a->uid, a->gid) < 0 ? -errno : 0;
}

void share_new_object(struct smb2_req *req, int root, const char *path, int fd, mode_t mode)
{
	if (fd < 0 || !req->tree || !req->tree->share)
		return;
	const struct conf_share *sh = req->tree->share;
	/* "inherit owner": the parent's owner, given by the server */
	struct statx pst;
	if (sh->inherit_owner != INHERIT_OWNER_NO && parent_stat(req, root, path, &pst) == 0) {
		struct chown_arg a = { fd, pst.stx_uid, (gid_t)-1 };
		long r = vfs_call(NULL, chown_fn, &a);
		if (r < 0)
			log_warn("share [%s]: inherit owner: fchown: %s", sh->name, strerror((int)-r));
	}
	/* "force group": the server (not the user, who may not be a member)
	 * gives the new object its group, before the mode is final */
	if (sh->force_gid >= 0 && (!sh->force_group_members_only || fileops_in_group(&req->tree->tok, (gid_t)sh->force_gid))) {
		struct chown_arg a = { fd, (uid_t)-1, (gid_t)sh->force_gid };
		long r = vfs_call(NULL, chown_fn, &a);
		if (r < 0)
			log_warn("share [%s]: force group: fchown: %s", sh->name, strerror((int)-r));
	}
	if (!(mode & (S_ISUID | S_ISGID | S_ISVTX)) && sh->force_gid < 0 && sh->inherit_owner == INHERIT_OWNER_NO)
		return;
	struct statx st;
	if (vfs_statx(req->tree->tok.ident, fd, "", AT_EMPTY_PATH, STATX_MODE, &st) < 0)
		return;
	if ((st.stx_mode & 07777) != mode)
		(void)vfs_fchmod(req->tree->tok.ident, fd, mode);
}

/* ---- "hide unreadable" ---- */

struct readable_q {
	int dirfd;
	const char *name;
};

static long readable_fn(void *arg)
{
	struct readable_q *q = arg;
	/* on the pool, as the tree's user: the effective ids are theirs */
	return faccessat(q->dirfd, q->name, R_OK, AT_EACCESS) < 0 ? -errno : 0;
}

bool share_entry_visible(struct smb2_req *req, int dirfd, const char *name)
{
	const struct conf_share *sh = req->tree ? req->tree->share : NULL;
	if (!sh || !sh->hide_unreadable || req->tree->tok.uid == 0) /* root reads everything */
		return true;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return true; /* the directory being listed, and its parent */
	struct readable_q q = { dirfd, name };
	if (vfs_call(req->tree->tok.ident, readable_fn, &q) < 0)
		return false;
	int fd = vfs_open(req->tree->tok.ident, dirfd, name, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0)
		return false;
	struct acl_stored a;
	bool ok = true;
	if (acl_load(fd, &a) == 0) { /* a stored DACL must grant reading too (as Samba asks) */
		uint32_t want = FILE_READ_DATA | FILE_READ_EA | FILE_READ_ATTRIBUTES | READ_CONTROL;
		ok = (acl_access(&req->tree->tok, &a.sd) & want) == want;
		acl_stored_free(&a);
	}
	vfs_close(fd);
	return ok;
}

/* ---- "delete veto files" ---- */

#define VETO_DEPTH_MAX 32

/* Remove everything in directory dfd, then nothing is left to refuse
 * rmdir; no symlink is followed (every call is relative to an fd opened
 * with O_NOFOLLOW).  -errno of the first failure. */
static int remove_entries(int dfd, int depth, const struct conf_share *only);

static int remove_entry(int dfd, const char *name, int depth)
{
	if (unlinkat(dfd, name, 0) == 0)
		return 0;
	if ((errno != EISDIR && errno != EPERM) || depth >= VETO_DEPTH_MAX)
		return -errno;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = remove_entries(fd, depth + 1, NULL);
	close(fd);
	if (r == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0)
		r = -errno;
	return r;
}

/* Remove the entries of directory dfd (all, or with `only` the names the
 * share vetoes), each with what is below it. */
static int remove_entries(int dfd, int depth, const struct conf_share *only)
{
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *e;
	while (r == 0 && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    (!only || share_name_vetoed(only, e->d_name, strlen(e->d_name))))
			r = remove_entry(dfd, e->d_name, depth);
	closedir(d);
	return r;
}

struct veto_rm {
	int fd;
	const struct conf_share *sh;
};

static long veto_rm_fn(void *arg)
{
	struct veto_rm *a = arg;
	return remove_entries(a->fd, 0, a->sh);
}

int share_delete_vetoed(const struct vfs_ident *id, int root, const char *dir, const struct conf_share *sh)
{
	if (!sh || !sh->delete_veto_files || !sh->veto_files.n)
		return 0;
	struct veto_rm a = { .sh = sh };
	a.fd = vfs_open(id, root, dir[0] ? dir : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	if (a.fd < 0)
		return a.fd;
	int r = (int)vfs_call(id, veto_rm_fn, &a);
	vfs_close(a.fd);
	return r;
}

/* ---- the share a tree connect names ([homes], % substitutions) ---- */

/* An absolute path without "." or ".." components: a substituted value
 * (a user or group name) must not lead out of where the admin pointed. */
static bool path_ok(const char *p)
{
	if (!p || p[0] != '/')
		return false;
	for (const char *c = p; *c;) {
		while (*c == '/')
			c++;
		size_t n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
	}
	return true;
}

static void subst_list(struct conf_list *l, const struct conf_subst *sub)
{
	for (size_t i = 0; i < l->n; i++) {
		if (!conf_has_subst(l->v[i]))
			continue;
		char *v = conf_subst(l->v[i], sub);
		free(l->v[i]);
		l->v[i] = v;
	}
}

static bool needs_copy(const struct conf_share *s)
{
	if (conf_has_subst(s->path) || conf_has_subst(s->comment))
		return true;
	const struct conf_list *l[] = { &s->invalid_users, &s->read_list, &s->write_list, &s->admin_users };
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < l[i]->n; j++)
			if (conf_has_subst(l[i]->v[j]))
				return true;
	for (size_t j = 0; j < s->n_valid_users; j++)
		if (conf_has_subst(s->valid_users[j]))
			return true;
	return false;
}

/* The values of the variables for this session and share. */
static void subst_ctx(struct smb2_req *req, const struct conf *cf, const char *share, const char *home,
                      struct conf_subst *sub, char *group, size_t gsize, char *ip, size_t ipsize, char *host,
                      size_t hsize)
{
	struct session *s = req->session;
	memset(sub, 0, sizeof(*sub));
	sub->user = s->guest || s->anonymous || !s->user ? cf->guest_account : s->user;
	struct group gr, *g = NULL;
	char buf[4096];
	if (getgrgid_r(s->gid, &gr, buf, sizeof(buf), &g) == 0 && g) {
		snprintf(group, gsize, "%s", g->gr_name);
		sub->group = group;
	}
	sub->share = share;
	sub->home = home;
	if (gethostname(host, hsize - 1) == 0) {
		host[hsize - 1] = '\0';
		sub->hostname = host;
	}
	sub->netbios_name = cf->netbios_name;
	const struct sockaddr_storage *ss = &req->conn->peer;
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip, (socklen_t)ipsize);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, ip, (socklen_t)ipsize);
	sub->client = ip[0] ? ip : NULL;
}

/* Substitute a copy of `tmpl` for this connection; NULL if the resulting
 * path is not one the share may have. */
static struct conf_share *instantiate(struct smb2_req *req, const struct conf *cf, const struct conf_share *tmpl,
                                      const char *name, const char *home)
{
	char group[256] = "", ip[64] = "", host[256] = "";
	struct conf_subst sub;
	subst_ctx(req, cf, name, home, &sub, group, sizeof(group), ip, sizeof(ip), host, sizeof(host));
	struct conf_share *c = conf_share_dup(tmpl);
	if (!c)
		return NULL;
	free(c->name);
	c->name = strdup(name);
	char *path = tmpl->path ? conf_subst(tmpl->path, &sub) : home ? strdup(home) : NULL;
	free(c->path);
	c->path = path;
	if (c->comment && conf_has_subst(c->comment)) {
		char *cm = conf_subst(c->comment, &sub);
		free(c->comment);
		c->comment = cm;
	}
	for (size_t i = 0; i < c->n_valid_users; i++) {
		char *v = conf_subst(c->valid_users[i], &sub);
		free(c->valid_users[i]);
		c->valid_users[i] = v;
	}
	subst_list(&c->invalid_users, &sub);
	subst_list(&c->read_list, &sub);
	subst_list(&c->write_list, &sub);
	subst_list(&c->admin_users, &sub);
	if (!c->name || !path_ok(c->path)) {
		log_warn("share [%s]: path '%s' after substitution is not usable", name, c->path ? c->path : "");
		conf_share_free(c);
		return NULL;
	}
	return c;
}

const struct conf_share *share_for_connect(struct smb2_req *req, const struct conf *cf, const char *name,
                                           struct conf_share **owned)
{
	*owned = NULL;
	const struct conf_share *sh = conf_share_find(cf, name);
	if (sh) {
		if (sh->ipc || !needs_copy(sh))
			return sh;
		*owned = instantiate(req, cf, sh, sh->name, NULL);
		return *owned;
	}
	if (!cf->homes)
		return NULL;
	/* [homes]: the share named after a unix user is that user's home;
	 * "homes" itself is the connecting user's */
	if (!strcasecmp(name, "homes")) {
		struct session *s = req->session;
		if (s->guest || s->anonymous || !s->user)
			return NULL;
		name = s->user;
	}
	struct passwd pw, *p = NULL;
	char buf[4096];
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &p) != 0 || !p || !p->pw_dir || p->pw_dir[0] != '/')
		return NULL;
	*owned = instantiate(req, cf, cf->homes, p->pw_name, p->pw_dir);
	return *owned;
}

/* ---- max connections per share ---- */

/* Taken before the session table lock (lock order: this, then the global
 * tables, then a session); held only while counting and creating a tree. */
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;

struct tree_count {
	const char *share;
	unsigned n;
};

static void count_trees(struct session *s, void *arg)
{
	struct tree_count *c = arg;
	pthread_mutex_lock(&s->lock);
	size_t pos = 0;
	void *v;
	while (idtable_next(&s->trees, &pos, NULL, &v)) {
		const struct tree *t = v;
		if (!t->disconnected && t->share && !strcasecmp(t->share->name, c->share))
			c->n++;
	}
	pthread_mutex_unlock(&s->lock);
}

bool share_limit_enter(const struct conf_share *s)
{
	if (!s || s->max_connections <= 0)
		return true;
	pthread_mutex_lock(&limit_lock);
	struct tree_count c = { s->name, 0 };
	session_foreach(count_trees, &c);
	if (c.n < (unsigned)s->max_connections)
		return true;
	pthread_mutex_unlock(&limit_lock);
	log_warn("tree connect to [%s] refused: %u connections is the limit (max connections)", s->name, c.n);
	return false;
}

void share_limit_leave(const struct conf_share *s)
{
	if (s && s->max_connections > 0)
		pthread_mutex_unlock(&limit_lock);
}
