/* SESSION_SETUP ([MS-SMB2] 3.3.5.5): new sessions, re-authentication and
 * channel binding (3.3.5.5.2), with the 3.1.1 preauth hash chain and the key
 * derivation of 3.3.5.5.3. */
#undef LOG_CLASS
#define LOG_CLASS LOG_CLASS_AUTH /* log lines of Samba's "auth" class */

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/pam.h"
#include "cmd/cmd.h"
#include "cmd/share_token.h"
#include "crypto/crypto.h"
#include "net/conn.h"
#include "proto/signing.h"
#include "proto/srv.h"
#include "vfs/vfs.h"
#include "util/log.h"
#include "util/metrics.h"
#include "wire/ntstatus.h"
#include "wire/session_setup.h"

struct setup_ctx {
	struct auth_config acfg;
	struct srv_passdb *db;
};

static bool any_guest_share(const struct conf *cf)
{
	for (size_t i = 0; i < cf->n_shares; i++)
		if (cf->shares[i].guest_ok)
			return true;
	return false;
}

static struct auth_ctx *start_auth(struct smb_conn *sc, struct setup_ctx *x)
{
	const struct conf *cf = sc->conf;
	x->db = srv_passdb_get();
	memset(&x->acfg, 0, sizeof(x->acfg));
	x->acfg.netbios_name = cf->netbios_name;
	x->acfg.domain = cf->workgroup;
	x->acfg.dns_name = NULL;
	x->acfg.db = x->db ? x->db->db : NULL;
	x->acfg.map_to_guest = cf->map_to_guest;
	x->acfg.guest_allowed = any_guest_share(cf);
	x->acfg.anonymous_allowed = cf->null_session;
	x->acfg.guest_account = cf->guest_account;
	return auth_start(&x->acfg);
}

/* The authentication context and the config it borrows live together. */
struct auth_holder {
	struct setup_ctx x;
	struct auth_ctx *a;
};

static struct auth_holder *holder_new(struct smb_conn *sc)
{
	struct auth_holder *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->a = start_auth(sc, &h->x);
	if (!h->a) {
		srv_passdb_put(h->x.db);
		free(h);
		return NULL;
	}
	return h;
}

static void holder_free(struct auth_holder *h)
{
	if (!h)
		return;
	auth_free(h->a);
	srv_passdb_put(h->x.db);
	free(h);
}

/* The unix identity a logon maps to, looked up before the session lock is
 * taken: NSS may be sssd or LDAP, so the lookup runs on the pool, never on
 * the worker (DESIGN.md "never block a worker while holding a lock"). */
struct unix_identity {
	const char *name;           /* in: unix account name */
	bool pam;                   /* in: "obey pam restrictions" applies */
	enum auth_pam_result pam_result;
	bool found;
	uid_t uid;
	gid_t gid;
	gid_t *groups;              /* malloc'd */
	int n_groups;
};

static long lookup_unix_identity(void *arg)
{
	struct unix_identity *u = arg;
	if (u->pam && u->name)
		u->pam_result = auth_pam_account(u->name);
	struct share_unix_user uu;
	if (!u->name || share_unix_user(u->name, 0, &uu) == -ENOENT)
		return 0;
	u->found = true;
	u->uid = uu.uid;
	u->gid = uu.gid;
	u->groups = uu.groups;
	u->n_groups = uu.n_groups;
	return 0;
}

static void resolve_unix_identity(const struct auth_result *r, const struct conf *cf, struct unix_identity *u)
{
	memset(u, 0, sizeof(*u));
	u->name = (r->guest || r->anonymous) ? cf->guest_account : r->user;
	/* Samba checks the account of users who proved a password, not guests */
	u->pam = cf->obey_pam_restrictions && !r->guest && !r->anonymous;
	vfs_call(NULL, lookup_unix_identity, u);
}

/* Apply a logon's identity to the session (caller holds s->lock); takes the
 * groups of u. */
static void set_identity(struct session *s, const struct auth_result *r, struct unix_identity *u)
{
	free(s->user);
	free(s->domain);
	s->user = strdup(r->user ? r->user : "");
	s->domain = strdup(r->domain ? r->domain : "");
	s->guest = r->guest;
	s->anonymous = r->anonymous;
	s->uid = r->guest || r->anonymous ? 65534 : r->uid;
	s->gid = 65534;
	if (u->found) {
		if (r->guest || r->anonymous)
			s->uid = u->uid;
		s->gid = u->gid;
		free(s->groups);
		s->groups = u->groups;
		s->n_groups = u->n_groups;
		u->groups = NULL;
	}
	if (s->ident)
		vfs_ident_put(s->ident);
	s->ident = vfs_ident_get(s->uid, s->gid, s->groups, s->n_groups);
}

/* MS-SMB2 3.3.5.5.3: the session is established; derive keys and decide
 * signing and encryption. */
static NTSTATUS finish_session(struct smb2_req *req, struct session *s, const struct auth_result *r,
			       struct unix_identity *u, uint8_t sec_mode, uint16_t *flags)
{
	struct smb_conn *sc = req->sc;
	const struct conf *cf = sc->conf;
	bool reauth = s->state != SESSION_IN_PROGRESS;
	/* A user session is not re-authenticated into a guest one: an
	 * unknown user mapped to guest is a failed logon here. */
	if (reauth && !s->guest && !s->anonymous && r->guest)
		return STATUS_LOGON_FAILURE;
	if (reauth && s->user && !s->anonymous && !r->anonymous && r->user && strcasecmp(s->user, r->user) != 0)
		return STATUS_ACCESS_DENIED; /* 3.3.5.5.3: re-auth must be the same user */
	set_identity(s, r, u);
	*flags = 0;
	if (r->anonymous)
		*flags |= SMB2_SESSION_FLAG_IS_NULL;
	else if (r->guest)
		*flags |= SMB2_SESSION_FLAG_IS_GUEST;
	bool keyless = r->anonymous || r->guest || !r->have_session_key;
	if (!keyless && !reauth) {
		memcpy(s->session_key, r->session_key, 16);
		s->cipher = sc->dialect >= SMB2_DIALECT_300 ? sc->cipher : 0;
		s->signing_alg = sc->signing_alg;
		smb_derive_keys(s, sc->dialect, s->cipher, s->preauth);
		struct session_channel *ch = session_channel_find(s, req->conn);
		if (ch)
			memcpy(ch->signing_key, s->signing_key, 16);
		s->signing_required = sc->signing_required || (sec_mode & SMB2_NEGOTIATE_SIGNING_REQUIRED);
	}
	if (cf->smb_encrypt == CONF_REQUIRED) {
		if (keyless || !s->cipher)
			return STATUS_ACCESS_DENIED;
		s->encrypt_data = true;
	} else if (cf->smb_encrypt == CONF_DESIRED && !keyless && s->cipher) {
		s->encrypt_data = true;
	}
	if (s->encrypt_data)
		*flags |= SMB2_SESSION_FLAG_ENCRYPT_DATA;
	/* Sign the final response with the new key (3.3.5.5.3) unless it is
	 * about to be encrypted or there is no key. */
	if (!keyless && (sc->dialect >= SMB2_DIALECT_300 || s->signing_required || (req->hdr.flags & SMB2_FLAGS_SIGNED)))
		req->sign = true;
	s->state = SESSION_VALID;
	/* authenticated: the negotiate timeout and the pre-authentication
	 * PDU cap are over ("deadtime" may follow) */
	smb_conn_authenticated(sc, (uint64_t)s->uid + 1);
	return STATUS_SUCCESS;
}

/* MS-SMB2 3.3.5.5.3: a client reconnecting names its old session in
 * PreviousSessionId; when the same user owned it, it is logged off (its
 * opens close, pending notifies end with STATUS_NOTIFY_CLEANUP), except its
 * durable opens, which stay detached for the reconnect that follows
 * (smbtorture durable-open.reopen1a, file-position). */
static void end_previous_session(struct session *s, uint64_t prev_id)
{
	struct session *old = session_lookup(prev_id);
	if (!old)
		return;
	pthread_mutex_lock(&old->lock);
	bool same = old->state == SESSION_VALID && old->user && s->user && !old->anonymous && !old->guest &&
		    strcasecmp(old->user, s->user) == 0;
	pthread_mutex_unlock(&old->lock);
	if (same) {
		log_info("session %llx replaces session %llx", (unsigned long long)s->id, (unsigned long long)prev_id);
		session_disconnect(old);
	}
	session_put(old);
}

static NTSTATUS reply(struct smb2_req *req, uint16_t flags, const uint8_t *tok, size_t tok_len)
{
	if (tok_len > 0xFFFF)
		return STATUS_INTERNAL_ERROR;
	if (req_out_reserve(req, 16 + tok_len) < 0)
		return STATUS_NO_MEMORY;
	sess_setup_resp_encode(&req->out, flags, tok, (uint16_t)tok_len);
	return STATUS_SUCCESS;
}

/* Channel binding (MS-SMB2 3.3.5.5.2): a new connection joins an existing
 * session.  Every rejection leaves the target session exactly as it was
 * (unlike ksmbd's CVE-2026-31476): nothing of the session changes until the
 * bind has authenticated the same user. */
static NTSTATUS bind_check(struct smb2_req *req, struct session *s)
{
	struct smb_conn *sc = req->sc;
	if (!sc->conf->multi_channel || s->state == SESSION_IN_PROGRESS)
		return STATUS_REQUEST_NOT_ACCEPTED;
	/* The order of these checks is what Windows answers (smbtorture
	 * smb2.session.bind_negative_*): the AES-GMAC signing checks come
	 * before the dialect checks, so a GMAC session refuses a 2.x or 3.0
	 * channel with REQUEST_OUT_OF_SEQUENCE and a non-GMAC session refuses
	 * a GMAC channel with NOT_SUPPORTED. */
	int calg = sc->dialect >= SMB2_DIALECT_300 ? sc->signing_alg : CRYPTO_SIGN_HMAC_SHA256;
	bool s_gmac = s->signing_alg == CRYPTO_SIGN_AES_GMAC, c_gmac = calg == CRYPTO_SIGN_AES_GMAC;
	if (s_gmac && !c_gmac)
		return STATUS_REQUEST_OUT_OF_SEQUENCE;
	if (!s_gmac && c_gmac)
		return STATUS_NOT_SUPPORTED;
	if (sc->dialect < SMB2_DIALECT_300)
		return STATUS_REQUEST_NOT_ACCEPTED;
	if (s->dialect != sc->dialect)
		return STATUS_INVALID_PARAMETER;
	/* Every channel of a session seals with the cipher of the first. */
	if (sc->dialect == SMB2_DIALECT_311 && s->cipher != sc->cipher)
		return STATUS_INVALID_PARAMETER;
	if (s->guest || s->anonymous)
		return STATUS_NOT_SUPPORTED;
	if (s->state == SESSION_EXPIRED)
		return STATUS_NETWORK_SESSION_EXPIRED;
	return STATUS_SUCCESS;
}

/* The bind request is signed with Session.SigningKey.  Clients sign it
 * with the session's algorithm (Windows, Samba); accept the new
 * connection's algorithm as well (both need the key). */
static bool bind_signature_ok(struct smb2_req *req, const uint8_t key[16], int s_alg)
{
	int c_alg = req->sc->signing_alg;
	if (!(req->hdr.flags & SMB2_FLAGS_SIGNED))
		return false;
	if (smb_verify(s_alg, key, (uint8_t *)req->in_msg, req->in_len))
		return true;
	return c_alg != s_alg && smb_verify(c_alg, key, (uint8_t *)req->in_msg, req->in_len);
}

/* May this connection bind to s at all (3.3.5.5.2)?  *fresh: it has no
 * half-bound channel of s from an earlier leg. */
static NTSTATUS bind_admissible(struct smb2_req *req, struct session *s, bool *fresh)
{
	NTSTATUS st = bind_check(req, s);
	if (st) {
		log_debug("session %llx: bind refused: %s", (unsigned long long)s->id, nt_status_name(st));
		return st;
	}
	pthread_mutex_lock(&s->lock);
	struct session_channel *ch = session_channel_find(s, req->conn);
	bool already = ch && !ch->binding;
	*fresh = !ch;
	uint8_t main_key[16];
	memcpy(main_key, s->signing_key, 16);
	int s_alg = s->signing_alg;
	pthread_mutex_unlock(&s->lock);
	/* A connection that is already a channel of the session is not bound
	 * twice; its requests are signed with its own key, which a bind
	 * request never is (3.3.5.2.4). */
	if (already) {
		log_debug("session %llx: bind refused: connection is already a channel", (unsigned long long)s->id);
		return STATUS_ACCESS_DENIED;
	}
	/* The bind request is signed with the session's key (3.3.5.5.2). */
	if (!bind_signature_ok(req, main_key, s_alg)) {
		log_debug("session %llx: bind refused: request %s", (unsigned long long)s->id,
			  (req->hdr.flags & SMB2_FLAGS_SIGNED) ? "signature does not verify" : "not signed");
		return STATUS_ACCESS_DENIED;
	}
	return STATUS_SUCCESS;
}

/* The half-bound channel (a reference of this request's: another worker
 * may drop it from the session meanwhile) and its authentication, which is
 * this request's while it runs: a LOGOFF or a dying connection on another
 * worker frees what the channel holds.  *h NULL: out of memory. */
static struct session_channel *bind_take(struct smb2_req *req, struct session *s, bool fresh,
					 struct auth_holder **h)
{
	struct smb_conn *sc = req->sc;
	struct session_channel *ch = session_channel_add(s, req->conn);
	*h = NULL;
	if (!ch)
		return NULL;
	pthread_mutex_lock(&s->lock);
	if (fresh) {
		ch->binding = true;
		memcpy(ch->preauth, sc->preauth, 64);
		ch->auth = holder_new(sc);
		if (!s->auth_free)
			s->auth_free = (void (*)(void *))holder_free;
	}
	*h = ch->auth;
	ch->auth = NULL;
	if (sc->dialect == SMB2_DIALECT_311)
		smb_preauth_update(ch->preauth, req->in_msg, req->in_len);
	pthread_mutex_unlock(&s->lock);
	return ch;
}

/* Another leg follows: the channel keeps the authentication (*h moves to
 * it) if it is still there; 3.1.1: its preauth hash takes the response too
 * (after this handler: the request keeps the channel). */
static NTSTATUS bind_continue(struct smb2_req *req, struct session *s, struct session_channel *ch,
			      struct auth_holder **h)
{
	pthread_mutex_lock(&s->lock);
	bool kept = session_channel_find(s, req->conn) == ch;
	if (kept) {
		ch->auth = *h;
		*h = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	if (!kept)
		return STATUS_USER_SESSION_DELETED;
	if (req->sc->dialect == SMB2_DIALECT_311) {
		req->preauth_hash = ch->preauth;
		req->preauth_channel = ch;
	} else {
		session_channel_put(ch);
	}
	return STATUS_MORE_PROCESSING_REQUIRED;
}

/* The bind authenticated: the same user (3.3.5.5.2; guest or anonymous
 * answers are refused the same way) gets the channel its signing key. */
static NTSTATUS bind_complete(struct smb2_req *req, struct session *s, struct session_channel *ch,
			      const struct auth_result *r)
{
	if (r->guest || r->anonymous || !r->have_session_key || !r->user || !s->user ||
	    strcasecmp(r->user, s->user) != 0) {
		log_debug("session %llx: bind authenticated %s%s, session user %s", (unsigned long long)s->id,
			  r->user ? r->user : "(none)", r->guest ? " (guest)" : r->anonymous ? " (anonymous)" : "",
			  s->user ? s->user : "(none)");
		return STATUS_ACCESS_DENIED;
	}
	pthread_mutex_lock(&s->lock);
	bool bound = session_channel_find(s, req->conn) == ch;
	if (bound) {
		smb_derive_signing_key(r->session_key, req->sc->dialect, ch->preauth, ch->signing_key);
		ch->binding = false;
	}
	pthread_mutex_unlock(&s->lock);
	return bound ? STATUS_SUCCESS : STATUS_USER_SESSION_DELETED; /* logged off or disconnected meanwhile */
}

/* A failed bind forgets its half-bound channel; the session is untouched. */
static NTSTATUS bind_abandon(struct smb2_req *req, struct session *s, struct session_channel *ch,
			     struct auth_holder *h, NTSTATUS st)
{
	log_debug("session %llx: bind failed: %s", (unsigned long long)s->id, nt_status_name(st));
	pthread_mutex_lock(&s->lock);
	struct session_channel *gone = NULL;
	if (ch && ch->binding && session_channel_find(s, req->conn) == ch)
		gone = session_channel_unlink(s, req->conn);
	pthread_mutex_unlock(&s->lock);
	holder_free(h);
	session_channel_put(gone);
	session_channel_put(ch);
	return st;
}

static NTSTATUS cmd_session_bind(struct smb2_req *req, const struct sess_setup_req *q)
{
	/* The session is looked up first, whatever the connection: the
	 * refusal is signed with the session's key (smb2.session.bind_negative_smb202). */
	struct session *s = session_lookup(req->hdr.session_id);
	if (!s)
		return STATUS_USER_SESSION_DELETED;
	req->session = s;
	bool fresh;
	NTSTATUS st = bind_admissible(req, s, &fresh);
	if (st)
		return st;
	struct auth_holder *h;
	struct session_channel *ch = bind_take(req, s, fresh, &h);
	if (!ch)
		return STATUS_INSUFFICIENT_RESOURCES;
	if (!h)
		return bind_abandon(req, s, ch, h, STATUS_NO_MEMORY);
	uint8_t *tok = NULL;
	size_t tok_len = 0;
	enum auth_status as = auth_step(h->a, q->sec_buf, q->sec_len, &tok, &tok_len);
	if (as == AUTH_CONTINUE) {
		st = reply(req, 0, tok, tok_len);
		free(tok);
		if (!st)
			st = bind_continue(req, s, ch, &h);
		return st == STATUS_MORE_PROCESSING_REQUIRED ? st : bind_abandon(req, s, ch, h, st);
	}
	st = as != AUTH_OK ? (as == AUTH_INVALID ? STATUS_INVALID_PARAMETER : STATUS_LOGON_FAILURE)
			   : bind_complete(req, s, ch, auth_result(h->a));
	if (st) {
		free(tok);
		return bind_abandon(req, s, ch, h, st);
	}
	session_channel_put(ch);
	holder_free(h);
	smb_conn_authenticated(req->sc, (uint64_t)s->uid + 1); /* a bound channel is authenticated too */
	req->sign = true; /* signed with the new channel's key */
	st = reply(req, s->encrypt_data ? SMB2_SESSION_FLAG_ENCRYPT_DATA : 0, tok, tok_len);
	free(tok);
	log_info("session %llx: channel bound (%u channels)", (unsigned long long)s->id, s->n_channels);
	return st;
}

/* The client's address without the port ("192.0.2.7", "2001:db8::1"). */
static const char *peer_ip(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	snprintf(buf, len, "?");
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)len);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf, (socklen_t)len);
	return buf;
}

/* The client's name for the log: control characters and quotes as '?', so
 * a crafted name cannot forge a log line or a field. */
static void log_name(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
	for (char *p = dst; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\'')
			*p = '?';
}

/* A failed logon at the default level, for the admin and fail2ban
 * (docs/ADMIN.md): the address comes first, before anything the client
 * chose: "logon failed from ADDRESS: user 'DOMAIN\\NAME': REASON". */
static void log_logon_failure(struct smb2_req *req, const struct auth_result *r, const char *fallback)
{
	char ip[INET6_ADDRSTRLEN + 1], user[128], dom[64];
	log_name(user, sizeof(user), r ? r->tried_user : NULL);
	log_name(dom, sizeof(dom), r ? r->domain : NULL);
	log_warn("logon failed from %s: user '%s%s%s': %s", peer_ip(&req->conn->peer, ip, sizeof(ip)), dom,
		 dom[0] ? "\\" : "", user, r && r->failure ? r->failure : fallback);
}

/* A SESSION_SETUP with SessionId 0: a new session, with this connection as
 * its first channel; the reference moves to the request. */
static NTSTATUS setup_fresh(struct smb2_req *req, struct session **out)
{
	struct smb_conn *sc = req->sc;
	/* "max sessions per connection" */
	if (smb_conn_sessions(sc) >= (unsigned)sc->conf->max_sessions_conn)
		return STATUS_INSUFFICIENT_RESOURCES;
	struct session *s = session_new(sc->dialect, sc->client);
	if (!s)
		return STATUS_INSUFFICIENT_RESOURCES;
	struct session_channel *first = session_channel_add(s, req->conn);
	if (!first) {
		session_destroy(s);
		session_put(s);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	session_channel_put(first);
	memcpy(s->preauth, sc->preauth, 64);
	req->session = s;
	req->hdr.session_id = s->id;
	*out = s;
	return STATUS_SUCCESS;
}

/* Another leg, or a re-authentication (MS-SMB2 3.3.5.5.2): only on a
 * channel of the session, signed with the channel's key when it signs. */
static NTSTATUS setup_existing(struct smb2_req *req, struct session **out)
{
	struct smb_conn *sc = req->sc;
	struct session *s = session_lookup(req->hdr.session_id);
	if (!s)
		return STATUS_USER_SESSION_DELETED;
	req->session = s;
	*out = s;
	pthread_mutex_lock(&s->lock);
	struct session_channel *ch = session_channel_find(s, req->conn);
	bool on_channel = ch && !ch->binding;
	uint8_t key[16];
	memcpy(key, ch ? ch->signing_key : s->signing_key, 16);
	bool keyed = s->state != SESSION_IN_PROGRESS && !s->guest && !s->anonymous;
	bool required = s->signing_required;
	int alg = sc->dialect >= SMB2_DIALECT_300 ? sc->signing_alg : s->signing_alg;
	pthread_mutex_unlock(&s->lock);
	if (!on_channel || s->dialect != sc->dialect)
		return STATUS_USER_SESSION_DELETED;
	if (keyed && (req->hdr.flags & SMB2_FLAGS_SIGNED) &&
	    !smb_verify(alg, key, (uint8_t *)req->in_msg, req->in_len))
		return STATUS_ACCESS_DENIED;
	if (keyed && !(req->hdr.flags & SMB2_FLAGS_SIGNED) && !req->encrypted && required)
		return STATUS_ACCESS_DENIED;
	return STATUS_SUCCESS;
}

/* The session's authentication in progress, taken out of it while this
 * request runs a step (two legs on two channels at once must not share
 * one NTLM state); a new one for a first logon or a re-authentication. */
static struct auth_holder *setup_take_auth(struct smb2_req *req, struct session *s)
{
	struct smb_conn *sc = req->sc;
	pthread_mutex_lock(&s->lock);
	struct auth_holder *h = s->auth;
	s->auth = NULL;
	if (!h) {
		h = holder_new(sc);
		s->auth_free = (void (*)(void *))holder_free;
		if (s->state != SESSION_IN_PROGRESS)
			memcpy(s->preauth, sc->preauth, 64);
	}
	if (h && sc->dialect == SMB2_DIALECT_311)
		smb_preauth_update(s->preauth, req->in_msg, req->in_len);
	pthread_mutex_unlock(&s->lock);
	return h;
}

/* The logon succeeded: identity (looked up with no lock held), keys,
 * signing and encryption; then the previous session it replaces goes. */
static NTSTATUS setup_done(struct smb2_req *req, struct session *s, const struct sess_setup_req *q,
			   struct auth_holder *h, const uint8_t *tok, size_t tok_len)
{
	struct unix_identity u;
	uint16_t flags = 0;
	resolve_unix_identity(auth_result(h->a), req->sc->conf, &u);
	if (u.pam && u.pam_result != AUTH_PAM_OK) {
		free(u.groups);
		metrics_add(&metrics.auth_failures, 1);
		log_logon_failure(req, auth_result(h->a), auth_pam_result_name(u.pam_result));
		return u.pam_result == AUTH_PAM_EXPIRED	    ? STATUS_ACCOUNT_EXPIRED
		     : u.pam_result == AUTH_PAM_MUST_CHANGE ? STATUS_PASSWORD_MUST_CHANGE
							    : STATUS_LOGON_FAILURE;
	}
	pthread_mutex_lock(&s->lock);
	NTSTATUS st = finish_session(req, s, auth_result(h->a), &u, q->security_mode, &flags);
	pthread_mutex_unlock(&s->lock);
	free(u.groups);
	if (st == STATUS_SUCCESS)
		st = reply(req, flags, tok, tok_len);
	if (st == STATUS_SUCCESS) {
		log_info("session %llx: user %s%s", (unsigned long long)s->id, s->user,
			 s->guest ? " (guest)" : s->anonymous ? " (anonymous)" : "");
		if (q->previous_session_id && q->previous_session_id != s->id)
			end_previous_session(s, q->previous_session_id);
	}
	return st;
}

NTSTATUS cmd_session_setup(struct smb2_req *req)
{
	struct smb_conn *sc = req->sc;
	struct sess_setup_req q;
	if (!sc->negotiated)
		return STATUS_INVALID_PARAMETER;
	if (sess_setup_req_decode(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	if (q.flags & SMB2_SESSION_FLAG_BINDING)
		return cmd_session_bind(req, &q);
	struct session *s = NULL;
	NTSTATUS st = req->hdr.session_id == 0 ? setup_fresh(req, &s) : setup_existing(req, &s);
	if (st)
		return st;
	struct auth_holder *h = setup_take_auth(req, s);
	if (!h)
		return STATUS_NO_MEMORY;
	uint8_t *tok = NULL;
	size_t tok_len = 0;
	enum auth_status as = auth_step(h->a, q.sec_buf, q.sec_len, &tok, &tok_len);
	if (as == AUTH_CONTINUE) {
		st = reply(req, 0, tok, tok_len);
		if (st == STATUS_SUCCESS) {
			st = STATUS_MORE_PROCESSING_REQUIRED;
			if (sc->dialect == SMB2_DIALECT_311)
				req->preauth_hash = s->preauth;
			pthread_mutex_lock(&s->lock); /* the next leg continues it */
			if (!s->auth) {
				s->auth = h;
				h = NULL;
			}
			pthread_mutex_unlock(&s->lock);
		}
	} else if (as == AUTH_OK) {
		st = setup_done(req, s, &q, h, tok, tok_len);
	} else {
		st = as == AUTH_INVALID ? STATUS_INVALID_PARAMETER
		   : as == AUTH_NO_MEMORY ? STATUS_NO_MEMORY : STATUS_LOGON_FAILURE;
		metrics_add(&metrics.auth_failures, 1);
		if (as != AUTH_NO_MEMORY)
			log_logon_failure(req, auth_attempt(h->a), as == AUTH_INVALID ? "malformed request" : "logon failure");
	}
	holder_free(h);
	free(tok);
	if (nt_is_error(st) && st != STATUS_MORE_PROCESSING_REQUIRED) {
		/* MS-SMB2 3.3.5.5.3: a failed authentication removes the session. */
		log_debug("session %llx: authentication failed: %s; session removed",
			  (unsigned long long)s->id, nt_status_name(st));
		session_destroy(s);
	}
	return st;
}
