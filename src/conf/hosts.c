/* "hosts allow" / "hosts deny" (Samba's option names and, for the forms
 * supported, its semantics): entries are IPv4/IPv6 addresses, CIDR blocks
 * (10.0.0.0/8, fd00::/8), Samba's IPv4 prefixes ("192.168.1."), and ALL.
 * A client matching "hosts allow" is let in; otherwise one matching
 * "hosts deny" is refused; with only "hosts allow" set, everyone else is
 * refused.  Host names are not supported (no resolver on the accept path). */
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
	return !strcasecmp(p, "ALL") || parse_pattern(p, &fam, a, &bits);
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
	if (!strcasecmp(p, "ALL"))
		return true;
	int fam;
	uint8_t a[16];
	unsigned bits;
	if (!parse_pattern(p, &fam, a, &bits) || fam != family)
		return false;
	return prefix_eq(a, addr, bits);
}

static bool match_list(char **list, size_t n, int family, const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++)
		if (match_one(list[i], family, addr))
			return true;
	return false;
}

bool conf_host_allowed(const struct conf *c, const struct sockaddr *sa)
{
	if (!c->n_hosts_allow && !c->n_hosts_deny)
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
	if (match_list(c->hosts_allow, c->n_hosts_allow, family, addr))
		return true;
	if (c->n_hosts_deny)
		return !match_list(c->hosts_deny, c->n_hosts_deny, family, addr);
	return false; /* only "hosts allow": everyone else is refused */
}
