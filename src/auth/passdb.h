/* Samba smbpasswd file format:
 *   name:uid:LMHASH:NTHASH:[UX         ]:LCT-XXXXXXXX:
 * 32 hex digits per hash, or 32 'X' (no password) / "NO PASSWORD..." for an
 * empty one; account flags between brackets (U normal user, D disabled,
 * N no password required, X password does not expire, W workstation trust).
 * Lines starting with '#' and blank lines are ignored. */
#ifndef SMB3D_PASSDB_H
#define SMB3D_PASSDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct passdb_entry {
	char *name;
	uint32_t uid;
	bool has_nt_hash;
	uint8_t nt_hash[16];
	bool disabled;      /* 'D' flag */
	bool no_password;   /* 'N' flag */
};

struct passdb {
	struct passdb_entry *users;
	size_t n_users;
};

/* Read a file.  -ENOENT when missing, -EINVAL for a malformed line (the line
 * number goes to *bad_line when not NULL). */
int passdb_load(const char *path, struct passdb **out, int *bad_line);
void passdb_free(struct passdb *db);
/* Case-insensitive lookup (Windows user names are). */
const struct passdb_entry *passdb_find(const struct passdb *db, const char *name);

/* NT hash = MD4(UTF-16LE(password)). */
int passdb_nt_hash(const char *password, uint8_t out[16]);

/* Add a user (-EEXIST if present) / change the password (-ENOENT if absent) /
 * delete (-ENOENT).  The file is rewritten to a temporary file in the same
 * directory, fsynced and renamed over the old one, mode 0600; it is created
 * when missing (add only).  uid: the unix uid to record (add only). */
int passdb_add(const char *path, const char *name, uint32_t uid, const char *password);
int passdb_set_password(const char *path, const char *name, const char *password);
int passdb_del(const char *path, const char *name);
/* Set or clear the 'D' (disabled) flag of an account (-ENOENT if absent):
 * a disabled account cannot log on; the server reads the file at each
 * logon, so this takes effect without a reload. */
int passdb_set_disabled(const char *path, const char *name, bool disabled);

#endif
