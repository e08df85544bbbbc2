/* Unit tests of src/mc/netif.c: "interfaces" matching (names, addresses,
 * CIDR with prefix length or netmask), the loopback rule, overrides in
 * Samba's syntax, and the live system list. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "mc/netif.h"

static struct netif mk(const char *name, const char *addr, bool loopback)
{
	struct netif n;
	memset(&n, 0, sizeof(n));
	snprintf(n.name, sizeof(n.name), "%s", name);
	if (inet_pton(AF_INET, addr, n.addr) != 1) {
		assert_int_equal(inet_pton(AF_INET6, addr, n.addr), 1);
		n.ipv6 = true;
	}
	n.loopback = loopback;
	n.if_index = 7;
	n.speed = NETIF_DEFAULT_SPEED;
	return n;
}

static void test_match(void **state)
{
	(void)state;
	struct netif e = mk("eth0", "192.168.1.5", false);
	struct netif e6 = mk("eth0", "2001:db8::5", false);
	assert_true(netif_match("eth0", &e));
	assert_false(netif_match("eth1", &e));
	assert_false(netif_match("eth", &e));
	assert_true(netif_match("192.168.1.5", &e));
	assert_false(netif_match("192.168.1.6", &e));
	assert_true(netif_match("192.168.1.0/24", &e));
	assert_true(netif_match("192.168.0.0/16", &e));
	assert_false(netif_match("192.168.2.0/24", &e));
	assert_true(netif_match("192.168.1.0/255.255.255.0", &e));
	assert_false(netif_match("192.168.1.0/255.0.255.0", &e)); /* not contiguous */
	assert_true(netif_match("0.0.0.0/0", &e));
	assert_false(netif_match("192.168.1.0/33", &e));
	assert_false(netif_match("192.168.1.0/", &e));
	assert_false(netif_match("10.0.0.0/8", &e));
	assert_true(netif_match("2001:db8::/32", &e6));
	assert_false(netif_match("2001:db8::/32", &e));
	assert_false(netif_match("192.168.0.0/16", &e6));
	assert_true(netif_match("2001:db8::5", &e6));
	assert_false(netif_match("", &e));
	assert_false(netif_match(NULL, &e));
}

static struct conf *load(const char *text)
{
	struct conf *c = conf_load_string(text, "t.conf", stderr, NULL);
	assert_non_null(c);
	return c;
}

static void test_select_default(void **state)
{
	(void)state;
	struct netif sys[3] = { mk("lo", "127.0.0.1", true), mk("eth0", "10.1.2.3", false),
				mk("eth0", "2001:db8::1", false) };
	struct netif *v;
	size_t n;
	assert_int_equal(netif_select(NULL, 0, sys, 3, &v, &n), 0);
	assert_int_equal(n, 2); /* loopback only when named */
	assert_string_equal(v[0].name, "eth0");
	assert_false(v[0].ipv6);
	assert_true(v[1].ipv6);
	free(v);
	assert_int_equal(netif_select(NULL, 0, sys, 1, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
}

static void test_select_config(void **state)
{
	(void)state;
	struct conf *c = load("[global]\n interfaces = lo \"eth0;if_index=65,speed=25000000000,capability=RSS\" 10.9.0.0/16\n");
	struct netif sys[5] = { mk("lo", "127.0.0.1", true), mk("eth0", "10.1.2.3", false),
				mk("eth1", "10.2.0.1", false), mk("eth2", "10.9.8.7", false),
				mk("eth0", "2001:db8::1", false) };
	struct netif *v;
	size_t n;
	assert_int_equal(netif_select(c->ifaces, c->n_ifaces, sys, 5, &v, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0].name, "lo");
	assert_int_equal(v[0].if_index, 7);
	assert_string_equal(v[1].name, "eth0");
	assert_int_equal(v[1].if_index, 65);
	assert_true(v[1].speed == 25000000000ull);
	assert_true(v[1].rss);
	assert_false(v[1].rdma);
	assert_string_equal(v[2].name, "eth2");
	assert_false(v[2].rss);
	assert_true(v[2].speed == NETIF_DEFAULT_SPEED);
	assert_string_equal(v[3].name, "eth0"); /* the IPv6 address of eth0 */
	assert_true(v[3].ipv6);
	assert_int_equal(v[3].if_index, 65);
	free(v);
	conf_free(c);

	c = load("[global]\n interfaces = \"127.0.0.1;capability=RDMA\"\n");
	assert_int_equal(netif_select(c->ifaces, c->n_ifaces, sys, 5, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_true(v[0].loopback);
	assert_true(v[0].rdma);
	free(v);
	conf_free(c);
}

/* The live list: loopback is there when configured, with sane values,
 * and the cache answers the same twice. */
static void test_system(void **state)
{
	(void)state;
	struct conf *c = load("[global]\n interfaces = lo\n");
	struct netif *v;
	size_t n;
	assert_int_equal(netif_list(c, &v, &n), 0);
	if (n == 0) { /* a sandbox without lo up */
		conf_free(c);
		skip();
	}
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(v[i].name, "lo");
		assert_true(v[i].if_index > 0);
		assert_true(v[i].speed > 0);
		if (v[i].ipv6) {
			uint8_t l6[16] = { [15] = 1 };
			assert_memory_equal(v[i].addr, l6, 16);
		}
	}
	struct netif *w;
	size_t m;
	assert_int_equal(netif_list(c, &w, &m), 0);
	assert_int_equal(m, n);
	assert_memory_equal(v, w, n * sizeof(*v));
	free(v);
	free(w);
	netif_cache_flush();
	assert_int_equal(netif_list(c, &w, &m), 0);
	assert_int_equal(m, n);
	free(w);
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_select_default),
		cmocka_unit_test(test_select_config),
		cmocka_unit_test(test_system),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
