#include "cmd/share_policy.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/conf.h"
#include "state/state.h"
#include "vfs/vfs.h"

static int fold(int c, bool ci)
{
	return ci && c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* '*' any run, '?' one character; iterative, backtracking only to the last
 * '*' (linear in practice, never exponential). */
static bool wild_match(const char *pat, const char *s, size_t len, bool ci)
{
	const char *star = NULL, *p = pat;
	size_t i = 0, mark = 0;
	while (i < len) {
		if (*p == '*') {
			star = p++;
			mark = i;
		} else if (*p && (*p == '?' || fold((unsigned char)*p, ci) == fold((unsigned char)s[i], ci))) {
			p++;
			i++;
		} else if (star) {
			p = star + 1;
			i = ++mark;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

static bool list_matches(const struct conf_list *l, const char *name, size_t len, bool ci)
{
	for (size_t i = 0; i < l->n; i++)
		if (wild_match(l->v[i], name, len, ci))
			return true;
	return false;
}

bool share_name_vetoed(const struct conf_share *s, const char *name, size_t len)
{
	return s && s->veto_files.n && list_matches(&s->veto_files, name, len, s->case_insensitive);
}

bool share_name_hidden(const struct conf_share *s, const char *name)
{
	if (!s)
		return false;
	const char *last = strrchr(name, '/');
	last = last ? last + 1 : name;
	if (s->hide_dot_files && last[0] == '.' && strcmp(last, ".") && strcmp(last, ".."))
		return true;
	return s->hide_files.n && list_matches(&s->hide_files, last, strlen(last), s->case_insensitive);
}

/* The parent directory's mode, or 0 if it cannot be read. */
static mode_t parent_mode(struct smb2_req *req, int root, const char *path)
{
	struct statx st;
	const char *slash = strrchr(path, '/');
	char *parent = slash ? strndup(path, (size_t)(slash - path)) : NULL;
	int r = parent ? vfs_statx(req->session->ident, root, parent, 0, STATX_MODE, &st)
	               : vfs_statx(req->session->ident, root, "", AT_EMPTY_PATH, STATX_MODE, &st);
	free(parent);
	return r < 0 ? 0 : st.stx_mode & 07777;
}

mode_t share_new_mode(struct smb2_req *req, int root, const char *path, bool dir)
{
	const struct conf_share *s = req->tree ? req->tree->share : NULL;
	if (!s)
		return dir ? 0755 : 0644;
	/* a new file has the archive attribute: "map archive" makes it u+x */
	mode_t archive = !dir && s->map_archive ? S_IXUSR : 0;
	if (s->inherit_permissions) {
		mode_t pm = parent_mode(req, root, path);
		if (pm)
			return dir ? pm & ~(mode_t)S_ISUID : (pm & 0666) | archive;
	}
	if (dir)
		return (0777 & s->directory_mask) | s->force_directory_mode;
	return ((0666 | archive) & s->create_mask) | s->force_create_mode;
}

void share_fix_mode(struct smb2_req *req, int fd, mode_t mode)
{
	if (fd < 0 || !(mode & (S_ISUID | S_ISGID | S_ISVTX)))
		return;
	struct statx st;
	if (vfs_statx(req->session->ident, fd, "", AT_EMPTY_PATH, STATX_MODE, &st) < 0)
		return;
	if ((st.stx_mode & 07777) != mode)
		(void)vfs_fchmod(req->session->ident, fd, mode);
}
