/* The SMB layer's side of a connection: set-up at accept (configuration
 * snapshot, credits, negotiate timeout, connection limit) and tear-down. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "net/conn.h"
#include "proto/credits.h"
#include "proto/pipeline.h"
#include "proto/smb.h"
#include "proto/srv.h"
#include "state/open.h"
#include "util/coro.h"
#include "util/log.h"
#include "util/nttime.h"

struct srv_globals srv;
/* The current user database (swapped by a reload).  Leaf: nothing is
 * taken under it (docs/ARCHITECTURE.md "Locks"). */
static pthread_mutex_t passdb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct srv_passdb *passdb_cur;
/* The file behind passdb_cur: `smb3ctl user` changes take effect at the
 * next session setup without a reload (checked at most once a second). */
static char *passdb_path;
static struct stat passdb_st;
static time_t passdb_checked;

void srv_init(void)
{
	crypto_random(srv.server_guid, 16);
	srv.start_time = nttime_now();
	gethostname(srv.hostname, sizeof(srv.hostname) - 1);
}

int srv_passdb_load(const char *path)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	stat(path, &st);
	struct passdb *db = NULL;
	int bad_line = 0;
	int ret = passdb_load(path, &db, &bad_line);
	if (ret == -ENOENT) {
		db = calloc(1, sizeof(*db));
		ret = db ? 0 : -ENOMEM;
	}
	if (ret < 0) {
		if (bad_line)
			log_err("%s:%d: malformed smbpasswd line", path, bad_line);
		return ret;
	}
	struct srv_passdb *p = calloc(1, sizeof(*p));
	if (!p) {
		passdb_free(db);
		return -ENOMEM;
	}
	p->db = db;
	atomic_init(&p->refs, 1);
	pthread_mutex_lock(&passdb_lock);
	struct srv_passdb *old = passdb_cur;
	passdb_cur = p;
	if (!passdb_path || strcmp(passdb_path, path) != 0) {
		free(passdb_path);
		passdb_path = strdup(path);
	}
	passdb_st = st;
	pthread_mutex_unlock(&passdb_lock);
	if (old)
		srv_passdb_put(old);
	return 0;
}

static bool passdb_changed(void)
{
	time_t now = time(NULL);
	pthread_mutex_lock(&passdb_lock);
	bool check = passdb_path && now != passdb_checked;
	passdb_checked = now;
	char *path = check ? strdup(passdb_path) : NULL;
	struct stat old = passdb_st;
	pthread_mutex_unlock(&passdb_lock);
	if (!path)
		return false;
	struct stat st;
	memset(&st, 0, sizeof(st));
	stat(path, &st);
	free(path);
	return st.st_ino != old.st_ino || st.st_size != old.st_size || st.st_mtim.tv_sec != old.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != old.st_mtim.tv_nsec;
}

struct srv_passdb *srv_passdb_get(void)
{
	if (passdb_changed()) {
		pthread_mutex_lock(&passdb_lock);
		char *path = passdb_path ? strdup(passdb_path) : NULL;
		pthread_mutex_unlock(&passdb_lock);
		if (path && srv_passdb_load(path) == 0)
			log_info("user database %s changed: reloaded", path);
		free(path);
	}
	pthread_mutex_lock(&passdb_lock);
	struct srv_passdb *p = passdb_cur;
	if (p)
		atomic_fetch_add(&p->refs, 1);
	pthread_mutex_unlock(&passdb_lock);
	return p;
}

void srv_passdb_put(struct srv_passdb *p)
{
	if (p && atomic_fetch_sub(&p->refs, 1) == 1) {
		passdb_free(p->db);
		free(p);
	}
}

void srv_passdb_fini(void)
{
	pthread_mutex_lock(&passdb_lock);
	struct srv_passdb *p = passdb_cur;
	passdb_cur = NULL;
	pthread_mutex_unlock(&passdb_lock);
	srv_passdb_put(p);
}

static int smb_accepted(struct conn *c)
{
	struct smb_conn *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	sc->conn = c;
	c->proto = sc;
	sc->conf = conf_current_get();
	if (credits_init(sc, sc->conf->max_credits) < 0)
		return -ENOMEM;
	int n = atomic_fetch_add(&srv.n_conns, 1) + 1;
	if (!conf_host_allowed(sc->conf, (const struct sockaddr *)&c->peer)) {
		char a[64];
		log_warn("connection from %s refused (hosts allow / hosts deny)", conn_addr_str(&c->peer, a, sizeof(a)));
		return -EACCES;
	}
	if (sc->conf->max_connections && n > sc->conf->max_connections) {
		log_warn("connection refused: %d connections is the limit (max connections)",
			 sc->conf->max_connections);
		return -EMFILE;
	}
	/* A PDU that began must end within the pdu timeout, before and after
	 * authentication; unauthenticated connections past the bound (shared
	 * among the workers) close the oldest of them. */
	c->pdu_timeout = (unsigned)sc->conf->pdu_timeout;
	int nw = atomic_load(&srv.n_workers) > 0 ? atomic_load(&srv.n_workers) : 1;
	c->w->max_unauth = sc->conf->max_unauth_conns ? (unsigned)((sc->conf->max_unauth_conns + nw - 1) / nw) : 0;
	/* A client must negotiate and authenticate within the negotiate timeout. */
	if (sc->conf->negotiate_timeout > 0) {
		c->deadline_negotiate = true;
		conn_set_deadline(c, c->w->now_ms + (uint64_t)sc->conf->negotiate_timeout * 1000);
	}
	char a[64];
	log_info("connection %llu from %s", (unsigned long long)c->id, conn_addr_str(&c->peer, a, sizeof(a)));
	return 0;
}

static void smb_teardown(struct conn *c)
{
	struct smb_conn *sc = c->proto;
	/* Sessions lose this channel; requests still running finish and
	 * their replies are dropped (nothing is cancelled, Samba bug 14449). */
	session_conn_closed(c);
	if (sc->client) {
		client_detach(sc->client, c);
	}
	/* Requests parked for good (a blocking lock, a change notify) would
	 * pin the connection forever: cancel them; their replies are dropped. */
	for (struct smb2_req *r = sc->async_list, *next; r; r = next) {
		next = r->async_next;
		if (!r->cancelled) {
			r->cancelled = true;
			if (r->cancel_fn)
				r->cancel_fn(r);
		}
	}
}

static void teardown_co(void *arg)
{
	struct conn *c = arg;
	smb_teardown(c);
	conn_put(c);
}

/* The teardown runs in a coroutine of its own: closing the last open of a
 * delete-pending file removes it through the vfs, as the session's user and
 * beneath the share root, and a vfs call needs a coroutine to wait in. */
static void smb_closed(struct conn *c)
{
	if (!c->proto)
		return;
	if (coro_self()) {
		smb_teardown(c);
		return;
	}
	conn_get(c); /* the coroutine's */
	struct coro *co = coro_new(teardown_co, c);
	if (co)
		coro_resume(co);
	else
		teardown_co(c); /* out of memory: remove_path refuses to run outside a coroutine */
}

static void smb_freed(struct conn *c)
{
	struct smb_conn *sc = c->proto;
	if (!sc)
		return;
	atomic_fetch_sub(&srv.n_conns, 1);
	if (sc->client)
		client_put(sc->client);
	if (sc->conf)
		conf_current_put(sc->conf);
	free(sc->used);
	free(sc);
	c->proto = NULL;
}

void smb_conn_authenticated(struct smb_conn *sc, uint64_t uid_key)
{
	struct conn *c = sc->conn;
	if (sc->client)
		client_channel_user(sc->client, c, uid_key);
	if (c->deadline_negotiate) {
		c->deadline_negotiate = false;
		conn_set_deadline(c, 0);
	}
	conn_set_authenticated(c);
}

struct sess_count {
	struct conn *c;
	unsigned n;
};

static void count_session(struct session *s, void *arg)
{
	struct sess_count *sc = arg;
	pthread_mutex_lock(&s->lock);
	sc->n += session_channel_find(s, sc->c) != NULL;
	pthread_mutex_unlock(&s->lock);
}

unsigned smb_conn_sessions(struct smb_conn *sc)
{
	struct sess_count n = { sc->conn, 0 };
	session_foreach(count_session, &n);
	return n.n;
}

struct open_count {
	struct conn *c;
	unsigned opens;
};

static void count_opens(struct session *s, void *arg)
{
	struct open_count *oc = arg;
	pthread_mutex_lock(&s->lock);
	bool mine = session_channel_find(s, oc->c) != NULL;
	pthread_mutex_unlock(&s->lock);
	if (mine)
		oc->opens += open_count_session(s);
}

/* "deadtime" closes only connections without open files (as Samba); the
 * negotiate timeout always applies. */
static bool smb_expire_ok(struct conn *c)
{
	struct smb_conn *sc = c->proto;
	if (c->deadline_negotiate || !sc)
		return true;
	struct open_count oc = { c, 0 };
	session_foreach(count_opens, &oc);
	if (!oc.opens)
		return true;
	conn_set_deadline(c, c->w->now_ms + (uint64_t)sc->conf->deadtime * 60000);
	return false;
}

const struct conn_ops smb_conn_ops = {
	.expire_ok = smb_expire_ok,
	.accepted = smb_accepted,
	.pdu = smb_pdu,
	.closed = smb_closed,
	.freed = smb_freed,
	.busy = smb_conn_busy,
};

void smb_preauth_update(uint8_t hash[64], const uint8_t *msg, size_t len)
{
	struct iovec iov = { (void *)msg, len };
	crypto_preauth_update(hash, &iov, 1);
}

void smb_disconnect(struct smb_conn *sc, const char *why)
{
	conn_shutdown(sc->conn, why);
}

void req_disconnect(struct smb2_req *req, const char *why)
{
	req->no_response = true;
	conn_shutdown(req->conn, why);
}
