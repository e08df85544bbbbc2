/* Clients by ClientGUID (MS-SMB2 3.3.1.7 GlobalClientTable).  Looking a
 * client up and attaching a connection happen under one lock, so two
 * channels of one client arriving at once cannot race (Samba bug 14433). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state/state.h"
#include "util/log.h"

/* The client table (ClientGUID -> client).  Order: clients_lock ->
 * client->lock (docs/ARCHITECTURE.md "Locks"). */
static pthread_mutex_t clients_lock = PTHREAD_MUTEX_INITIALIZER;
static struct smb_client **clients;
static size_t n_clients, cap_clients;

struct smb_client *client_get_or_create(const uint8_t guid[16], uint16_t dialect, uint32_t caps, uint16_t sec_mode)
{
	pthread_mutex_lock(&clients_lock);
	for (size_t i = 0; i < n_clients; i++) {
		struct smb_client *cl = clients[i];
		if (memcmp(cl->guid, guid, 16) == 0) {
			atomic_fetch_add(&cl->refs, 1);
			pthread_mutex_unlock(&clients_lock);
			return cl;
		}
	}
	struct smb_client *cl = calloc(1, sizeof(*cl));
	if (!cl || (n_clients == cap_clients && !(cap_clients = cap_clients ? cap_clients * 2 : 16,
		    clients = realloc(clients, cap_clients * sizeof(*clients))))) {
		pthread_mutex_unlock(&clients_lock);
		free(cl);
		return NULL;
	}
	memcpy(cl->guid, guid, 16);
	cl->dialect = dialect;
	cl->capabilities = caps;
	cl->security_mode = sec_mode;
	pthread_mutex_init(&cl->lock, NULL);
	atomic_init(&cl->refs, 2); /* the table's and the caller's */
	clients[n_clients++] = cl;
	pthread_mutex_unlock(&clients_lock);
	return cl;
}

struct smb_client *client_lookup(const uint8_t guid[16])
{
	struct smb_client *found = NULL;
	pthread_mutex_lock(&clients_lock);
	for (size_t i = 0; i < n_clients && !found; i++)
		if (memcmp(clients[i]->guid, guid, 16) == 0) {
			found = clients[i];
			atomic_fetch_add(&found->refs, 1);
		}
	pthread_mutex_unlock(&clients_lock);
	return found;
}

void client_put(struct smb_client *cl)
{
	if (!cl)
		return;
	pthread_mutex_lock(&clients_lock);
	int old = atomic_fetch_sub(&cl->refs, 1);
	BUG_ON(old <= 0);
	int left = old - 1;
	if (left == 1 && cl->n_channels == 0) {
		/* only the table holds it: forget the client */
		for (size_t i = 0; i < n_clients; i++) {
			if (clients[i] == cl) {
				clients[i] = clients[--n_clients];
				break;
			}
		}
		atomic_fetch_sub(&cl->refs, 1);
		left = 0;
	}
	pthread_mutex_unlock(&clients_lock);
	if (left == 0) {
		pthread_mutex_destroy(&cl->lock);
		free(cl->channels);
		free(cl->channel_users);
		free(cl);
	}
}

int client_attach(struct smb_client *cl, struct conn *c)
{
	pthread_mutex_lock(&cl->lock);
	if (cl->n_channels == cl->cap_channels) {
		unsigned ncap = cl->cap_channels ? cl->cap_channels * 2 : 4;
		struct conn **n = realloc(cl->channels, ncap * sizeof(*n));
		if (n)
			cl->channels = n;
		struct client_channel_users *u = n ? realloc(cl->channel_users, ncap * sizeof(*u)) : NULL;
		if (!u) {
			pthread_mutex_unlock(&cl->lock);
			return -ENOMEM;
		}
		cl->channel_users = u;
		cl->cap_channels = ncap;
	}
	cl->channel_users[cl->n_channels] = (struct client_channel_users){ .n = 0 };
	cl->channels[cl->n_channels] = c;
	/* atomic: client_n_channels() reads it without the lock */
	__atomic_store_n(&cl->n_channels, cl->n_channels + 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&cl->lock);
	return 0;
}

unsigned client_n_channels(const struct smb_client *cl)
{
	return __atomic_load_n(&cl->n_channels, __ATOMIC_RELAXED);
}

unsigned client_channels_lost(struct smb_client *cl)
{
	return atomic_load(&cl->channels_lost);
}

void client_detach(struct smb_client *cl, struct conn *c)
{
	pthread_mutex_lock(&cl->lock);
	for (unsigned i = 0; i < cl->n_channels; i++) {
		if (cl->channels[i] == c) {
			unsigned last = cl->n_channels - 1;
			cl->channels[i] = cl->channels[last];
			cl->channel_users[i] = cl->channel_users[last];
			__atomic_store_n(&cl->n_channels, last, __ATOMIC_RELAXED);
			atomic_fetch_add(&cl->channels_lost, 1);
			break;
		}
	}
	pthread_mutex_unlock(&cl->lock);
}

void client_channel_user(struct smb_client *cl, const struct conn *c, uint64_t uid_key)
{
	pthread_mutex_lock(&cl->lock);
	for (unsigned i = 0; i < cl->n_channels; i++) {
		if (cl->channels[i] != c)
			continue;
		struct client_channel_users *u = &cl->channel_users[i];
		bool known = false;
		for (unsigned k = 0; k < u->n && !known; k++)
			known = u->uid_key[k] == uid_key;
		/* past CLIENT_CHANNEL_USERS a further user's lease breaks go
		 * to its other channels only */
		if (!known && u->n < CLIENT_CHANNEL_USERS)
			u->uid_key[u->n++] = uid_key;
		break;
	}
	pthread_mutex_unlock(&cl->lock);
}

bool client_channel_has_user(struct smb_client *cl, unsigned i, const uint64_t *uid_keys, unsigned n)
{
	LOCK_HELD(&cl->lock);
	const struct client_channel_users *u = &cl->channel_users[i];
	for (unsigned k = 0; k < u->n; k++)
		for (unsigned j = 0; j < n; j++)
			if (u->uid_key[k] == uid_keys[j])
				return true;
	return false;
}

void client_foreach(void (*fn)(struct smb_client *cl, void *arg), void *arg)
{
	pthread_mutex_lock(&clients_lock);
	for (size_t i = 0; i < n_clients; i++)
		fn(clients[i], arg);
	pthread_mutex_unlock(&clients_lock);
}
