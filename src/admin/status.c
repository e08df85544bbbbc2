/* What `smb3ctl status` shows: clients, channels, sessions with their tree
 * connects, open files with their byte-range locks, detached durable opens;
 * as text, or as one JSON object (`smb3ctl status --json`).  Every object
 * is read under its own lock and copied out; the caller formats into
 * memory and sends after (admin/control.c). */
#include "admin/status.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "loop/timer.h"
#include "mc/break_deliver.h"
#include "net/conn.h"
#include "proto/smb.h"
#include "proto/srv.h"
#include "state/open.h"
#include "util/log.h"

static const char *dialect_str(uint16_t d)
{
	switch (d) {
	case 0x0202: return "2.0.2";
	case 0x0210: return "2.1";
	case 0x0300: return "3.0";
	case 0x0302: return "3.0.2";
	case 0x0311: return "3.1.1";
	default: return "-";
	}
}

static const char *sign_str(int a)
{
	return a == CRYPTO_SIGN_AES_GMAC ? "AES-128-GMAC" : a == CRYPTO_SIGN_AES_CMAC ? "AES-128-CMAC" : "HMAC-SHA256";
}

static const char *cipher_str(int c)
{
	switch (c) {
	case CRYPTO_AES_128_CCM: return "AES-128-CCM";
	case CRYPTO_AES_128_GCM: return "AES-128-GCM";
	case CRYPTO_AES_256_CCM: return "AES-256-CCM";
	case CRYPTO_AES_256_GCM: return "AES-256-GCM";
	default: return "none";
	}
}

static void guid_str(const uint8_t g[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

static void print_conn(struct conn *c, void *arg)
{
	FILE *f = arg;
	struct smb_conn *sc = c->proto;
	char l[64], p[64], g[37] = "-";
	if (sc && sc->negotiated && sc->dialect >= 0x0210)
		guid_str(sc->client_guid, g);
	fprintf(f, "  channel %llu  %s <- %s  worker %d  client %s  dialect %s  in %llu B  out %llu B%s\n",
		(unsigned long long)c->id, conn_addr_str(&c->local, l, sizeof(l)), conn_addr_str(&c->peer, p, sizeof(p)),
		c->w->id, g, sc ? dialect_str(sc->dialect) : "-", (unsigned long long)c->bytes_in,
		(unsigned long long)c->bytes_sent_to_kernel, c->dead ? "  (closing)" : "");
}

static void print_client(struct smb_client *cl, void *arg)
{
	FILE *f = arg;
	char g[37];
	guid_str(cl->guid, g);
	pthread_mutex_lock(&cl->lock);
	fprintf(f, "  client %s  dialect %s  channels %u:", g, dialect_str(cl->dialect), cl->n_channels);
	for (unsigned i = 0; i < cl->n_channels; i++)
		fprintf(f, " %llu", (unsigned long long)cl->channels[i]->id);
	fprintf(f, "\n");
	pthread_mutex_unlock(&cl->lock);
}

static void print_session(struct session *s, void *arg)
{
	FILE *f = arg;
	pthread_mutex_lock(&s->lock);
	fprintf(f, "  session 0x%016llx  user %s%s  dialect %s  signing %s%s  encryption %s  channels %u:",
		(unsigned long long)s->id, s->user ? s->user : "-",
		s->guest ? " (guest)" : s->anonymous ? " (anonymous)" : "", dialect_str(s->dialect),
		sign_str(s->signing_alg), s->signing_required ? " (required)" : "",
		s->encrypt_data ? cipher_str(s->cipher) : "off", s->n_channels);
	for (unsigned i = 0; i < s->n_channels; i++)
		fprintf(f, " %llu%s", (unsigned long long)s->channels[i]->conn->id, s->channels[i]->binding ? "(binding)" : "");
	fprintf(f, "\n");
	size_t pos = 0;
	void *v;
	while (idtable_next(&s->trees, &pos, NULL, &v)) {
		const struct tree *t = v;
		if (t->disconnected)
			continue;
		fprintf(f, "    tree %u  share [%s]  path %s%s%s\n", t->id, t->share ? t->share->name : "-",
			t->share && t->share->path ? t->share->path : "-", t->read_only ? "  (read-only)" : "",
			t->encrypt ? "  (encrypted)" : "");
	}
	pthread_mutex_unlock(&s->lock);
}

#define STATUS_LOCKS_MAX 64 /* byte-range locks shown per open */

/* What is shown of an open, copied under its file's lock: its session and
 * tree change under it (a detach), and so do its locks; its path is
 * referenced (a rename replaces it: struct open_path), view_done drops it. */
struct open_view {
	struct open_path *path;
	char share[128];
	unsigned long long sid;
	bool detached;
	unsigned n_locks, n_shown;
	struct brl locks[STATUS_LOCKS_MAX];
};

static void view_open(struct open *o, struct open_view *v)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->share, sizeof(v->share), "-");
	if (o->file)
		pthread_mutex_lock(&o->file->lock);
	v->detached = o->detached;
	v->path = o->path;
	if (v->path)
		atomic_fetch_add(&v->path->refs, 1);
	if (o->session)
		v->sid = o->session->id;
	if (o->tree && o->tree->share)
		snprintf(v->share, sizeof(v->share), "%s", o->tree->share->name);
	for (unsigned i = 0; o->file && i < o->file->n_locks; i++) {
		if (o->file->locks[i].owner != o)
			continue;
		if (v->n_shown < STATUS_LOCKS_MAX)
			v->locks[v->n_shown++] = o->file->locks[i];
		v->n_locks++;
	}
	if (o->file)
		pthread_mutex_unlock(&o->file->lock);
}

static void view_done(struct open_view *v)
{
	open_path_put(v->path);
	free(v);
}

/* One attached open and its byte-range locks. */
static void print_open(FILE *f, struct open *o)
{
	struct open_view *v = malloc(sizeof(*v));
	if (!v)
		return;
	view_open(o, v);
	if (!v->detached) { /* detached ones are listed on their own */
		fprintf(f, "  file 0x%llx  session 0x%016llx  share [%s]  %s%s\n", (unsigned long long)o->volatile_id,
			v->sid, v->share, v->path ? v->path->s : "", o->pipe ? " (pipe)" : o->is_dir ? "/" : "");
		for (unsigned i = 0; i < v->n_shown; i++)
			fprintf(f, "    lock %s  offset %llu  length %llu\n", v->locks[i].exclusive ? "exclusive" : "shared",
				(unsigned long long)v->locks[i].offset, (unsigned long long)v->locks[i].length);
		if (v->n_locks > v->n_shown)
			fprintf(f, "    ... %u more locks\n", v->n_locks - v->n_shown);
	}
	view_done(v);
}

/* When the scavenger closes detached open o (under its file's lock). */
static uint64_t detach_deadline(struct open *o)
{
	pthread_mutex_lock(&o->file->lock);
	uint64_t deadline = o->detach_deadline_ms;
	pthread_mutex_unlock(&o->file->lock);
	return deadline;
}

/* Durable opens waiting for their client (cmd/durable.h), with the time
 * left before the scavenger closes them. */
static void print_detached(FILE *f)
{
	unsigned n = 0;
	struct open **v = open_list_detached(&n);
	fprintf(f, "detached durable opens: %u\n", n);
	uint64_t now = timer_now_ms();
	for (unsigned i = 0; i < n; i++) {
		struct open *o = v[i];
		uint64_t deadline = detach_deadline(o);
		uint64_t left = deadline > now ? deadline - now : 0;
		struct open_path *p = open_path_get(o);
		fprintf(f, "  file 0x%llx  v%u  user %s  share [%s]  %s  %llu.%03llu s left\n",
			(unsigned long long)o->persistent_id, o->durable, o->owner ? o->owner : "-",
			o->share ? o->share : "-", p ? p->s : "", (unsigned long long)(left / 1000),
			(unsigned long long)(left % 1000));
		open_path_put(p);
		open_put(o);
	}
	free(v);
}

static void print_break(const struct break_status *b, void *arg)
{
	FILE *f = arg;
	if (b->lease)
		fprintf(f, "  break session 0x%016llx  lease %02x%02x%02x%02x...  to state 0x%x",
			(unsigned long long)b->session_id, b->key[0], b->key[1], b->key[2], b->key[3], b->to);
	else
		fprintf(f, "  break session 0x%016llx  file 0x%llx  to level %u", (unsigned long long)b->session_id,
			(unsigned long long)b->file, b->to);
	fprintf(f, "  channel %llu  channels tried %u  for %llu ms%s\n", (unsigned long long)b->channel, b->tries,
		(unsigned long long)b->age_ms, b->awaiting_answer ? "  (delivered, awaiting the ack)" : "");
}

void status_write_text(FILE *f)
{
	fprintf(f, "smb3d %s  connections %d  sessions %u  open files %u\n", SMB3D_VERSION,
		atomic_load(&srv.n_conns), session_count(), open_count());
	fprintf(f, "clients:\n");
	client_foreach(print_client, f);
	fprintf(f, "channels:\n");
	conn_foreach(print_conn, f);
	fprintf(f, "sessions:\n");
	session_foreach(print_session, f);
	fprintf(f, "breaks in progress:\n");
	break_deliver_foreach(print_break, f);
	fprintf(f, "open files:\n");
	unsigned n = 0;
	struct open **v = open_list(NULL, NULL, &n);
	for (unsigned i = 0; i < n; i++) {
		print_open(f, v[i]);
		open_put(v[i]);
	}
	free(v);
	print_detached(f);
}


/* ---- JSON ---- */

/* A JSON string: quotes, backslashes and control characters escaped;
 * bytes above 0x7f go as they are (names are UTF-8). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

struct json_list {
	FILE *f;
	bool first;
};

static void json_sep(struct json_list *l)
{
	if (!l->first)
		fputc(',', l->f);
	l->first = false;
}

static void json_client(struct smb_client *cl, void *arg)
{
	struct json_list *l = arg;
	char g[37];
	guid_str(cl->guid, g);
	json_sep(l);
	pthread_mutex_lock(&cl->lock);
	fprintf(l->f, "{\"guid\":\"%s\",\"dialect\":\"%s\",\"channels\":[", g, dialect_str(cl->dialect));
	for (unsigned i = 0; i < cl->n_channels; i++)
		fprintf(l->f, "%s%llu", i ? "," : "", (unsigned long long)cl->channels[i]->id);
	fputs("]}", l->f);
	pthread_mutex_unlock(&cl->lock);
}

static void json_conn(struct conn *c, void *arg)
{
	struct json_list *l = arg;
	struct smb_conn *sc = c->proto;
	char a[64], g[37] = "";
	if (sc && sc->negotiated && sc->dialect >= 0x0210)
		guid_str(sc->client_guid, g);
	json_sep(l);
	fprintf(l->f, "{\"id\":%llu,\"local\":", (unsigned long long)c->id);
	json_str(l->f, conn_addr_str(&c->local, a, sizeof(a)));
	fputs(",\"peer\":", l->f);
	json_str(l->f, conn_addr_str(&c->peer, a, sizeof(a)));
	fprintf(l->f, ",\"worker\":%d,\"client\":\"%s\",\"dialect\":\"%s\",\"bytes_in\":%llu,"
		"\"bytes_out\":%llu,\"closing\":%s}", c->w->id, g, sc ? dialect_str(sc->dialect) : "-",
		(unsigned long long)c->bytes_in, (unsigned long long)c->bytes_sent_to_kernel, c->dead ? "true" : "false");
}

static void json_trees(FILE *f, struct session *s)
{
	size_t pos = 0;
	void *v;
	bool first = true;
	fputs(",\"trees\":[", f);
	while (idtable_next(&s->trees, &pos, NULL, &v)) {
		const struct tree *t = v;
		if (t->disconnected)
			continue;
		fprintf(f, "%s{\"id\":%u,\"share\":", first ? "" : ",", t->id);
		json_str(f, t->share ? t->share->name : "");
		fputs(",\"path\":", f);
		json_str(f, t->share && t->share->path ? t->share->path : "");
		fprintf(f, ",\"read_only\":%s,\"encrypted\":%s,\"uid\":%u}", t->read_only ? "true" : "false",
			t->encrypt ? "true" : "false", (unsigned)t->tok.uid);
		first = false;
	}
	fputc(']', f);
}

static void json_session(struct session *s, void *arg)
{
	struct json_list *l = arg;
	json_sep(l);
	pthread_mutex_lock(&s->lock);
	fprintf(l->f, "{\"id\":\"0x%016llx\",\"user\":", (unsigned long long)s->id);
	json_str(l->f, s->user);
	fprintf(l->f, ",\"guest\":%s,\"anonymous\":%s,\"dialect\":\"%s\",\"signing\":\"%s\","
		"\"signing_required\":%s,\"encryption\":\"%s\",\"channels\":[",
		s->guest ? "true" : "false", s->anonymous ? "true" : "false", dialect_str(s->dialect),
		sign_str(s->signing_alg), s->signing_required ? "true" : "false",
		s->encrypt_data ? cipher_str(s->cipher) : "off");
	for (unsigned i = 0; i < s->n_channels; i++)
		fprintf(l->f, "%s%llu", i ? "," : "", (unsigned long long)s->channels[i]->conn->id);
	fputc(']', l->f);
	json_trees(l->f, s);
	fputc('}', l->f);
	pthread_mutex_unlock(&s->lock);
}

static void json_open(struct json_list *l, struct open *o)
{
	struct open_view *v = malloc(sizeof(*v));
	if (!v)
		return;
	view_open(o, v);
	if (!v->detached) {
		json_sep(l);
		fprintf(l->f, "{\"id\":\"0x%llx\",\"session\":\"0x%016llx\",\"share\":",
			(unsigned long long)o->volatile_id, v->sid);
		json_str(l->f, v->share);
		fputs(",\"path\":", l->f);
		json_str(l->f, v->path ? v->path->s : "");
		fprintf(l->f, ",\"kind\":\"%s\",\"locks\":[", o->pipe ? "pipe" : o->is_dir ? "directory" : "file");
		for (unsigned i = 0; i < v->n_shown; i++)
			fprintf(l->f, "%s{\"offset\":%llu,\"length\":%llu,\"exclusive\":%s}", i ? "," : "",
				(unsigned long long)v->locks[i].offset, (unsigned long long)v->locks[i].length,
				v->locks[i].exclusive ? "true" : "false");
		fprintf(l->f, "],\"locks_total\":%u}", v->n_locks);
	}
	view_done(v);
}

static void json_break(const struct break_status *b, void *arg)
{
	struct json_list *l = arg;
	json_sep(l);
	fprintf(l->f, "{\"session\":\"0x%016llx\",\"kind\":\"%s\",", (unsigned long long)b->session_id,
		b->lease ? "lease" : "oplock");
	if (b->lease) {
		fputs("\"lease_key\":\"", l->f);
		for (unsigned i = 0; i < sizeof(b->key); i++)
			fprintf(l->f, "%02x", b->key[i]);
		fputs("\",", l->f);
	} else {
		fprintf(l->f, "\"file\":\"0x%llx\",", (unsigned long long)b->file);
	}
	fprintf(l->f, "\"to\":%u,\"channel\":%llu,\"channels_tried\":%u,\"awaiting_answer\":%s,\"age_ms\":%llu}",
		b->to, (unsigned long long)b->channel, b->tries, b->awaiting_answer ? "true" : "false",
		(unsigned long long)b->age_ms);
}

void status_write_json(FILE *f)
{
	fprintf(f, "{\"version\":\"%s\",\"connections\":%d,\"sessions_total\":%u,\"open_files\":%u",
		SMB3D_VERSION, atomic_load(&srv.n_conns), session_count(), open_count());
	struct json_list l = { f, true };
	fputs(",\"clients\":[", f);
	client_foreach(json_client, &l);
	fputs("],\"channels\":[", f);
	l.first = true;
	conn_foreach(json_conn, &l);
	fputs("],\"sessions\":[", f);
	l.first = true;
	session_foreach(json_session, &l);
	fputs("],\"breaks\":[", f);
	l.first = true;
	break_deliver_foreach(json_break, &l);
	fputs("],\"files\":[", f);
	l.first = true;
	unsigned n = 0;
	struct open **v = open_list(NULL, NULL, &n);
	for (unsigned i = 0; i < n; i++) {
		json_open(&l, v[i]);
		open_put(v[i]);
	}
	free(v);
	fputs("],\"detached\":[", f);
	v = open_list_detached(&n);
	uint64_t now = timer_now_ms();
	for (unsigned i = 0; i < n; i++) {
		struct open *o = v[i];
		uint64_t deadline = detach_deadline(o);
		fprintf(f, "%s{\"id\":\"0x%llx\",\"durable\":%u,\"user\":", i ? "," : "",
			(unsigned long long)o->persistent_id, (unsigned)o->durable);
		json_str(f, o->owner);
		fputs(",\"share\":", f);
		json_str(f, o->share);
		fputs(",\"path\":", f);
		struct open_path *p = open_path_get(o);
		json_str(f, p ? p->s : "");
		open_path_put(p);
		fprintf(f, ",\"ms_left\":%llu}", (unsigned long long)(deadline > now ? deadline - now : 0));
		open_put(o);
	}
	free(v);
	fputs("]}\n", f);
}
