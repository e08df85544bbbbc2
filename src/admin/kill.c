/* smb3ctl kill-client, kill-session, close-share: each picks connections
 * and ends them as if the client had gone away.  The control thread only
 * shuts the socket down (safe from any thread while the connection is in
 * the registry, whose lock conn_foreach holds); the connection's own worker
 * then sees the end of its stream and tears down as on any disconnect:
 * sessions whose last channel it was go, durable opens wait for a
 * reconnect as they would after a network failure. */
#include "admin/kill.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "conf/conf.h"
#include "net/conn.h"
#include "state/state.h"
#include "util/log.h"

#define KILL_MAX 4096 /* connections ended by one request */

struct pick {
	const char *arg;
	uint64_t sid;
	uint64_t ids[KILL_MAX];
	unsigned n;
};

static void add_id(struct pick *p, uint64_t id)
{
	for (unsigned i = 0; i < p->n; i++)
		if (p->ids[i] == id)
			return;
	if (p->n < KILL_MAX)
		p->ids[p->n++] = id;
}

/* The channels of sessions chosen by id (kill-session) or by a tree on a
 * share (close-share); under the table lock, then each session's. */
static void pick_session(struct session *s, void *arg)
{
	struct pick *p = arg;
	pthread_mutex_lock(&s->lock);
	bool hit = p->sid ? s->id == p->sid : false;
	size_t pos = 0;
	void *v;
	while (!p->sid && !hit && idtable_next(&s->trees, &pos, NULL, &v)) {
		const struct tree *t = v;
		hit = !t->disconnected && t->share && !strcasecmp(t->share->name, p->arg);
	}
	for (unsigned i = 0; hit && i < s->n_channels; i++)
		add_id(p, s->channels[i]->conn->id);
	pthread_mutex_unlock(&s->lock);
}

/* The peer's address without the port. */
static void peer_ip(const struct conn *c, char *ip, size_t n)
{
	ip[0] = '\0';
	if (c->peer.ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&c->peer)->sin_addr, ip, (socklen_t)n);
	else if (c->peer.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&c->peer)->sin6_addr, ip, (socklen_t)n);
}

static void pick_client(struct conn *c, void *arg)
{
	struct pick *p = arg;
	char ip[INET6_ADDRSTRLEN], full[80];
	peer_ip(c, ip, sizeof(ip));
	if (!strcmp(ip, p->arg) || !strcmp(conn_addr_str(&c->peer, full, sizeof(full)), p->arg))
		add_id(p, c->id);
}

static void end_picked(struct conn *c, void *arg)
{
	struct pick *p = arg;
	for (unsigned i = 0; i < p->n; i++)
		if (p->ids[i] == c->id && !c->dead)
			shutdown(c->fd, SHUT_RDWR); /* the worker sees the stream end */
}

int admin_kill(const char *cmd, const char *arg, FILE *reply)
{
	struct pick *p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(reply, "error: out of memory\n");
		return -1;
	}
	p->arg = arg;
	if (!strcmp(cmd, "kill-client")) {
		conn_foreach(pick_client, p);
	} else {
		if (!strcmp(cmd, "kill-session")) {
			char *end;
			p->sid = strtoull(arg, &end, 0);
			if (!*arg || *end || !p->sid) {
				fprintf(reply, "error: '%s' is not a session id (as smb3ctl status shows it)\n", arg);
				free(p);
				return -1;
			}
		}
		session_foreach(pick_session, p);
	}
	conn_foreach(end_picked, p);
	unsigned n = p->n;
	free(p);
	log_notice("%s %s: %u connection(s) ended", cmd, arg, n);
	if (!n) {
		fprintf(reply, "error: %s %s: no such %s\n", cmd, arg,
			!strcmp(cmd, "kill-client") ? "client connected" :
			!strcmp(cmd, "kill-session") ? "session" : "share in use");
		return -1;
	}
	fprintf(reply, "%s %s: %u connection(s) ended\n", cmd, arg, n);
	return 0;
}
