/* Samba's % substitutions (smb.conf(5) "VARIABLE SUBSTITUTIONS") for the
 * ones an admin uses: %U %u user, %G %g primary group, %S share, %H home
 * directory, %h host name, %L server NetBIOS name, %v version, %I and %m
 * client address (smb3d has no client NetBIOS name), %%.  A variable
 * whose value is not known (NULL in the context) stays as written. */
#include "conf/conf_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *value_of(char v, const struct conf_subst *s)
{
	switch (v) {
	case 'U': case 'u': return s->user;
	case 'G': case 'g': return s->group;
	case 'S': return s->share;
	case 'H': return s->home;
	case 'h': return s->hostname;
	case 'L': return s->netbios_name;
	case 'v': return SMB3D_VERSION;
	case 'I': case 'm': return s->client;
	case '%': return "%";
	default: return NULL;
	}
}

char *conf_subst(const char *in, const struct conf_subst *s)
{
	size_t cap = strlen(in) + 1, n = 0;
	char *out = conf_xcalloc(cap, 1);
	for (const char *p = in; *p; p++) {
		const char *v = p[0] == '%' && p[1] ? value_of(p[1], s) : NULL;
		size_t len = v ? strlen(v) : 1;
		if (n + len + 1 > cap) {
			cap = (n + len + 1) * 2;
			out = conf_xrealloc(out, cap);
		}
		if (v) {
			memcpy(out + n, v, len);
			p++;
		} else {
			out[n] = *p;
		}
		n += len;
	}
	out[n] = '\0';
	return out;
}

bool conf_has_subst(const char *in)
{
	return in && strchr(in, '%');
}
