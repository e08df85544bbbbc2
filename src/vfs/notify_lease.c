/* Change notification engine: the watches of directory leases
 * (notify.h, vfs_notify_lease_*).
 *
 * A leased directory is watched on the same inotify fd and wd as change
 * notify (NT_MASK), but a lease watch has no queue, no walk and no
 * identity: it is one struct nt_lsub on the directory's nt_wd, and each
 * name created, removed, renamed or whose attributes change there is
 * handed to the callback the layer above installed.  The callback runs
 * under nt_lock on whichever thread read the event (the inotify thread or
 * a draining worker): it only records and posts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "vfs/notify_int.h"

static struct nt_lsub *nt_lsubs;     /* every lease watch (nt_lock) */
static unsigned nt_n_lsubs;          /* their count (nt_lock) */
static vfs_lease_change_fn lease_fn; /* set once, before any watch */

void vfs_notify_lease_init(vfs_lease_change_fn fn)
{
	lease_fn = fn;
}

static struct nt_lsub **lsub_find(const void *owner, uint64_t owner_id)
{
	for (struct nt_lsub **pp = &nt_lsubs; *pp; pp = &(*pp)->next)
		if ((*pp)->owner == owner && (*pp)->owner_id == owner_id)
			return pp;
	return NULL;
}

void nt_lease_changed(struct nt_wd *d, const char *name)
{
	for (struct nt_lsub *l = d->lsubs; l; l = l->next_wd)
		lease_fn(l->arg, name);
}

void nt_lease_overflow(void)
{
	/* events were lost: every leased directory may have changed */
	for (struct nt_lsub *l = nt_lsubs; l; l = l->next)
		if (l->wd)
			lease_fn(l->arg, NULL);
}

void nt_lease_wd_gone(struct nt_wd *d)
{
	while (d->lsubs) {
		struct nt_lsub *l = d->lsubs;
		d->lsubs = l->next_wd;
		l->wd = NULL;
		l->next_wd = NULL;
	}
}

/* Unlink l from its wd (removing the inotify watch when nothing else
 * watches that directory). */
static void lsub_off_wd(struct nt_lsub *l)
{
	struct nt_wd *d = l->wd;
	if (!d)
		return;
	for (struct nt_lsub **pp = &d->lsubs; *pp; pp = &(*pp)->next_wd)
		if (*pp == l) {
			*pp = l->next_wd;
			break;
		}
	l->wd = NULL;
	nt_wd_release(d, true);
}

int vfs_notify_lease_watch(const void *owner, uint64_t owner_id, void *arg, int dirfd, unsigned max)
{
	if (!lease_fn || vfs_notify_init() < 0)
		return -ENOSYS;
	char proc[40];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
	struct nt_lsub *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	*l = (struct nt_lsub){ .owner = owner, .owner_id = owner_id, .arg = arg };
	/* nt_read_lock from the add to the registration: no event of a new wd
	 * is read before the wd is known (notify_int.h) */
	pthread_mutex_lock(&nt_read_lock);
	pthread_mutex_lock(&nt_lock);
	int r = 0;
	if (lsub_find(owner, owner_id))
		r = -EEXIST;
	else if (nt_n_lsubs >= max)
		r = -ENOSPC;
	int wd = r ? -1 : inotify_add_watch(nt_fd, proc, NT_MASK);
	struct nt_wd *d = NULL;
	if (!r && wd < 0)
		r = -errno; /* ENOSPC: fs.inotify.max_user_watches */
	else if (!r && !(d = nt_wd_get(wd)))
		r = -ENOMEM;
	if (r) {
		if (wd >= 0 && !nt_wd_find(wd))
			inotify_rm_watch(nt_fd, wd);
		free(l);
	} else {
		l->wd = d;
		l->next_wd = d->lsubs;
		d->lsubs = l;
		l->next = nt_lsubs;
		nt_lsubs = l;
		nt_n_lsubs++;
	}
	pthread_mutex_unlock(&nt_lock);
	pthread_mutex_unlock(&nt_read_lock);
	if (r && r != -EEXIST)
		log_debug("notify: no watch for a directory lease: %s", strerror(-r));
	return r;
}

void *vfs_notify_lease_unwatch(const void *owner, uint64_t owner_id)
{
	void *arg = NULL;
	pthread_mutex_lock(&nt_lock);
	struct nt_lsub **pp = nt_n_lsubs ? lsub_find(owner, owner_id) : NULL;
	if (pp) {
		struct nt_lsub *l = *pp;
		*pp = l->next;
		lsub_off_wd(l);
		nt_n_lsubs--;
		arg = l->arg;
		free(l);
	}
	pthread_mutex_unlock(&nt_lock);
	return arg;
}
