/* Lifetimes of the shared state objects (src/state/state.h "Lifetimes"):
 * an open keeps its session alive; a destroyed session or a disconnected
 * tree takes no new open or tree; teardown closes every tree however many;
 * channels are counted objects that outlive their removal from a session
 * while someone holds them.  Run under ASan/UBSan in CI: a use after free
 * here is a report, not a silent pass. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "conf/conf.h"
#include "state/open.h"
#include "state/replay.h"
#include "state/state.h"

static unsigned closed_by_teardown;

/* What fileops installs in the server: unregister the tree's opens. */
static void close_opens(struct session *s, struct tree *t, bool keep_durable)
{
	(void)keep_durable;
	unsigned n = 0;
	struct open **v = open_list(s, t, &n);
	for (unsigned i = 0; i < n; i++) {
		if (open_unregister(v[i]))
			closed_by_teardown++;
		open_put(v[i]);
	}
	free(v);
}

static struct conf_share share = { .name = "share", .path = "/nonexistent", .read_only = false };

static struct session *valid_session(void)
{
	struct session *s = session_new(0x0311, NULL);
	assert_non_null(s);
	s->state = SESSION_VALID;
	return s;
}

static struct open *new_open(struct session *s, struct tree *t)
{
	struct open *o = calloc(1, sizeof(*o));
	assert_non_null(o);
	o->fd = -1;
	o->session = s;
	session_get(s);
	o->tree = t;
	atomic_fetch_add(&t->refs, 1);
	return o;
}

static int setup(void **state)
{
	(void)state;
	state_close_opens_of_tree = close_opens;
	closed_by_teardown = 0;
	return 0;
}

static void open_keeps_session_alive(void **state)
{
	(void)state;
	struct session *s = valid_session();
	struct tree *t = tree_new(s, &share, -1, NULL);
	assert_non_null(t);
	struct open *o = new_open(s, t);
	assert_int_equal(open_register(o), 0);
	open_get(o); /* a request still using it */
	uint64_t id = s->id;
	session_destroy(s);
	session_put(s); /* the creator's reference */
	assert_int_equal(closed_by_teardown, 1);
	/* the request's open still reaches valid session memory */
	assert_int_equal(o->session->id, id);
	assert_int_equal(o->session->state, SESSION_EXPIRED);
	open_put(o); /* the caller's from open_register */
	open_put(o); /* the request's: frees the open, then the session */
}

static void destroyed_session_takes_nothing_new(void **state)
{
	(void)state;
	struct session *s = valid_session();
	struct tree *t = tree_new(s, &share, -1, NULL);
	assert_non_null(t);
	struct open *late = new_open(s, t);
	session_destroy(s);
	/* a CREATE that finishes now is refused and undoes its own open */
	assert_int_equal(open_register(late), -ENOTCONN);
	atomic_store(&late->refs, 1);
	open_put(late);
	assert_null(tree_new(s, &share, -1, NULL));
	struct session_channel *ch = session_channel_add(s, NULL);
	assert_null(ch);
	session_put(s);
}

static void disconnected_tree_takes_no_open(void **state)
{
	(void)state;
	struct session *s = valid_session();
	struct tree *t = tree_new(s, &share, -1, NULL);
	assert_non_null(t);
	atomic_fetch_add(&t->refs, 1); /* a request's */
	struct open *late = new_open(s, t);
	assert_true(tree_disconnect(s, t->id));
	assert_int_equal(open_register(late), -ENOTCONN);
	atomic_store(&late->refs, 1);
	open_put(late);
	tree_put(t);
	session_destroy(s);
	session_put(s);
}

static void teardown_closes_every_tree(void **state)
{
	(void)state;
	struct session *s = valid_session();
	enum { N = 1000 };
	for (int i = 0; i < N; i++) {
		struct tree *t = tree_new(s, &share, -1, NULL);
		assert_non_null(t);
		struct open *o = new_open(s, t);
		assert_int_equal(open_register(o), 0);
		open_put(o); /* the caller's */
	}
	assert_int_equal(open_count_session(s), N);
	session_destroy(s);
	assert_int_equal(closed_by_teardown, N);
	assert_int_equal(open_count_session(s), 0);
	assert_int_equal(s->trees.n, 0);
	session_put(s);
}

static void channel_outlives_its_removal(void **state)
{
	(void)state;
	struct session *s = valid_session();
	struct conn *c1 = (struct conn *)(uintptr_t)0x1000, *c2 = (struct conn *)(uintptr_t)0x2000;
	struct session_channel *a = session_channel_add(s, c1);
	struct session_channel *b = session_channel_add(s, c2);
	assert_non_null(a);
	assert_non_null(b);
	memset(b->signing_key, 0xAB, 16);
	/* c1 goes: the array is compacted; b, held, keeps its key */
	pthread_mutex_lock(&s->lock);
	struct session_channel *gone = session_channel_unlink(s, c1);
	pthread_mutex_unlock(&s->lock);
	assert_ptr_equal(gone, a);
	session_channel_put(gone);
	uint8_t key[16], want[16];
	memset(want, 0xAB, 16);
	session_signing_key(s, c2, key);
	assert_memory_equal(key, want, 16);
	/* a new channel is a new object, never the old slot zeroed */
	struct session_channel *c = session_channel_add(s, c1);
	assert_ptr_not_equal(c, b);
	assert_memory_equal(b->signing_key, want, 16);
	session_channel_put(c);
	session_destroy(s); /* drops the session's channel references */
	assert_memory_equal(b->signing_key, want, 16); /* ours is still alive */
	session_channel_put(b);
	session_channel_put(a);
	session_put(s);
}

static void detached_open_outlives_its_session(void **state)
{
	(void)state;
	struct session *s = valid_session();
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);
	struct tree *t = tree_new(s, &share, root, NULL);
	assert_non_null(t);
	struct open *o = new_open(s, t);
	assert_int_equal(open_register(o), 0);
	open_put(o); /* the caller's; the tables keep it */
	uint64_t pid = o->persistent_id, vid = o->volatile_id;
	assert_true(pid != vid);
	assert_int_equal(open_detach(o), 0);
	assert_int_equal(open_detach(o), -ENOENT);
	assert_null(open_lookup(pid, vid, s, t));
	/* the client's session and tree go; the detached open stays */
	session_destroy(s);
	assert_int_equal(closed_by_teardown, 0);
	session_put(s);
	struct open *d = open_lookup_detached(pid);
	assert_ptr_equal(d, o);
	assert_null(d->session);
	assert_null(d->tree);
	assert_true(open_root_fd(d) >= 0);
	/* a reconnect attaches it to a new session and tree */
	struct session *s2 = valid_session();
	int root2 = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct tree *t2 = tree_new(s2, &share, root2, NULL);
	assert_int_equal(open_attach(d, s2, t2), 0);
	assert_int_equal(open_attach(d, s2, t2), -ENOENT);
	assert_int_equal(d->persistent_id, pid);
	assert_null(open_lookup_detached(pid));
	struct open *again = open_lookup(pid, d->volatile_id, s2, t2);
	assert_ptr_equal(again, o);
	open_put(again);
	open_put(d);
	session_destroy(s2);
	assert_int_equal(closed_by_teardown, 1);
	session_put(s2);
}

static void attach_refused_to_destroyed_session(void **state)
{
	(void)state;
	struct session *s = valid_session();
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct tree *t = tree_new(s, &share, root, NULL);
	struct open *o = new_open(s, t);
	assert_int_equal(open_register(o), 0);
	assert_int_equal(open_detach(o), 0);
	struct session *s2 = valid_session();
	struct tree *t2 = tree_new(s2, &share, -1, NULL);
	atomic_fetch_add(&t2->refs, 1);
	session_destroy(s2);
	assert_int_equal(open_attach(o, s2, t2), -ENOTCONN);
	tree_put(t2);
	session_put(s2);
	assert_true(open_unregister(o)); /* closing a detached open */
	open_put(o);
	session_destroy(s);
	session_put(s);
}

/* A scavenger (or a purge) closes a detached open only while it is still
 * the same detached open: not after a reconnect, nor after a later detach. */
static void scavenger_close_needs_same_detach(void **state)
{
	(void)state;
	struct session *s = valid_session();
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct tree *t = tree_new(s, &share, root, NULL);
	struct open *o = new_open(s, t);
	assert_int_equal(open_register(o), 0);
	assert_false(open_unregister_detached(o, o->detach_gen)); /* attached */
	assert_int_equal(open_detach(o), 0);
	uint32_t first = o->detach_gen;
	unsigned n = 0;
	struct open **v = open_list_detached(&n);
	assert_int_equal(n, 1);
	assert_ptr_equal(v[0], o);
	open_put(v[0]);
	free(v);
	/* reconnected, then detached again: the first timer is stale */
	assert_int_equal(open_attach(o, s, t), 0);
	assert_false(open_unregister_detached(o, first));
	assert_int_equal(open_detach(o), 0);
	assert_true(o->detach_gen != first);
	assert_false(open_unregister_detached(o, first));
	assert_true(open_unregister_detached(o, o->detach_gen));
	assert_false(open_unregister(o));
	v = open_list_detached(&n);
	assert_int_equal(n, 0);
	free(v);
	open_put(o);
	session_destroy(s);
	session_put(s);
}

/* The CreateGuid table (state/replay.h): a reservation is pending until
 * its CREATE completes; then replays find the open (a reference) for as
 * long as it is registered, and its entry goes with open_unregister. */
static void replay_entry_lives_as_long_as_its_open(void **state)
{
	(void)state;
	const uint8_t client[16] = {1}, guid[16] = {2}, other_client[16] = {3};
	struct open *found = NULL;
	unsigned before = replay_count();
	assert_int_equal(replay_reserve(client, guid, &found), REPLAY_NEW);
	assert_int_equal(replay_reserve(client, guid, &found), REPLAY_PENDING);   /* still running */
	assert_int_equal(replay_reserve(other_client, guid, &found), REPLAY_NEW); /* another client's */
	replay_abandon(other_client, guid);
	struct session *s = valid_session();
	struct tree *t = tree_new(s, &share, -1, NULL);
	struct open *o = new_open(s, t);
	assert_int_equal(open_register(o), 0);
	replay_complete(client, guid, o);
	assert_int_equal(replay_reserve(client, guid, &found), REPLAY_FOUND);
	assert_ptr_equal(found, o);
	open_put(found);
	assert_int_equal(replay_count(), before + 1);
	assert_true(open_unregister(o));
	assert_int_equal(replay_count(), before);
	assert_int_equal(replay_reserve(client, guid, &found), REPLAY_NEW);       /* gone with its open */
	replay_abandon(client, guid);
	assert_int_equal(replay_count(), before);
	open_put(o);
	session_destroy(s);
	session_put(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(open_keeps_session_alive, setup),
		cmocka_unit_test_setup(destroyed_session_takes_nothing_new, setup),
		cmocka_unit_test_setup(disconnected_tree_takes_no_open, setup),
		cmocka_unit_test_setup(teardown_closes_every_tree, setup),
		cmocka_unit_test_setup(channel_outlives_its_removal, setup),
		cmocka_unit_test_setup(detached_open_outlives_its_session, setup),
		cmocka_unit_test_setup(attach_refused_to_destroyed_session, setup),
		cmocka_unit_test_setup(scavenger_close_needs_same_detach, setup),
		cmocka_unit_test_setup(replay_entry_lives_as_long_as_its_open, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
