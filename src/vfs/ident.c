/* Identities: who performs a vfs operation.
 *
 * When smb3d runs as root, every operation runs with the SMB user's uid, gid
 * and groups, so that unix permissions apply:
 *  - on a pool thread (or any thread running a job inline) the thread's own
 *    credentials are switched.  Credentials are per-thread in the kernel, but
 *    glibc's setresuid()/setgroups() broadcast the change to every thread of
 *    the process (POSIX semantics), so we use the raw syscalls.  Switching
 *    euid from 0 to non-zero clears the effective capabilities (DAC applies,
 *    no CAP_DAC_OVERRIDE); switching back to 0 restores them from the
 *    permitted set, which survives because real and saved uid stay 0.
 *  - on an io_uring ring the identity is a registered personality: the
 *    worker thread briefly takes the identity's credentials, registers them
 *    with io_uring_register_personality() and switches back.  Personality
 *    ids are per ring, so each ident keeps a small table indexed by worker id.
 *
 * Identities are cached by (uid, gid, groups) and refcounted.  An identity
 * whose count drops to zero stays cached (the set of users is small and its
 * ring personalities remain valid); vfs_fini() frees them all. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "loop/worker.h"
#include "util/log.h"
#include "vfs/vfs_int.h"

#define IDENT_MAX_WORKERS 64

struct ident_pers {
	struct worker *w;   /* the ring the id belongs to ... */
	int ring_fd;        /* ... double-checked: a new ring at the same address */
	int id;             /* > 0 */
};

struct vfs_ident {
	uid_t uid;
	gid_t gid;
	int n_groups;
	gid_t *groups;
	atomic_int refs;
	struct vfs_ident *next;
	/* slot i is only touched by the thread of the worker with id i */
	struct ident_pers pers[IDENT_MAX_WORKERS];
};

/* The identity cache.  Leaf: taken under a session lock (session setup). */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vfs_ident *cache;

/* The server's own credentials, captured at init, restored after each job. */
static gid_t server_egid;
static int server_n_groups;
static gid_t *server_groups;

static __thread const struct vfs_ident *thread_ident;

int ident_init(void)
{
	server_egid = getegid();
	int n = getgroups(0, NULL);
	if (n < 0)
		return -errno;
	free(server_groups);
	server_groups = calloc((size_t)n + 1, sizeof(gid_t));
	if (!server_groups)
		return -ENOMEM;
	n = getgroups(n, server_groups);
	if (n < 0)
		return -errno;
	server_n_groups = n;
	return 0;
}

void ident_fini(void)
{
	/* Identities still referenced (a session outliving vfs_fini at
	 * shutdown) stay allocated: a late vfs_ident_put must stay safe. */
	pthread_mutex_lock(&cache_lock);
	struct vfs_ident **pp = &cache;
	while (*pp) {
		struct vfs_ident *id = *pp;
		if (atomic_load(&id->refs) != 0) {
			pp = &id->next;
			continue;
		}
		*pp = id->next;
		free(id->groups);
		free(id);
	}
	pthread_mutex_unlock(&cache_lock);
	free(server_groups);
	server_groups = NULL;
	server_n_groups = 0;
}

struct vfs_ident *vfs_ident_get(uid_t uid, gid_t gid, const gid_t *groups, int n_groups)
{
	if (n_groups < 0 || (n_groups > 0 && !groups))
		return NULL;
	pthread_mutex_lock(&cache_lock);
	for (struct vfs_ident *id = cache; id; id = id->next) {
		if (id->uid == uid && id->gid == gid && id->n_groups == n_groups &&
		    (n_groups == 0 || memcmp(id->groups, groups, (size_t)n_groups * sizeof(gid_t)) == 0)) {
			atomic_fetch_add(&id->refs, 1);
			pthread_mutex_unlock(&cache_lock);
			return id;
		}
	}
	struct vfs_ident *id = calloc(1, sizeof(*id));
	if (!id)
		goto nomem;
	id->groups = calloc((size_t)n_groups + 1, sizeof(gid_t));
	if (!id->groups) {
		free(id);
		goto nomem;
	}
	if (n_groups)
		memcpy(id->groups, groups, (size_t)n_groups * sizeof(gid_t));
	id->uid = uid;
	id->gid = gid;
	id->n_groups = n_groups;
	atomic_init(&id->refs, 1);
	id->next = cache;
	cache = id;
	pthread_mutex_unlock(&cache_lock);
	return id;
nomem:
	pthread_mutex_unlock(&cache_lock);
	return NULL;
}

uid_t vfs_ident_uid(const struct vfs_ident *id)
{
	return id->uid;
}

struct vfs_ident *vfs_ident_ref(struct vfs_ident *id)
{
	if (id)
		atomic_fetch_add(&id->refs, 1);
	return id;
}

void vfs_ident_put(struct vfs_ident *id)
{
	if (!id)
		return;
	int old = atomic_fetch_sub(&id->refs, 1);
	BUG_ON(old <= 0);
}

/* Raw, per-thread credential switches (see the top of the file). */
static int to_server(void)
{
	/* uid first: setting gid/groups needs the capabilities back. */
	if (syscall(SYS_setresuid, -1, 0, -1) < 0)
		return -errno;
	if (syscall(SYS_setresgid, -1, server_egid, -1) < 0)
		return -errno;
	if (syscall(SYS_setgroups, server_n_groups, server_groups) < 0)
		return -errno;
	return 0;
}

static int to_user(const struct vfs_ident *id)
{
	if (syscall(SYS_setgroups, id->n_groups, id->groups) < 0)
		return -errno;
	if (syscall(SYS_setresgid, -1, id->gid, -1) < 0)
		return -errno;
	if (syscall(SYS_setresuid, -1, id->uid, -1) < 0)
		return -errno;
	return 0;
}

const struct vfs_ident *ident_current(void)
{
	return thread_ident;
}

int ident_apply(const struct vfs_ident *id)
{
	if (!vfs_as_root || id == thread_ident)
		return 0;
	if (thread_ident) {
		/* Back to the server before becoming someone else; failing to
		 * regain root would leave this thread unusable. */
		int r = to_server();
		BUG_ON(r < 0);
		thread_ident = NULL;
	}
	if (!id)
		return 0;
	int r = to_user(id);
	if (r < 0) {
		int r2 = to_server();
		BUG_ON(r2 < 0);
		log_err("vfs: cannot switch to uid %u gid %u: %s", (unsigned)id->uid, (unsigned)id->gid, strerror(-r));
		return r;
	}
	thread_ident = id;
	return 0;
}

int ident_personality(const struct vfs_ident *cid, struct worker *w)
{
	if (!vfs_as_root || !cid)
		return 0;
	if (w->id < 0 || w->id >= IDENT_MAX_WORKERS)
		return -ENOSPC;
	struct vfs_ident *id = (struct vfs_ident *)cid;
	struct ident_pers *p = &id->pers[w->id];
	if (p->id > 0 && p->w == w && p->ring_fd == w->ring.ring_fd)
		return p->id;
	/* Take the identity on this (worker) thread just long enough to
	 * register it; nothing else runs on this thread meanwhile. */
	const struct vfs_ident *prev = thread_ident;
	int r = ident_apply(id);
	if (r < 0)
		return r;
	int pers = io_uring_register_personality(&w->ring);
	r = ident_apply(prev);
	BUG_ON(r < 0);
	if (pers <= 0)
		return pers < 0 ? pers : -EINVAL;
	p->w = w;
	p->ring_fd = w->ring.ring_fd;
	p->id = pers;
	return pers;
}
