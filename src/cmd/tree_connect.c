/* TREE_CONNECT ([MS-SMB2] 3.3.5.7) */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/share_policy.h"
#include "cmd/share_token.h"
#include "net/conn.h"
#include "util/log.h"
#include "util/utf16.h"
#include "wire/tree.h"

/* Access masks granted on a share ([MS-SMB2] 2.2.10 MaximalAccess). */
#define ACCESS_FULL 0x001F01FFu
#define ACCESS_READ 0x001200A9u

/* "\\server\share" -> "share" (a pointer into `path`, `len` bytes), or
 * NULL.  A NUL inside the counted name ("\\server\share\0x") makes it
 * another name than the one a C string would read: no share has it. */
static const char *share_name_of(const char *path, size_t len)
{
	if (strlen(path) != len)
		return NULL;
	if (path[0] != '\\' || path[1] != '\\')
		return NULL;
	const char *s = strchr(path + 2, '\\');
	if (!s || !s[1] || strchr(s + 1, '\\'))
		return NULL;
	return s + 1;
}

/* Who may connect, and whether read-only (Samba's order):
 * - "available = no" and the share's "hosts allow"/"hosts deny" refuse
 *   everyone they name, logged at the default level;
 * - guests and anonymous only where "guest ok" (IPC$ always);
 * - users per "invalid users", "valid users", then "read list" and
 *   "write list" (conf_share_access). */
static NTSTATUS tree_connect_allowed(struct smb2_req *req, const struct conf *cf, const struct conf_share *sh,
                                     bool *read_only)
{
	struct session *s = req->session;
	const char *user = s->user ? s->user : "-", *why = NULL;
	char a[64];
	NTSTATUS st = STATUS_ACCESS_DENIED;
	if (!sh->available) {
		why = "available = no";
		st = STATUS_BAD_NETWORK_NAME; /* as Samba answers */
	} else if (!conf_share_host_allowed(sh, (const struct sockaddr *)&req->conn->peer)) {
		why = "hosts allow / hosts deny of the share";
	}
	if (why) {
		log_warn("tree connect to [%s] by %s from %s refused: %s", sh->name, user,
		         conn_addr_str(&req->conn->peer, a, sizeof(a)), why);
		return st;
	}
	if (sh->ipc)
		return STATUS_SUCCESS;
	if (s->guest || s->anonymous) {
		if (!sh->guest_ok)
			return STATUS_ACCESS_DENIED;
		user = cf->guest_account; /* a guest is the guest account for the user lists */
	}
	if (!conf_share_access(sh, user, read_only, &why)) {
		log_notice("tree connect to [%s] by %s from %s refused: %s", sh->name, user,
		           conn_addr_str(&req->conn->peer, a, sizeof(a)), why);
		return STATUS_ACCESS_DENIED;
	}
	return STATUS_SUCCESS;
}

/* Encryption per share ("smb encrypt" inherits the global value).  A
 * share that requires it refuses a session without a cipher, a guest and
 * anonymous. */
static NTSTATUS share_encryption(const struct conf *cf, const struct conf_share *sh,
				 const struct session *s, bool *encrypt)
{
	int enc = sh->smb_encrypt >= 0 ? sh->smb_encrypt : cf->smb_encrypt;
	bool can = s->cipher && !s->guest && !s->anonymous;
	*encrypt = false;
	if (enc == CONF_REQUIRED) {
		if (!can)
			return STATUS_ACCESS_DENIED;
		*encrypt = true;
	} else if (enc == CONF_DESIRED && can) {
		*encrypt = true;
	}
	return STATUS_SUCCESS;
}

/* "max tree connects per session": each tree holds the share root's
 * descriptor; past the bound the table is full, as Samba answers. */
static bool tree_limit_reached(struct session *s, const struct conf *cf)
{
	pthread_mutex_lock(&s->lock);
	size_t n_trees = s->trees.n;
	pthread_mutex_unlock(&s->lock);
	if (n_trees < (size_t)cf->max_tree_connects)
		return false;
	log_notice("session %llx: %zu tree connects is the limit (max tree connects per session)",
		   (unsigned long long)s->id, n_trees);
	return true;
}

/* Opens the share root, makes the tree within the share's "max
 * connections" and encodes the response. */
static NTSTATUS tree_make(struct smb2_req *req, const struct conf_share *sh, bool read_only,
			  bool encrypt)
{
	struct session *s = req->session;
	int fd = -1;
	if (!sh->ipc) {
		fd = open(sh->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			log_warn("share [%s]: cannot open path %s: %m", sh->name, sh->path);
			return STATUS_BAD_NETWORK_NAME;
		}
	}
	/* who the tree's operations run as: "force user" / "force group" */
	struct token tok;
	bool own_tok;
	NTSTATUS st = share_token(s, sh, &tok, &own_tok);
	/* a share's "max connections": counted and the tree made under one lock */
	if (st == STATUS_SUCCESS && !share_limit_enter(sh))
		st = STATUS_INSUFFICIENT_RESOURCES;
	if (st != STATUS_SUCCESS) {
		if (own_tok)
			share_token_free(&tok);
		if (fd >= 0)
			close(fd);
		return st;
	}
	struct tree *t = tree_new(s, sh, fd, own_tok ? &tok : NULL);
	share_limit_leave(sh);
	if (own_tok)
		share_token_free(&tok);
	if (!t) {
		if (fd >= 0)
			close(fd);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	t->read_only = read_only;
	t->encrypt = encrypt;
	t->maximal_access = sh->ipc ? ACCESS_FULL : read_only ? ACCESS_READ : ACCESS_FULL;
	req->hdr.tree_id = t->id; /* the response carries the new TreeId */
	struct tree_connect_resp p = {
		.share_type = sh->ipc ? SMB2_SHARE_TYPE_PIPE : SMB2_SHARE_TYPE_DISK,
		/* "hide unreadable" is access-based enumeration (MS-SMB2 2.2.10) */
		.share_flags = (encrypt ? SMB2_SHAREFLAG_ENCRYPT_DATA : 0) |
			       (sh->hide_unreadable ? SMB2_SHAREFLAG_ACCESS_BASED_DIRECTORY_ENUM : 0),
		.capabilities = 0,
		.maximal_access = t->maximal_access,
	};
	tree_connect_resp_encode(&req->out, &p);
	log_debug("session %llx: tree %u -> [%s]", (unsigned long long)s->id, t->id, sh->name);
	return STATUS_SUCCESS;
}

/* The checks in order (signing, share, who, encryption, limit), then the
 * tree.  `sh` is NULL when no share has the name. */
static NTSTATUS tree_connect_share(struct smb2_req *req, const struct conf *cf,
				   const struct conf_share *sh)
{
	struct session *s = req->session;
	/* [MS-SMB2] 3.3.5.7: on 3.1.1 a user's (not a guest's or anonymous)
	 * TREE_CONNECT must be signed or encrypted, else the server disconnects
	 * -- clients sign it always (3.2.4.1.1), so this is a downgrade attempt. */
	if (req->sc->dialect == SMB2_DIALECT_311 && s && !s->guest && !s->anonymous &&
	    !req->signed_ok && !req->encrypted) {
		req_disconnect(req, "unsigned 3.1.1 TREE_CONNECT");
		return STATUS_ACCESS_DENIED;
	}
	if (!sh)
		return STATUS_BAD_NETWORK_NAME;
	bool read_only = sh->read_only, encrypt;
	NTSTATUS st = tree_connect_allowed(req, cf, sh, &read_only);
	if (st != STATUS_SUCCESS)
		return st;
	st = share_encryption(cf, sh, s, &encrypt);
	if (st != STATUS_SUCCESS)
		return st;
	if (tree_limit_reached(s, cf))
		return STATUS_INSUFFICIENT_RESOURCES;
	return tree_make(req, sh, read_only, encrypt);
}

NTSTATUS cmd_tree_connect(struct smb2_req *req)
{
	struct tree_connect_req q;
	if (tree_connect_req_decode(&req->in, &q) < 0)
		return STATUS_INVALID_PARAMETER;
	char *path = NULL;
	size_t path_len = 0;
	if (utf16le_to_utf8(q.path, q.path_len, &path, &path_len) < 0)
		return STATUS_BAD_NETWORK_NAME;
	struct conf *cf = conf_current_get(); /* new shares appear after a reload */
	const char *name = share_name_of(path, path_len);
	struct conf_share *owned = NULL; /* a share made for this connection ([homes], %U ...) */
	const struct conf_share *sh = name ? share_for_connect(req, cf, name, &owned) : NULL;
	NTSTATUS st = tree_connect_share(req, cf, sh);
	conf_share_free(owned);
	conf_current_put(cf);
	free(path);
	return st;
}
