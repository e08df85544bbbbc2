/* Network interface list for FSCTL_QUERY_NETWORK_INTERFACE_INFO (see
 * netif.h).  The system part (getifaddrs, ethtool ioctls, sysfs) is slow
 * enough that it is cached; the configuration filter runs on every call
 * because a reload may change "interfaces". */
#include "mc/netif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- matching (pure) ---- */

static bool parse_addr(const char *s, bool *v6, uint8_t a[16])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, a) == 1) {
		*v6 = false;
		return true;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*v6 = true;
		return true;
	}
	return false;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rem = bits % 8;
	if (memcmp(a, b, bytes))
		return false;
	if (!rem)
		return true;
	uint8_t mask = (uint8_t)(0xFFu << (8 - rem));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

/* Mask "255.255.0.0" -> 16; -1 when not a contiguous IPv4 mask. */
static int mask_bits(const char *s)
{
	uint8_t m[4];
	if (inet_pton(AF_INET, s, m) != 1)
		return -1;
	uint32_t v = ((uint32_t)m[0] << 24) | ((uint32_t)m[1] << 16) | ((uint32_t)m[2] << 8) | m[3];
	int bits = 0;
	while (bits < 32 && (v & (0x80000000u >> bits)))
		bits++;
	if (bits < 32 && (v << bits))
		return -1;
	return bits;
}

bool netif_match(const char *spec, const struct netif *nif)
{
	if (!spec || !*spec)
		return false;
	const char *slash = strchr(spec, '/');
	char buf[INET6_ADDRSTRLEN + 1];
	uint8_t a[16];
	bool v6;
	if (slash) {
		size_t l = (size_t)(slash - spec);
		if (l >= sizeof(buf))
			return false;
		memcpy(buf, spec, l);
		buf[l] = '\0';
		if (!parse_addr(buf, &v6, a) || v6 != nif->ipv6)
			return false;
		const char *m = slash + 1;
		int bits;
		char *end;
		long x = strtol(m, &end, 10);
		if (*m && !*end && x >= 0 && x <= (v6 ? 128 : 32))
			bits = (int)x;
		else if (!v6 && (bits = mask_bits(m)) >= 0)
			;
		else
			return false;
		return prefix_equal(a, nif->addr, (unsigned)bits);
	}
	if (parse_addr(spec, &v6, a))
		return v6 == nif->ipv6 && !memcmp(a, nif->addr, v6 ? 16 : 4);
	return !strcmp(spec, nif->name);
}

int netif_select(const struct conf_iface *ifaces, size_t n_ifaces, const struct netif *sys, size_t n_sys,
		 struct netif **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!n_sys)
		return 0;
	struct netif *v = calloc(n_sys, sizeof(*v));
	if (!v)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n_sys; i++) {
		const struct netif *s = &sys[i];
		const struct conf_iface *hit = NULL;
		for (size_t j = 0; j < n_ifaces && !hit; j++)
			if (netif_match(ifaces[j].name, s))
				hit = &ifaces[j];
		if (n_ifaces ? !hit : s->loopback)
			continue;
		v[k] = *s;
		if (hit) {
			if (hit->if_index)
				v[k].if_index = hit->if_index;
			if (hit->speed)
				v[k].speed = hit->speed;
			if (hit->rss)
				v[k].rss = true;
			if (hit->rdma)
				v[k].rdma = true;
		}
		k++;
	}
	if (!k) {
		free(v);
		v = NULL;
	}
	*out = v;
	*n = k;
	return 0;
}

/* ---- the system list ---- */

/* Link speed in bits/s from ethtool (ETHTOOL_GLINKSETTINGS, whose first
 * call negotiates the size of the link-mode bitmaps), then sysfs; 0 when
 * the driver does not know (virtual devices, loopback). */
static uint64_t link_speed(int sock, const char *name)
{
	struct {
		struct ethtool_link_settings s;
		uint32_t maps[3 * 127];
	} ls;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	memset(&ls, 0, sizeof(ls));
	ls.s.cmd = ETHTOOL_GLINKSETTINGS;
	ifr.ifr_data = (void *)&ls;
	if (sock >= 0 && ioctl(sock, SIOCETHTOOL, &ifr) == 0 && ls.s.link_mode_masks_nwords < 0 &&
	    -ls.s.link_mode_masks_nwords <= 127) {
		int8_t nw = (int8_t)-ls.s.link_mode_masks_nwords;
		memset(&ls, 0, sizeof(ls));
		ls.s.cmd = ETHTOOL_GLINKSETTINGS;
		ls.s.link_mode_masks_nwords = nw;
		if (ioctl(sock, SIOCETHTOOL, &ifr) == 0 && ls.s.speed != 0 && ls.s.speed != (uint32_t)SPEED_UNKNOWN)
			return (uint64_t)ls.s.speed * 1000000u;
	}
	char path[64 + IF_NAMESIZE];
	snprintf(path, sizeof(path), "/sys/class/net/%s/speed", name);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	long long mbps = -1;
	if (fscanf(f, "%lld", &mbps) != 1)
		mbps = -1;
	fclose(f);
	return mbps > 0 ? (uint64_t)mbps * 1000000u : 0;
}

/* Receive-side scaling: more than one RX queue (ETHTOOL_GRXRINGS). */
static bool has_rss(int sock, const char *name)
{
	struct ethtool_rxnfc nfc;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	memset(&nfc, 0, sizeof(nfc));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	nfc.cmd = ETHTOOL_GRXRINGS;
	ifr.ifr_data = (void *)&nfc;
	return sock >= 0 && ioctl(sock, SIOCETHTOOL, &ifr) == 0 && nfc.data > 1;
}

static int read_system(struct netif **out, size_t *n)
{
	struct ifaddrs *ifa0;
	*out = NULL;
	*n = 0;
	if (getifaddrs(&ifa0) < 0)
		return -errno;
	size_t cap = 0;
	for (struct ifaddrs *i = ifa0; i; i = i->ifa_next)
		cap++;
	struct netif *v = calloc(cap ? cap : 1, sizeof(*v));
	if (!v) {
		freeifaddrs(ifa0);
		return -ENOMEM;
	}
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	size_t k = 0;
	for (struct ifaddrs *i = ifa0; i; i = i->ifa_next) {
		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_RUNNING))
			continue;
		struct netif *f = &v[k];
		memset(f, 0, sizeof(*f));
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)i->ifa_addr;
			memcpy(f->addr, &sin->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const void *)i->ifa_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
				continue;
			f->ipv6 = true;
			memcpy(f->addr, &sin6->sin6_addr, 16);
			f->scope_id = sin6->sin6_scope_id;
		} else {
			continue;
		}
		snprintf(f->name, sizeof(f->name), "%s", i->ifa_name);
		f->loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
		f->if_index = if_nametoindex(i->ifa_name);
		/* Same interface seen before: reuse its (slow) ethtool answers. */
		bool known = false;
		for (size_t j = 0; j < k; j++) {
			if (!strcmp(v[j].name, f->name)) {
				f->speed = v[j].speed;
				f->rss = v[j].rss;
				known = true;
				break;
			}
		}
		if (!known) {
			f->speed = link_speed(sock, f->name);
			if (!f->speed)
				f->speed = NETIF_DEFAULT_SPEED;
			f->rss = has_rss(sock, f->name);
		}
		k++;
	}
	if (sock >= 0)
		close(sock);
	freeifaddrs(ifa0);
	*out = v;
	*n = k;
	return 0;
}

/* The cached system interface list.  Leaf; the getifaddrs/ethtool scan
 * runs outside it. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct netif *cache;
static size_t cache_n;
static time_t cache_time;
static bool cache_valid;

static time_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void netif_cache_flush(void)
{
	pthread_mutex_lock(&cache_lock);
	free(cache);
	cache = NULL;
	cache_n = 0;
	cache_valid = false;
	pthread_mutex_unlock(&cache_lock);
}

int netif_list(const struct conf *cf, struct netif **out, size_t *n)
{
	int ret = 0;
	pthread_mutex_lock(&cache_lock);
	time_t now = mono_now();
	if (!cache_valid || now - cache_time >= NETIF_CACHE_SECS) {
		struct netif *v;
		size_t k;
		ret = read_system(&v, &k);
		if (ret == 0) {
			free(cache);
			cache = v;
			cache_n = k;
			cache_time = now;
			cache_valid = true;
		}
	}
	if (cache_valid) {
		ret = netif_select(cf ? cf->ifaces : NULL, cf ? cf->n_ifaces : 0, cache, cache_n, out, n);
		/* Nothing to offer: read the system again next time rather than
		 * answer "no interface" for NETIF_CACHE_SECS (links that were
		 * still coming up when the first client asked). */
		if (ret == 0 && *n == 0)
			cache_valid = false;
	}
	pthread_mutex_unlock(&cache_lock);
	return ret;
}
