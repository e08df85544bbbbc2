/* The server's network interfaces as FSCTL_QUERY_NETWORK_INTERFACE_INFO
 * reports them to multichannel clients ([MS-SMB2] 2.2.32.5, 3.3.5.15.11).
 *
 * The system list (getifaddrs + ethtool) is cached for NETIF_CACHE_SECS and
 * re-read after; "interfaces" from the configuration filters it (names,
 * addresses, CIDR networks) and may override if_index / speed / capability
 * with Samba's syntax "eth0;if_index=65,speed=1000000000,capability=RSS".
 * Loopback addresses are reported only when an "interfaces" entry names
 * them; IPv6 link-local addresses and interfaces that are down never. */
#ifndef SMB3D_MC_NETIF_H
#define SMB3D_MC_NETIF_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

#define NETIF_CACHE_SECS 10
#define NETIF_DEFAULT_SPEED 1000000000ull /* bits/s when the driver does not say */

struct netif {
	char name[IF_NAMESIZE];
	uint32_t if_index;
	uint64_t speed;        /* bits per second */
	bool rss, rdma;
	bool ipv6;
	bool loopback;
	uint8_t addr[16];      /* network byte order; IPv4 in addr[0..3] */
	uint32_t scope_id;     /* IPv6 */
};

/* The interfaces to announce under configuration `cf`: *out is a malloc'd
 * array (NULL when n == 0).  Returns 0 or -errno. */
int netif_list(const struct conf *cf, struct netif **out, size_t *n);

/* The filter alone (pure; for tests): from the system candidates `sys`,
 * keep what `ifaces` selects (all non-loopback ones when n_ifaces == 0) and
 * apply the per-entry overrides.  Returns 0 or -ENOMEM. */
int netif_select(const struct conf_iface *ifaces, size_t n_ifaces, const struct netif *sys, size_t n_sys,
		 struct netif **out, size_t *n);

/* Does entry `spec` ("eth0", "192.168.1.5", "10.0.0.0/8",
 * "10.0.0.0/255.0.0.0", "fe80::/10") select `nif`? */
bool netif_match(const char *spec, const struct netif *nif);

/* Forget the cache (tests, configuration reload). */
void netif_cache_flush(void);

#endif
