/* smb3c: command line.
 *
 *   smb3c ls  //HOST/SHARE[/PATH]
 *   smb3c get //HOST/SHARE/PATH LOCAL
 *   smb3c put LOCAL //HOST/SHARE/PATH
 *   smb3c bench //HOST/SHARE[/PATH] [--size 1G] [--read|--write]
 *   options: [-p PORT] [-U [DOMAIN\]USER%PASS] [--channels N] [--sign|--encrypt]
 *            [--chunk SIZE] [--depth N] [--max-dialect 2.1|3.0|3.0.2|3.1.1] [-v]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "crypto/crypto.h"
#include "smb3c.h"
#include "wire/ioctl.h"

#define FILE_READ_DATA 0x00000001u
#define FILE_WRITE_DATA 0x00000002u
#define FILE_READ_ATTRIBUTES 0x00000080u
#define FILE_WRITE_ATTRIBUTES 0x00000100u
#define DELETE_ACCESS 0x00010000u
#define SYNCHRONIZE 0x00100000u
#define FILE_OPEN 1u
#define FILE_OVERWRITE_IF 5u
#define FILE_DIRECTORY_FILE 0x00000001u
#define FILE_NON_DIRECTORY_FILE 0x00000040u
#define FILE_DELETE_ON_CLOSE 0x00001000u

struct opts {
	const char *port;
	char *user, *domain, *pass;
	int channels;
	bool sign, encrypt;
	uint32_t chunk;
	unsigned depth;
	uint64_t size;
	bool only_read, only_write;
	uint16_t max_dialect;
};

struct unc {
	char host[256], share[256], path[1024];
};

static void usage(void)
{
	fprintf(stderr,
		"usage: smb3c ls //HOST/SHARE[/PATH]\n"
		"       smb3c get //HOST/SHARE/PATH LOCAL\n"
		"       smb3c put LOCAL //HOST/SHARE/PATH\n"
		"       smb3c bench //HOST/SHARE[/PATH] [--size 1G] [--read|--write]\n"
		"options: [-p PORT] [-U [DOMAIN\\]USER%%PASS] [--channels N] [--sign|--encrypt]\n"
		"         [--chunk SIZE] [--depth N] [--max-dialect 2.1|3.0|3.0.2|3.1.1]\n"
		"         [--timeout SECS (a silent channel is dead after it; 0: TCP defaults)] [-v]\n");
	exit(2);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	switch (*end) {
	case 'k': case 'K': v *= 1024; break;
	case 'm': case 'M': v *= 1024 * 1024; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; break;
	case 0: break;
	default: fprintf(stderr, "smb3c: bad size %s\n", s); exit(2);
	}
	return (uint64_t)v;
}

static int parse_unc(const char *s, struct unc *u)
{
	memset(u, 0, sizeof(*u));
	if (!((s[0] == '/' && s[1] == '/') || (s[0] == '\\' && s[1] == '\\')))
		return -EINVAL;
	s += 2;
	size_t n = strcspn(s, "/\\");
	if (!n || n >= sizeof(u->host))
		return -EINVAL;
	memcpy(u->host, s, n);
	s += n;
	if (!*s)
		return -EINVAL;
	s++;
	n = strcspn(s, "/\\");
	if (!n || n >= sizeof(u->share))
		return -EINVAL;
	memcpy(u->share, s, n);
	s += n;
	while (*s == '/' || *s == '\\')
		s++;
	snprintf(u->path, sizeof(u->path), "%s", s);
	for (char *p = u->path; *p; p++)
		if (*p == '/')
			*p = '\\';
	/* strip a trailing separator */
	n = strlen(u->path);
	while (n && u->path[n - 1] == '\\')
		u->path[--n] = 0;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct chan *chan_new(struct session *s)
{
	struct chan *ch = calloc(1, sizeof(*ch));
	if (!ch)
		return NULL;
	ch->fd = -1;
	ch->s = s;
	ch->index = s->nch;
	s->ch[s->nch++] = ch;
	return ch;
}

static void chan_drop_last(struct session *s)
{
	struct chan *ch = s->ch[--s->nch];
	chan_close(ch);
	free(ch);
}

/* Order the interface list: RSS-capable first, then by speed. */
static void sort_interfaces(struct smb3c_netif *ifs, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0; j--) {
			struct smb3c_netif *a = &ifs[j - 1], *b = &ifs[j];
			bool ar = a->capability & SMB2_NETIF_RSS_CAPABLE, br = b->capability & SMB2_NETIF_RSS_CAPABLE;
			if (br > ar || (br == ar && b->speed > a->speed)) {
				struct smb3c_netif t = *a;
				*a = *b;
				*b = t;
			}
		}
	for (int i = 0; i < n; i++)
		vlog("interface %d: ifindex %u cap 0x%x speed %llu\n", i, ifs[i].ifindex, ifs[i].capability,
		     (unsigned long long)ifs[i].speed);
}

/* Candidates: the interfaces of the best class (same RSS-ness and speed as
 * the first of the sorted list), of channel 0's address family (p0) if
 * there are such, without IPv6 link-local addresses (no scope id to reach
 * them with).  Returns how many went into cand. */
static int pick_candidates(struct smb3c_netif *ifs, int n, const struct sockaddr_storage *p0,
			   struct smb3c_netif **cand)
{
	int best = 0;
	for (int pass = 0; pass < 2 && !best; pass++) {
		for (int i = 0; i < n; i++) {
			struct smb3c_netif *ni = &ifs[i];
			if ((ni->capability & SMB2_NETIF_RSS_CAPABLE) != (ifs[0].capability & SMB2_NETIF_RSS_CAPABLE) ||
			    ni->speed != ifs[0].speed)
				continue;
			if (pass == 0 && p0->ss_family != AF_UNSPEC && ni->ss.ss_family != p0->ss_family)
				continue;
			if (ni->ss.ss_family == AF_INET6 &&
			    IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)&ni->ss)->sin6_addr))
				continue;
			cand[best++] = ni;
		}
	}
	return best;
}

/* Channel 0 already sits on one of the candidates: count it, so that the
 * extra channels go to the other interfaces first (Windows: one channel
 * per interface, several only on RSS interfaces or when asked for more
 * channels than there are interfaces). */
static void count_channel0(struct smb3c_netif **cand, int best, const struct sockaddr_storage *p0, int *used)
{
	for (int i = 0; i < best; i++) {
		const struct sockaddr_storage *a = &cand[i]->ss;
		if (a->ss_family != p0->ss_family)
			continue;
		if (a->ss_family == AF_INET ? ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
						     ((const struct sockaddr_in *)p0)->sin_addr.s_addr
					    : memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
						     &((const struct sockaddr_in6 *)p0)->sin6_addr, 16) == 0) {
			used[i]++;
			return;
		}
	}
}

/* One more channel: connected to interface ni (NULL: the share's host),
 * negotiated with the session's dialect and bound; a channel that fails is
 * dropped with a message.  false: no memory for another channel. */
static bool bind_one(struct session *s, const struct unc *u, const struct opts *o, struct smb3c_netif *ni)
{
	struct chan *ch = chan_new(s);
	if (!ch)
		return false;
	int rc;
	if (ni) {
		uint16_t port = htons((uint16_t)atoi(o->port));
		if (ni->ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ni->ss)->sin_port = port;
		else
			((struct sockaddr_in6 *)&ni->ss)->sin6_port = port;
		rc = chan_connect(ch, (struct sockaddr *)&ni->ss, ni->sslen);
	} else {
		rc = chan_connect_host(ch, u->host, o->port);
	}
	if (!rc)
		rc = sess_negotiate(ch);
	if (!rc && ch->dialect != s->dialect)
		rc = -EPROTO;
	if (!rc)
		rc = sess_setup(ch, true);
	if (rc) {
		fprintf(stderr, "smb3c: channel %d (%s) not bound: %s\n", ch->index, ch->peer, strerror(-rc));
		chan_drop_last(s);
	}
	return true;
}

/* Bind up to `want` channels in all (MS-SMB2 3.2.4.2.3): ask the server for
 * its interfaces, prefer RSS-capable then faster ones, and put several
 * channels on one RSS interface as Windows does. */
static void bind_channels(struct session *s, const struct unc *u, const struct opts *o)
{
	struct chan *ch0 = s->ch[0];
	if (!(ch0->server_caps & SMB2_GLOBAL_CAP_MULTI_CHANNEL)) {
		fprintf(stderr, "smb3c: server does not offer multichannel; using one channel\n");
		return;
	}
	struct smb3c_netif ifs[32];
	int n = op_query_interfaces(ch0, ifs, 32);
	if (n <= 0) {
		fprintf(stderr, "smb3c: no interface list; binding channels to %s\n", ch0->peer);
		n = 0;
	}
	sort_interfaces(ifs, n);
	struct sockaddr_storage p0;
	socklen_t p0len = sizeof(p0);
	memset(&p0, 0, sizeof(p0));
	if (getpeername(ch0->fd, (struct sockaddr *)&p0, &p0len) < 0)
		p0.ss_family = AF_UNSPEC;
	struct smb3c_netif *cand[32];
	int used[32] = { 0 };
	int best = pick_candidates(ifs, n, &p0, cand);
	count_channel0(cand, best, &p0, used);
	for (int k = 1; k < o->channels && s->nch < 64; k++) {
		struct smb3c_netif *ni = NULL;
		if (best) {
			int pick = 0;
			for (int i = 1; i < best; i++)
				if (used[i] < used[pick])
					pick = i;
			used[pick]++;
			ni = cand[pick];
		}
		if (!bind_one(s, u, o, ni))
			break;
	}
	vlog("%d channel(s) bound\n", s->nch);
}

static struct session *open_session(const struct unc *u, const struct opts *o)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->user = o->user;
	s->domain = o->domain;
	s->pass = o->pass;
	s->want_sign = o->sign;
	s->want_encrypt = o->encrypt;
	s->max_dialect = o->max_dialect;
	crypto_random(s->client_guid, 16);
	struct chan *ch = chan_new(s);
	int rc = chan_connect_host(ch, u->host, o->port);
	if (rc) {
		fprintf(stderr, "smb3c: connect %s:%s: %s\n", u->host, o->port, strerror(-rc));
		return NULL;
	}
	rc = sess_negotiate(ch);
	if (!rc)
		rc = sess_setup(ch, false);
	if (!rc)
		rc = op_tree_connect(ch, u->host, u->share, &s->tree_id);
	if (rc) {
		fprintf(stderr, "smb3c: %s\n", strerror(-rc));
		return NULL;
	}
	if (o->channels > 1)
		bind_channels(s, u, o);
	return s;
}

static void report(const char *what, uint64_t bytes, double secs, const struct session *s)
{
	double mib = (double)bytes / (1024.0 * 1024.0);
	printf("%s %.0f MiB %.2f s %.1f MiB/s channels=%d\n", what, mib, secs, secs > 0 ? mib / secs : 0.0, s->nch);
	if (smb3c_verbose)
		for (int i = 0; i < s->nch; i++)
			fprintf(stderr, "  channel %d %s: %u requests %.1f MiB\n", i, s->ch[i]->peer, s->ch[i]->ops,
				(double)s->ch[i]->bytes / 1048576.0);
	fflush(stdout);
}

static void reset_stats(struct session *s)
{
	for (int i = 0; i < s->nch; i++) {
		s->ch[i]->bytes = 0;
		s->ch[i]->ops = 0;
	}
}

static void ls_each(const char *name, uint64_t size, uint32_t attrs, uint64_t mtime, void *arg)
{
	printf("%c %12llu %s\n", (attrs & 0x10) ? 'D' : '-', (unsigned long long)size, name);
}

static int cmd_ls(struct session *s, const struct unc *u)
{
	struct smb3c_fid fid;
	int rc = op_create(s->ch[0], u->path, FILE_READ_DATA | FILE_READ_ATTRIBUTES | SYNCHRONIZE, FILE_OPEN,
			   FILE_DIRECTORY_FILE, &fid, NULL);
	if (rc)
		return rc;
	rc = op_list(s->ch[0], &fid, ls_each, NULL);
	op_close(s->ch[0], &fid);
	return rc;
}

static int cmd_get(struct session *s, const struct unc *u, const char *local, const struct opts *o)
{
	struct smb3c_fid fid;
	struct smb3c_stat st;
	int rc = op_create(s->ch[0], u->path, FILE_READ_DATA | FILE_READ_ATTRIBUTES | SYNCHRONIZE, FILE_OPEN,
			   FILE_NON_DIRECTORY_FILE, &fid, &st);
	if (rc)
		return rc;
	int fd = open(local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		fprintf(stderr, "smb3c: %s: %s\n", local, strerror(errno));
		op_close(s->ch[0], &fid);
		return rc;
	}
	struct xfer_opts xo = { o->chunk, o->depth };
	double t0 = now_s();
	rc = xfer_get(s, &fid, st.size, fd, &xo);
	double t1 = now_s();
	if (close(fd) && !rc)
		rc = -errno;
	int rc2 = op_close(s->ch[0], &fid);
	if (!rc)
		rc = rc2;
	if (!rc)
		report("get", st.size, t1 - t0, s);
	return rc;
}

static int cmd_put(struct session *s, const char *local, const struct unc *u, const struct opts *o)
{
	int fd = open(local, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "smb3c: %s: %s\n", local, strerror(errno));
		return -errno;
	}
	struct stat sb;
	fstat(fd, &sb);
	struct smb3c_fid fid;
	int rc = op_create(s->ch[0], u->path,
			   FILE_READ_DATA | FILE_WRITE_DATA | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES | SYNCHRONIZE,
			   FILE_OVERWRITE_IF, FILE_NON_DIRECTORY_FILE, &fid, NULL);
	if (rc) {
		close(fd);
		return rc;
	}
	struct xfer_opts xo = { o->chunk, o->depth };
	double t0 = now_s();
	rc = xfer_put(s, &fid, (uint64_t)sb.st_size, fd, &xo);
	double t1 = now_s();
	close(fd);
	int rc2 = op_close(s->ch[0], &fid);
	if (!rc)
		rc = rc2;
	if (!rc)
		report("put", (uint64_t)sb.st_size, t1 - t0, s);
	return rc;
}

static int cmd_bench(struct session *s, const struct unc *u, const struct opts *o)
{
	const char *path = u->path[0] ? u->path : "smb3c-bench.dat";
	struct xfer_opts xo = { o->chunk, o->depth };
	struct smb3c_fid fid;
	struct smb3c_stat st;
	int rc;
	uint64_t size = o->size;
	if (!o->only_read) {
		rc = op_create(s->ch[0], path,
			       FILE_READ_DATA | FILE_WRITE_DATA | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES |
				       SYNCHRONIZE,
			       FILE_OVERWRITE_IF, FILE_NON_DIRECTORY_FILE, &fid, NULL);
		if (rc)
			return rc;
		reset_stats(s);
		double t0 = now_s();
		rc = xfer_put(s, &fid, size, -1, &xo);
		double t1 = now_s();
		op_close(s->ch[0], &fid);
		if (rc)
			return rc;
		report("write", size, t1 - t0, s);
	}
	if (!o->only_write) {
		/* delete the test file after reading it unless it was given */
		bool del = !o->only_read;
		rc = op_create(s->ch[0], path,
			       FILE_READ_DATA | FILE_READ_ATTRIBUTES | SYNCHRONIZE | (del ? DELETE_ACCESS : 0), FILE_OPEN,
			       FILE_NON_DIRECTORY_FILE | (del ? FILE_DELETE_ON_CLOSE : 0), &fid, &st);
		if (rc)
			return rc;
		reset_stats(s);
		double t0 = now_s();
		rc = xfer_get(s, &fid, st.size, -1, &xo);
		double t1 = now_s();
		op_close(s->ch[0], &fid);
		if (rc)
			return rc;
		report("read", st.size, t1 - t0, s);
	}
	return 0;
}

/* The options before the command; exits through usage() on a bad one.
 * *userpass: the -U value (or $USER, else "guest"). */
static void parse_options(int argc, char **argv, struct opts *o, const char **userpass)
{
	static const struct option lo[] = {
		{ "port", required_argument, 0, 'p' }, { "user", required_argument, 0, 'U' },
		{ "channels", required_argument, 0, 'c' }, { "sign", no_argument, 0, 's' },
		{ "encrypt", no_argument, 0, 'e' }, { "chunk", required_argument, 0, 'k' },
		{ "depth", required_argument, 0, 'd' }, { "size", required_argument, 0, 'z' },
		{ "read", no_argument, 0, 'r' }, { "write", no_argument, 0, 'w' },
		{ "max-dialect", required_argument, 0, 'm' }, { "verbose", no_argument, 0, 'v' },
		{ "timeout", required_argument, 0, 't' }, { "help", no_argument, 0, 'h' }, { 0 },
	};
	*userpass = getenv("USER") ? getenv("USER") : "guest";
	int c;
	while ((c = getopt_long(argc, argv, "p:U:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o->port = optarg; break;
		case 'U': *userpass = optarg; break;
		case 'c': o->channels = atoi(optarg); break;
		case 's': o->sign = true; break;
		case 'e': o->encrypt = true; break;
		case 'k': o->chunk = (uint32_t)parse_size(optarg); break;
		case 'd': o->depth = (unsigned)atoi(optarg); break;
		case 'z': o->size = parse_size(optarg); break;
		case 'r': o->only_read = true; break;
		case 'w': o->only_write = true; break;
		case 'v': smb3c_verbose++; break;
		case 't': smb3c_dead_secs = atoi(optarg); break;
		case 'm':
			if (!strcmp(optarg, "2.1")) o->max_dialect = SMB2_DIALECT_210;
			else if (!strcmp(optarg, "3.0")) o->max_dialect = SMB2_DIALECT_300;
			else if (!strcmp(optarg, "3.0.2")) o->max_dialect = SMB2_DIALECT_302;
			else if (!strcmp(optarg, "3.1.1")) o->max_dialect = SMB2_DIALECT_311;
			else usage();
			break;
		default: usage();
		}
	}
	if (o->channels < 1 || o->channels > 64 || o->depth < 1 || o->depth > 1024 || o->chunk < 4096 ||
	    o->chunk > (8u << 20))
		usage();
	if (optind >= argc)
		usage();
}

/* [DOMAIN\]USER[%PASS] into o (pointing into the copy *up, the caller's to
 * free); the password from $PASSWD when it has none. */
static void parse_user(const char *userpass, struct opts *o, char **up)
{
	*up = strdup(userpass);
	if (!*up) {
		fprintf(stderr, "smb3c: out of memory\n");
		exit(1);
	}
	char *pct = strchr(*up, '%');
	o->pass = pct ? (*pct = 0, pct + 1) : (getenv("PASSWD") ? getenv("PASSWD") : "");
	char *bs = strpbrk(*up, "\\/");
	if (bs) {
		*bs = 0;
		o->domain = *up;
		o->user = bs + 1;
	} else {
		o->domain = "";
		o->user = *up;
	}
}

/* The command and its arguments: the UNC (*uncs) and, for get and put, the
 * local file (*local). */
static void parse_command(int argc, char **argv, const char **cmd, const char **uncs, const char **local)
{
	*cmd = argv[optind++];
	*local = NULL;
	if (!strcmp(*cmd, "ls") || !strcmp(*cmd, "bench")) {
		if (optind + 1 != argc) usage();
		*uncs = argv[optind];
	} else if (!strcmp(*cmd, "get")) {
		if (optind + 2 != argc) usage();
		*uncs = argv[optind];
		*local = argv[optind + 1];
	} else if (!strcmp(*cmd, "put")) {
		if (optind + 2 != argc) usage();
		*local = argv[optind];
		*uncs = argv[optind + 1];
	} else {
		usage();
	}
}

int main(int argc, char **argv)
{
	struct opts o = { .port = "445", .channels = 1, .chunk = 1 << 20, .depth = 8, .size = 1ull << 30,
			  .max_dialect = SMB2_DIALECT_311 };
	const char *userpass, *cmd, *uncs, *local;
	char *up;
	parse_options(argc, argv, &o, &userpass);
	parse_user(userpass, &o, &up);
	if (crypto_init()) {
		fprintf(stderr, "smb3c: crypto init failed\n");
		return 1;
	}
	parse_command(argc, argv, &cmd, &uncs, &local);
	struct unc u;
	if (parse_unc(uncs, &u)) {
		fprintf(stderr, "smb3c: bad UNC %s\n", uncs);
		return 2;
	}
	if ((!strcmp(cmd, "get") || !strcmp(cmd, "put")) && !u.path[0]) {
		fprintf(stderr, "smb3c: %s needs a file path\n", cmd);
		return 2;
	}
	struct session *s = open_session(&u, &o);
	if (!s)
		return 1;
	int rc;
	if (!strcmp(cmd, "ls"))
		rc = cmd_ls(s, &u);
	else if (!strcmp(cmd, "get"))
		rc = cmd_get(s, &u, local, &o);
	else if (!strcmp(cmd, "put"))
		rc = cmd_put(s, local, &u, &o);
	else
		rc = cmd_bench(s, &u, &o);
	while (s->nch)
		chan_drop_last(s);
	free(s);
	free(up);
	return rc ? 1 : 0;
}
