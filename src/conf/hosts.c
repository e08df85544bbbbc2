/* "hosts allow" / "hosts deny" (Samba's option names and, for the forms
 * supported, its semantics): entries are IPv4/IPv6 addresses, CIDR blocks
 * (10.0.0.0/8, fd00::/8), Samba's IPv4 prefixes ("192.168.1."), and ALL.
 * "localhost" (127.0.0.1 and ::1), and "A B EXCEPT C D" (matches A or B
 * but neither C nor D).
 * A client matching "hosts allow" is let in; otherwise one matching
 * "hosts deny" is refused; with only "hosts allow" set, everyone else is
 * refused.  Other host names are a configuration error (no resolver on the
 * accept path), so a list is never silently narrower or wider than written.
 * Samba always lets loopback in unless "hosts deny" names it; smb3d applies
 * the lists to loopback like to any address (stricter). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "conf/conf.h"
#include "conf/conf_internal.h"

/* Parse one entry into family/address/prefix length; false if malformed. */
static bool parse_pattern(const char *p, int *family, uint8_t addr[16], unsigned *bits)
{
	char buf[80];
	if (strlen(p) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", p);
	size_t len = strlen(buf);
	if (len && buf[len - 1] == '.') {
		/* "192.168.1." : a prefix of whole octets */
		unsigned octets = 0;
		for (size_t i = 0; i < len; i++)
			octets += buf[i] == '.';
		while (octets < 4) {
			strncat(buf, "0.", sizeof(buf) - strlen(buf) - 1);
			octets++;
		}
		buf[strlen(buf) - 1] = 0;
		unsigned given = 0;
		for (size_t i = 0; i < len; i++)
			given += p[i] == '.';
		*bits = 8 * given;
		*family = AF_INET;
		return inet_pton(AF_INET, buf, addr) == 1;
	}
	char *slash = strchr(buf, '/');
	long b = -1;
	if (slash) {
		*slash = 0;
		char *end;
		b = strtol(slash + 1, &end, 10);
		if (*end || b < 0)
			return false;
	}
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		*bits = b < 0 ? 32 : (unsigned)b;
		return *bits <= 32;
	}
	if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = AF_INET6;
		*bits = b < 0 ? 128 : (unsigned)b;
		return *bits <= 128;
	}
	return false;
}

bool conf_host_pattern_ok(const char *p)
{
	int fam;
	uint8_t a[16];
	unsigned bits;
	return !strcasecmp(p, "ALL") || !strcasecmp(p, "EXCEPT") || !strcasecmp(p, "localhost") ||
	       parse_pattern(p, &fam, a, &bits);
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, full))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xFF << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

static bool match_one(const char *p, int family, const uint8_t *addr)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	if (!strcasecmp(p, "ALL"))
		return true;
	if (!strcasecmp(p, "localhost"))
		return family == AF_INET ? addr[0] == 127 && addr[1] == 0 && addr[2] == 0 && addr[3] == 1
		                         : !memcmp(addr, lo6, 16);
	int fam;
	uint8_t a[16];
	unsigned bits;
	if (!parse_pattern(p, &fam, a, &bits) || fam != family)
		return false;
	return prefix_eq(a, addr, bits);
}

/* "A B EXCEPT C D": a match before the first EXCEPT that the rest of the
 * list (itself a list, so EXCEPT nests) does not match. */
static bool match_list(char *const *list, size_t n, int family, const uint8_t *addr)
{
	size_t i = 0;
	bool hit = false;
	for (; i < n && strcasecmp(list[i], "EXCEPT"); i++)
		hit = hit || match_one(list[i], family, addr);
	if (!hit || i == n)
		return hit;
	return !match_list(list + i + 1, n - i - 1, family, addr);
}

static bool lists_allow(char *const *allow, size_t n_allow, char *const *deny, size_t n_deny,
                        const struct sockaddr *sa)
{
	if (!n_allow && !n_deny)
		return true;
	int family = sa->sa_family;
	uint8_t addr[16];
	if (family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			family = AF_INET;
			memcpy(addr, a6->s6_addr + 12, 4);
		} else {
			memcpy(addr, a6->s6_addr, 16);
		}
	} else {
		return false;
	}
	if (match_list(allow, n_allow, family, addr))
		return true;
	if (n_deny)
		return !match_list(deny, n_deny, family, addr);
	return false; /* only "hosts allow": everyone else is refused */
}

bool conf_host_allowed(const struct conf *c, const struct sockaddr *sa)
{
	return lists_allow(c->hosts_allow, c->n_hosts_allow, c->hosts_deny, c->n_hosts_deny, sa);
}

bool conf_share_host_allowed(const struct conf_share *s, const struct sockaddr *sa)
{
	return lists_allow(s->hosts_allow.v, s->hosts_allow.n, s->hosts_deny.v, s->hosts_deny.n, sa);
}
