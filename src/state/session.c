/* Sessions (MS-SMB2 3.3.1.8 GlobalSessionTable).  A session belongs to no
 * connection: it lists the channels bound to it and lives while one of them
 * does (or until LOGOFF / a failed authentication). */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "state/state.h"
#include "util/log.h"
#include "vfs/vfs.h"

/* The global session table.  Order: sessions_lock -> session->lock (a
 * connection's teardown looks into each session while iterating). */
static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static struct idtable sessions;
static bool sessions_init;

void (*state_close_opens_of_tree)(struct session *s, struct tree *t, bool keep_durable);

struct session *session_new(uint16_t dialect, struct smb_client *cl)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	atomic_init(&s->refs, 2); /* the table's and the caller's */
	pthread_mutex_init(&s->lock, NULL);
	s->dialect = dialect;
	s->state = SESSION_IN_PROGRESS;
	idtable_init(&s->trees, 1);
	idtable_init(&s->opens, 1);
	if (cl) {
		atomic_fetch_add(&cl->refs, 1);
		s->client = cl;
	}
	pthread_mutex_lock(&sessions_lock);
	if (!sessions_init) {
		uint64_t start = 0;
		crypto_random(&start, sizeof(start));
		/* ids look like Windows': a high part and a counter */
		idtable_init(&sessions, ((start & 0xFFFF) << 32) | 1);
		sessions_init = true;
	}
	s->id = idtable_alloc(&sessions, s, UINT64_MAX - 1);
	pthread_mutex_unlock(&sessions_lock);
	if (!s->id) {
		session_put(s);
		session_put(s);
		return NULL;
	}
	return s;
}

struct session *session_lookup(uint64_t id)
{
	pthread_mutex_lock(&sessions_lock);
	struct session *s = sessions_init ? idtable_find(&sessions, id) : NULL;
	if (s)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&sessions_lock);
	return s;
}

void session_get(struct session *s)
{
	atomic_fetch_add(&s->refs, 1);
}

void session_put(struct session *s)
{
	if (!s || !REF_DROP(&s->refs))
		return;
	if (s->auth && s->auth_free)
		s->auth_free(s->auth);
	for (unsigned i = 0; i < s->n_channels; i++) {
		if (s->channels[i]->auth && s->auth_free)
			s->auth_free(s->channels[i]->auth);
		session_channel_put(s->channels[i]);
	}
	idtable_fini(&s->trees);
	idtable_fini(&s->opens);
	if (s->client) {
		extern void client_put(struct smb_client *cl);
		client_put(s->client);
	}
	free(s->user);
	free(s->domain);
	free(s->groups);
	if (s->ident)
		vfs_ident_put(s->ident);
	/* keys do not outlive the session in memory */
	explicit_bzero(s->session_key, sizeof(s->session_key));
	explicit_bzero(s->signing_key, sizeof(s->signing_key));
	explicit_bzero(s->enc_key, sizeof(s->enc_key));
	explicit_bzero(s->dec_key, sizeof(s->dec_key));
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Channels taken out of a session: free their authentications and drop
 * the session's references (outside the session lock). */
static void channels_release(struct session *s, struct session_channel **v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (v[i]->auth && s->auth_free)
			s->auth_free(v[i]->auth);
		v[i]->auth = NULL;
		session_channel_put(v[i]);
	}
}

/* Any tree id of the session; false when it has none left.  (One at a
 * time and without allocating: teardown cannot fail half-way.) */
static bool any_tree(struct session *s, uint32_t *out)
{
	pthread_mutex_lock(&s->lock);
	size_t pos = 0;
	uint64_t id;
	bool found = idtable_next(&s->trees, &pos, &id, NULL);
	pthread_mutex_unlock(&s->lock);
	*out = (uint32_t)id;
	return found;
}

static void session_end(struct session *s, bool keep_durable)
{
	pthread_mutex_lock(&sessions_lock);
	bool present = idtable_find(&sessions, s->id) == s;
	if (present)
		idtable_remove(&sessions, s->id);
	pthread_mutex_unlock(&sessions_lock);
	if (!present)
		return;
	/* From here on no tree or open can be added (tree_new, open_register). */
	struct session_channel *chans[SESSION_MAX_CHANNELS];
	pthread_mutex_lock(&s->lock);
	s->state = SESSION_EXPIRED;
	unsigned n_chans = s->n_channels;
	memcpy(chans, s->channels, n_chans * sizeof(chans[0]));
	s->n_channels = 0;
	pthread_mutex_unlock(&s->lock);
	channels_release(s, chans, n_chans);
	/* Disconnect every tree, however many (which closes their opens). */
	uint32_t id;
	while (any_tree(s, &id))
		tree_disconnect_ex(s, id, keep_durable);
	session_put(s); /* the table's reference */
}

void session_destroy(struct session *s)
{
	session_end(s, false);
}

void session_disconnect(struct session *s)
{
	session_end(s, true);
}

struct session_channel *session_channel_find(struct session *s, const struct conn *c)
{
	for (unsigned i = 0; i < s->n_channels; i++)
		if (s->channels[i]->conn == c)
			return s->channels[i];
	return NULL;
}

void session_channel_get(struct session_channel *ch)
{
	atomic_fetch_add(&ch->refs, 1);
}

void session_channel_put(struct session_channel *ch)
{
	if (!ch || !REF_DROP(&ch->refs))
		return;
	explicit_bzero(ch->signing_key, sizeof(ch->signing_key));
	free(ch);
}

struct session_channel *session_channel_add(struct session *s, struct conn *c)
{
	struct session_channel *fresh = calloc(1, sizeof(*fresh));
	pthread_mutex_lock(&s->lock);
	struct session_channel *ch = session_channel_find(s, c);
	if (!ch && fresh && s->state != SESSION_EXPIRED && s->n_channels < SESSION_MAX_CHANNELS) {
		atomic_init(&fresh->refs, 1); /* the session's */
		fresh->conn = c;
		s->channels[s->n_channels++] = ch = fresh;
		fresh = NULL;
	}
	if (ch)
		session_channel_get(ch); /* the caller's */
	pthread_mutex_unlock(&s->lock);
	free(fresh);
	return ch;
}

struct session_channel *session_channel_unlink(struct session *s, const struct conn *c)
{
	for (unsigned i = 0; i < s->n_channels; i++) {
		struct session_channel *ch = s->channels[i];
		if (ch->conn == c) {
			s->channels[i] = s->channels[--s->n_channels];
			s->channels[s->n_channels] = NULL;
			return ch;
		}
	}
	return NULL;
}

void session_signing_key(struct session *s, const struct conn *c, uint8_t key[16])
{
	pthread_mutex_lock(&s->lock);
	struct session_channel *ch = session_channel_find(s, c);
	memcpy(key, ch ? ch->signing_key : s->signing_key, 16);
	pthread_mutex_unlock(&s->lock);
}

void session_conn_closed(struct conn *c)
{
	/* Collect the sessions this connection is a channel of. */
	struct session *list[64];
	unsigned n = 0;
	bool more = true;
	while (more) {
		more = false;
		n = 0;
		pthread_mutex_lock(&sessions_lock);
		size_t pos = 0;
		void *v;
		while (sessions_init && idtable_next(&sessions, &pos, NULL, &v)) {
			struct session *s = v;
			pthread_mutex_lock(&s->lock);
			bool mine = session_channel_find(s, c) != NULL;
			pthread_mutex_unlock(&s->lock);
			if (!mine)
				continue;
			if (n == 64) {
				more = true;
				break;
			}
			atomic_fetch_add(&s->refs, 1);
			list[n++] = s;
		}
		pthread_mutex_unlock(&sessions_lock);
		for (unsigned i = 0; i < n; i++) {
			struct session *s = list[i];
			pthread_mutex_lock(&s->lock);
			struct session_channel *ch = session_channel_unlink(s, c);
			bool last = s->n_channels == 0;
			pthread_mutex_unlock(&s->lock);
			if (ch)
				channels_release(s, &ch, 1);
			/* The last channel gone: the session goes, its durable
			 * opens stay detached for a reconnect (MS-SMB2 3.3.7.1). */
			if (last)
				session_disconnect(s);
			session_put(s);
		}
	}
}

unsigned session_count(void)
{
	pthread_mutex_lock(&sessions_lock);
	unsigned n = sessions_init ? (unsigned)sessions.n : 0;
	pthread_mutex_unlock(&sessions_lock);
	return n;
}

void session_foreach(void (*fn)(struct session *s, void *arg), void *arg)
{
	pthread_mutex_lock(&sessions_lock);
	size_t pos = 0;
	void *v;
	while (sessions_init && idtable_next(&sessions, &pos, NULL, &v))
		fn(v, arg);
	pthread_mutex_unlock(&sessions_lock);
}
