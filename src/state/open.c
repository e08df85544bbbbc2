/* The global open table and the per-inode file table. */
#include "state/open.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop/timer.h"
#include "state/replay.h"
#include "state/state.h"
#include "util/idtable.h"
#include "vfs/vfs.h"

/* Both FileId tables and the open limits.  Order: session->lock ->
 * open_table_lock -> file->lock (open.h). */
static pthread_mutex_t open_table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct idtable opens;      /* volatile FileId -> attached open */
static struct idtable persistent; /* persistent FileId -> every open; holds the tables' reference */
static bool opens_init;

/* ---- open limits (all under open_table_lock) ---- */

static struct open_limits limits;
/* opens per session id and per user (key uid + 1), as counts */
static struct idtable per_session, per_user;

void open_limits_set(const struct open_limits *l)
{
	pthread_mutex_lock(&open_table_lock);
	limits = *l;
	pthread_mutex_unlock(&open_table_lock);
}

static unsigned count_of(const struct idtable *t, uint64_t key)
{
	return (unsigned)(uintptr_t)idtable_find(t, key);
}

static int count_add(struct idtable *t, uint64_t key, int delta)
{
	unsigned n = count_of(t, key);
	if (!n && delta < 0)
		return 0;
	if (n)
		idtable_remove(t, key);
	n = (unsigned)((int)n + delta);
	return n ? idtable_insert(t, key, (void *)(uintptr_t)n) : 0;
}

static void limits_init(void)
{
	if (opens_init)
		return;
	idtable_init(&opens, 1);
	/* persistent ids start elsewhere: a client mixing up the two halves
	 * of a FileId finds nothing */
	idtable_init(&persistent, 0x100000001ull);
	idtable_init(&per_session, 1);
	idtable_init(&per_user, 1);
	opens_init = true;
}

static int limit_check_locked(uint64_t sid, uint64_t uid_key)
{
	LOCK_HELD(&open_table_lock);
	unsigned total = (unsigned)persistent.n, /* detached opens hold descriptors too */
		  mine = count_of(&per_user, uid_key);
	if (limits.per_session && count_of(&per_session, sid) >= limits.per_session)
		return -EMFILE;
	if (limits.per_user && mine >= limits.per_user)
		return -EMFILE;
	if (limits.total && total >= limits.total)
		return -EMFILE;
	/* the newcomers' reserve: the last opens go to light users only */
	if (limits.total && mine >= OPEN_FEW && total + limits.newcomer_reserve >= limits.total)
		return -EMFILE;
	return 0;
}

int open_limit_check(const struct session *s)
{
	pthread_mutex_lock(&open_table_lock);
	limits_init();
	int ret = limit_check_locked(s->id, (uint64_t)s->uid + 1);
	pthread_mutex_unlock(&open_table_lock);
	return ret;
}

int open_register(struct open *o)
{
	struct session *s = o->session;
	atomic_init(&o->refs, 2);
	uint64_t sid = s ? s->id : 0, uid_key = s ? (uint64_t)s->uid + 1 : 0;
	/* Under the session lock: session_destroy and tree_disconnect mark the
	 * session/tree under it before they collect opens, so this open is
	 * either registered before (and collected) or refused. */
	if (s)
		pthread_mutex_lock(&s->lock);
	if (s && (s->state == SESSION_EXPIRED || (o->tree && o->tree->disconnected))) {
		pthread_mutex_unlock(&s->lock);
		return -ENOTCONN;
	}
	pthread_mutex_lock(&open_table_lock);
	limits_init();
	int ret = sid ? limit_check_locked(sid, uid_key) : 0;
	uint64_t id = ret ? 0 : idtable_alloc(&opens, o, UINT64_MAX - 1);
	uint64_t pid = id ? idtable_alloc(&persistent, o, UINT64_MAX - 1) : 0;
	if (id && !pid) {
		idtable_remove(&opens, id);
		id = 0;
	}
	if (id && sid) {
		bool s_ok = count_add(&per_session, sid, 1) == 0;
		if (!s_ok || count_add(&per_user, uid_key, 1) < 0) {
			if (s_ok)
				count_add(&per_session, sid, -1);
			idtable_remove(&opens, id);
			idtable_remove(&persistent, pid);
			id = 0;
		} else {
			o->charged = true;
			o->charge_sid = sid;
			o->charge_uid = uid_key;
		}
	}
	if (id) {
		/* before the lock goes: from here on others can find the open
		 * (open_list, a teardown's open_unregister) and read its ids */
		o->volatile_id = id;
		o->persistent_id = pid;
	}
	pthread_mutex_unlock(&open_table_lock);
	if (s)
		pthread_mutex_unlock(&s->lock);
	if (ret)
		return ret;
	if (!id)
		return -ENOMEM;
	return 0;
}

struct open *open_lookup(uint64_t persistent_id, uint64_t volatile_id, const struct session *s, const struct tree *t)
{
	pthread_mutex_lock(&open_table_lock);
	struct open *o = opens_init ? idtable_find(&opens, volatile_id) : NULL;
	if (o && (o->closed || o->persistent_id != persistent_id || o->session != s || (t && o->tree != t)))
		o = NULL;
	if (o)
		atomic_fetch_add(&o->refs, 1);
	pthread_mutex_unlock(&open_table_lock);
	return o;
}

void open_get(struct open *o)
{
	atomic_fetch_add(&o->refs, 1);
}

/* Take a registered open out of both tables (open_table_lock held). */
static void unregister_locked(struct open *o)
{
	LOCK_HELD(&open_table_lock);
	idtable_remove(&persistent, o->persistent_id);
	if (!o->detached)
		idtable_remove(&opens, o->volatile_id);
	o->closed = true;
	if (o->charged) {
		if (o->charge_sid)
			count_add(&per_session, o->charge_sid, -1);
		count_add(&per_user, o->charge_uid, -1);
		o->charged = false;
	}
	replay_forget(o); /* before the table's reference goes (state/replay.h) */
}

bool open_unregister(struct open *o)
{
	pthread_mutex_lock(&open_table_lock);
	bool present = opens_init && idtable_find(&persistent, o->persistent_id) == o;
	if (present)
		unregister_locked(o);
	pthread_mutex_unlock(&open_table_lock);
	if (present)
		open_put(o); /* the table's reference */
	return present;
}

bool open_unregister_detached(struct open *o, uint32_t gen)
{
	pthread_mutex_lock(&open_table_lock);
	bool present = opens_init && idtable_find(&persistent, o->persistent_id) == o && o->detached &&
		       o->detach_gen == gen;
	if (present)
		unregister_locked(o);
	pthread_mutex_unlock(&open_table_lock);
	if (present)
		open_put(o); /* the table's reference */
	return present;
}

struct open **open_list(const struct session *s, const struct tree *t, unsigned *n)
{
	pthread_mutex_lock(&open_table_lock);
	size_t cap = opens_init ? persistent.n : 0;
	struct open **v = calloc(cap + 1, sizeof(*v));
	unsigned k = 0;
	size_t pos = 0;
	void *p;
	while (v && opens_init && idtable_next(&persistent, &pos, NULL, &p)) {
		struct open *o = p;
		if ((s && o->session != s) || (t && o->tree != t))
			continue;
		atomic_fetch_add(&o->refs, 1);
		v[k++] = o;
	}
	pthread_mutex_unlock(&open_table_lock);
	*n = k;
	return v;
}

unsigned open_count_session(const struct session *s)
{
	unsigned n = 0;
	pthread_mutex_lock(&open_table_lock);
	size_t pos = 0;
	void *p;
	while (opens_init && idtable_next(&opens, &pos, NULL, &p))
		n += ((struct open *)p)->session == s;
	pthread_mutex_unlock(&open_table_lock);
	return n;
}

unsigned open_count(void)
{
	pthread_mutex_lock(&open_table_lock);
	unsigned n = opens_init ? (unsigned)persistent.n : 0;
	pthread_mutex_unlock(&open_table_lock);
	return n;
}

void open_put(struct open *o)
{
	if (!o || !REF_DROP(&o->refs))
		return;
	if (o->dir && o->dir_free)
		o->dir_free(o->dir);
	free(o->attr_cache);
	outcome_set_clear(&o->outcomes);
	if (o->fd >= 0)
		close(o->fd);
	if (o->file)
		file_put(o->file);
	if (o->tree)
		tree_put(o->tree);
	session_put(o->session);
	vfs_ident_put(o->ident);
	if (o->detached)
		share_root_put(o->root);
	open_path_put(o->path);
	free(o->owner);
	free(o->share);
	free(o);
}

int open_root_fd(struct open *o)
{
	if (o->file)
		pthread_mutex_lock(&o->file->lock);
	int fd = o->tree ? o->tree->root_fd : o->detached && o->root ? o->root->fd : -1;
	if (o->file)
		pthread_mutex_unlock(&o->file->lock);
	return fd;
}

struct open_path *open_path_new(const char *s, size_t len)
{
	if (len > SIZE_MAX - sizeof(struct open_path) - 1)
		return NULL;
	struct open_path *p = malloc(sizeof(*p) + len + 1);
	if (!p)
		return NULL;
	atomic_init(&p->refs, 1);
	p->len = len;
	memcpy(p->s, s, len);
	p->s[len] = '\0';
	return p;
}

/* The lock makes the load and the new reference one step: without it, a
 * rename on another thread could drop the last reference between them. */
struct open_path *open_path_get(const struct open *o)
{
	if (o->file)
		pthread_mutex_lock(&o->file->lock);
	struct open_path *p = o->path;
	if (p)
		atomic_fetch_add(&p->refs, 1);
	if (o->file)
		pthread_mutex_unlock(&o->file->lock);
	return p;
}

void open_path_put(struct open_path *p)
{
	if (p && REF_DROP(&p->refs))
		free(p);
}

bool open_path_is_root(const struct open *o)
{
	struct open_path *p = open_path_get(o);
	bool root = p && !p->s[0];
	open_path_put(p);
	return root;
}

void open_path_replace_locked(struct open *o, struct open_path *p)
{
	if (o->file)
		LOCK_HELD(&o->file->lock);
	struct open_path *old = o->path;
	o->path = p;
	open_path_put(old); /* only free(): nothing else is taken under the lock */
}

struct tree *open_tree_get(struct open *o)
{
	if (o->file)
		pthread_mutex_lock(&o->file->lock);
	struct tree *t = o->tree;
	if (t)
		atomic_fetch_add(&t->refs, 1);
	if (o->file)
		pthread_mutex_unlock(&o->file->lock);
	return t;
}

void share_root_put(struct share_root *r)
{
	if (!r || !REF_DROP(&r->refs))
		return;
	close(r->fd);
	free(r);
}

/* The share root detached opens of t hold: t's, or a new one made from a
 * dup of t->root_fd (installed by open_detach under the table lock). */
static struct share_root *root_candidate(const struct tree *t)
{
	if (t->detached_root)
		return NULL; /* written only by this tree's teardown thread */
	struct share_root *r = malloc(sizeof(*r));
	int fd = t->root_fd >= 0 ? fcntl(t->root_fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (!r || fd < 0) {
		free(r);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	atomic_init(&r->refs, 1); /* the tree's */
	r->fd = fd;
	return r;
}

/* o->session/o->tree change under the session lock (attach), the table
 * lock and the file lock, in that order (open.h). */
static void file_lock(struct open *o)
{
	if (o->file)
		pthread_mutex_lock(&o->file->lock);
}

static void file_unlock(struct open *o)
{
	if (o->file)
		pthread_mutex_unlock(&o->file->lock);
}

int open_detach(struct open *o)
{
	if (!o->tree)
		return -ENOENT;
	struct share_root *fresh = root_candidate(o->tree);
	if (!fresh && !o->tree->detached_root)
		return -EMFILE;
	pthread_mutex_lock(&open_table_lock);
	bool attached = opens_init && !o->closed && !o->detached && idtable_find(&opens, o->volatile_id) == o &&
			(fresh || o->tree->detached_root);
	struct session *s = NULL;
	struct tree *t = NULL;
	if (attached) {
		idtable_remove(&opens, o->volatile_id);
		if (o->charged && o->charge_sid) {
			count_add(&per_session, o->charge_sid, -1);
			o->charge_sid = 0;
		}
		if (!o->tree->detached_root) {
			o->tree->detached_root = fresh;
			fresh = NULL;
		}
		struct share_root *root = o->tree->detached_root;
		atomic_fetch_add(&root->refs, 1);
		file_lock(o);
		s = o->session;
		t = o->tree;
		o->session = NULL;
		o->tree = NULL;
		o->root = root;
		o->detached = true;
		o->detach_gen++;
		o->detach_deadline_ms = timer_now_ms() + o->durable_timeout_ms;
		file_unlock(o);
	}
	pthread_mutex_unlock(&open_table_lock);
	share_root_put(fresh); /* not needed after all */
	if (!attached)
		return -ENOENT;
	tree_put(t);
	session_put(s);
	return 0;
}

int open_attach(struct open *o, struct session *s, struct tree *t)
{
	int ret = 0;
	pthread_mutex_lock(&s->lock);
	if (s->state == SESSION_EXPIRED || t->disconnected) {
		pthread_mutex_unlock(&s->lock);
		return -ENOTCONN;
	}
	pthread_mutex_lock(&open_table_lock);
	uint64_t id = 0;
	if (o->closed || !o->detached)
		ret = -ENOENT;
	else if (!(id = idtable_alloc(&opens, o, UINT64_MAX - 1)))
		ret = -ENOMEM;
	struct share_root *root = NULL;
	if (!ret) {
		if (o->charged && count_add(&per_session, s->id, 1) == 0)
			o->charge_sid = s->id;
		session_get(s);
		atomic_fetch_add(&t->refs, 1);
		file_lock(o);
		o->volatile_id = id;
		o->session = s;
		o->tree = t;
		root = o->root;
		o->root = NULL;
		o->detached = false;
		file_unlock(o);
	}
	pthread_mutex_unlock(&open_table_lock);
	pthread_mutex_unlock(&s->lock);
	share_root_put(root);
	return ret;
}

struct open *open_lookup_detached(uint64_t persistent_id)
{
	pthread_mutex_lock(&open_table_lock);
	struct open *o = opens_init ? idtable_find(&persistent, persistent_id) : NULL;
	if (o && (o->closed || !o->detached))
		o = NULL;
	if (o)
		atomic_fetch_add(&o->refs, 1);
	pthread_mutex_unlock(&open_table_lock);
	return o;
}

struct open **open_list_detached(unsigned *n)
{
	pthread_mutex_lock(&open_table_lock);
	size_t cap = opens_init ? persistent.n - opens.n : 0;
	struct open **v = calloc(cap + 1, sizeof(*v));
	unsigned k = 0;
	size_t pos = 0;
	void *p;
	while (v && opens_init && k < cap && idtable_next(&persistent, &pos, NULL, &p)) {
		struct open *o = p;
		if (!o->detached)
			continue;
		atomic_fetch_add(&o->refs, 1);
		v[k++] = o;
	}
	pthread_mutex_unlock(&open_table_lock);
	*n = k;
	return v;
}

/* ---- files by (dev, ino) ---- */

#define FILE_BUCKETS 4096
/* The file table by (dev, ino).  Leaf (taken without any file->lock). */
static pthread_mutex_t file_table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct file *file_buckets[FILE_BUCKETS];

static unsigned file_hash(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ULL ^ (uint64_t)dev;
	return (unsigned)(h >> 52) % FILE_BUCKETS;
}

struct file *file_get(dev_t dev, ino_t ino, bool is_dir)
{
	unsigned b = file_hash(dev, ino);
	pthread_mutex_lock(&file_table_lock);
	for (struct file *f = file_buckets[b]; f; f = f->hash_next) {
		if (f->dev == dev && f->ino == ino) {
			atomic_fetch_add(&f->refs, 1);
			pthread_mutex_unlock(&file_table_lock);
			return f;
		}
	}
	struct file *f = calloc(1, sizeof(*f));
	if (f) {
		atomic_init(&f->refs, 1);
		pthread_mutex_init(&f->lock, NULL);
		f->dev = dev;
		f->ino = ino;
		f->is_dir = is_dir;
		f->hash_next = file_buckets[b];
		file_buckets[b] = f;
	}
	pthread_mutex_unlock(&file_table_lock);
	return f;
}

void file_put(struct file *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&file_table_lock);
	if (!REF_DROP(&f->refs)) {
		pthread_mutex_unlock(&file_table_lock);
		return;
	}
	unsigned b = file_hash(f->dev, f->ino);
	for (struct file **pp = &file_buckets[b]; *pp; pp = &(*pp)->hash_next) {
		if (*pp == f) {
			*pp = f->hash_next;
			break;
		}
	}
	pthread_mutex_unlock(&file_table_lock);
	free(f->locks);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void file_add_open(struct file *f, struct open *o)
{
	o->file_next = f->opens;
	f->opens = o;
	f->n_opens++;
}

void file_remove_open(struct file *f, struct open *o)
{
	for (struct open **pp = &f->opens; *pp; pp = &(*pp)->file_next) {
		if (*pp == o) {
			*pp = o->file_next;
			f->n_opens--;
			return;
		}
	}
}
