/* Prometheus text endpoint (`metrics port`, off by default, on 127.0.0.1
 * only): GET /metrics.  A plain blocking
 * thread: scrapes are rare and must not touch the data-path rings. */
#include "admin/metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/smb.h"
#include "proto/srv.h"
#include "state/open.h"
#include "util/log.h"
#include "util/metrics.h"

static int m_fd = -1;
static pthread_t m_thread;

struct chan_hist {
	unsigned long long b[5]; /* sessions with 1, 2, 3-4, 5-8, >8 channels */
	unsigned long long total;
};

static void count_channels(struct session *s, void *arg)
{
	struct chan_hist *h = arg;
	unsigned n = s->n_channels;
	h->b[n <= 1 ? 0 : n == 2 ? 1 : n <= 4 ? 2 : n <= 8 ? 3 : 4]++;
	h->total += n;
}

static void emit(FILE *f)
{
	fprintf(f, "# HELP smb3d_connections Open TCP connections (channels).\n# TYPE smb3d_connections gauge\n");
	fprintf(f, "smb3d_connections %d\n", atomic_load(&srv.n_conns));
	fprintf(f, "# HELP smb3d_connections_total Connections accepted.\n# TYPE smb3d_connections_total counter\n");
	fprintf(f, "smb3d_connections_total %llu\n", (unsigned long long)metrics.connections_total);
	fprintf(f, "# HELP smb3d_sessions Sessions.\n# TYPE smb3d_sessions gauge\n");
	fprintf(f, "smb3d_sessions %u\n", session_count());
	fprintf(f, "# HELP smb3d_open_files Open files and pipes.\n# TYPE smb3d_open_files gauge\n");
	fprintf(f, "smb3d_open_files %u\n", open_count());
	struct chan_hist h = { { 0 }, 0 };
	session_foreach(count_channels, &h);
	static const char *const le[] = { "1", "2", "4", "8", "+Inf" };
	fprintf(f, "# HELP smb3d_session_channels Channels per session.\n# TYPE smb3d_session_channels histogram\n");
	unsigned long long cum = 0, n = 0;
	for (int i = 0; i < 5; i++) {
		cum += h.b[i];
		fprintf(f, "smb3d_session_channels_bucket{le=\"%s\"} %llu\n", le[i], cum);
	}
	n = cum;
	fprintf(f, "smb3d_session_channels_sum %llu\nsmb3d_session_channels_count %llu\n", h.total, n);

	fprintf(f, "# HELP smb3d_requests_total SMB2 requests by command and status class.\n# TYPE smb3d_requests_total counter\n");
	for (unsigned c = 0; c < METRICS_COMMANDS; c++)
		for (unsigned s = 0; s < METRICS_STATUSES; s++) {
			unsigned long long v = metrics.requests[c][s];
			if (v)
				fprintf(f, "smb3d_requests_total{command=\"%s\",status=\"%s\"} %llu\n",
					c < SMB2_N_COMMANDS ? smb2_command_name((uint16_t)c) : "UNKNOWN",
					metrics_status_names[s], v);
		}
	fprintf(f, "# HELP smb3d_request_seconds Request latency.\n# TYPE smb3d_request_seconds histogram\n");
	for (unsigned c = 0; c < METRICS_COMMANDS; c++) {
		unsigned long long total = 0;
		for (unsigned b = 0; b < METRICS_BUCKETS; b++)
			total += metrics.latency_bucket[c][b];
		if (!total)
			continue;
		const char *name = c < SMB2_N_COMMANDS ? smb2_command_name((uint16_t)c) : "UNKNOWN";
		unsigned long long acc = 0;
		double limit = 50e-6;
		for (unsigned b = 0; b < METRICS_BUCKETS; b++) {
			acc += metrics.latency_bucket[c][b];
			if (b == METRICS_BUCKETS - 1)
				fprintf(f, "smb3d_request_seconds_bucket{command=\"%s\",le=\"+Inf\"} %llu\n", name, acc);
			else
				fprintf(f, "smb3d_request_seconds_bucket{command=\"%s\",le=\"%g\"} %llu\n", name, limit, acc);
			limit *= 2;
		}
		fprintf(f, "smb3d_request_seconds_sum{command=\"%s\"} %.6f\n", name, (double)metrics.latency_sum_us[c] / 1e6);
		fprintf(f, "smb3d_request_seconds_count{command=\"%s\"} %llu\n", name, total);
	}
	fprintf(f, "# HELP smb3d_read_bytes_total File data sent by READ.\n# TYPE smb3d_read_bytes_total counter\n");
	fprintf(f, "smb3d_read_bytes_total %llu\n", (unsigned long long)metrics.bytes_read);
	fprintf(f, "# HELP smb3d_written_bytes_total File data received by WRITE.\n# TYPE smb3d_written_bytes_total counter\n");
	fprintf(f, "smb3d_written_bytes_total %llu\n", (unsigned long long)metrics.bytes_written);
	fprintf(f, "# HELP smb3d_network_bytes_total Bytes on the wire.\n# TYPE smb3d_network_bytes_total counter\n");
	fprintf(f, "smb3d_network_bytes_total{direction=\"in\"} %llu\n", (unsigned long long)metrics.net_bytes_in);
	fprintf(f, "smb3d_network_bytes_total{direction=\"out\"} %llu\n", (unsigned long long)metrics.net_bytes_out);
	fprintf(f, "# HELP smb3d_vfs_operations_total File-system operations by engine.\n# TYPE smb3d_vfs_operations_total counter\n");
	fprintf(f, "smb3d_vfs_operations_total{engine=\"io_uring\"} %llu\n", (unsigned long long)metrics.vfs_uring_ops);
	fprintf(f, "smb3d_vfs_operations_total{engine=\"threads\"} %llu\n", (unsigned long long)metrics.vfs_pool_ops);
	fprintf(f, "# HELP smb3d_vfs_fixed_buffer_operations_total File reads and writes on io_uring registered buffers.\n# TYPE smb3d_vfs_fixed_buffer_operations_total counter\n");
	fprintf(f, "smb3d_vfs_fixed_buffer_operations_total %llu\n", (unsigned long long)metrics.vfs_uring_fixed_ops);
	fprintf(f, "# HELP smb3d_auth_failures_total Failed authentications.\n# TYPE smb3d_auth_failures_total counter\n");
	fprintf(f, "smb3d_auth_failures_total %llu\n", (unsigned long long)metrics.auth_failures);
	fprintf(f, "# HELP smb3d_chanseq_stale_total Requests refused with STATUS_FILE_NOT_AVAILABLE for a stale ChannelSequence.\n"
		   "# TYPE smb3d_chanseq_stale_total counter\n");
	fprintf(f, "smb3d_chanseq_stale_total %llu\n", (unsigned long long)metrics.chanseq_stale);
	fprintf(f, "# HELP smb3d_replays_total Replayed requests by command and outcome (docs/MULTICHANNEL.md).\n"
		   "# TYPE smb3d_replays_total counter\n");
	for (unsigned c = 0; c < METRICS_COMMANDS; c++)
		for (unsigned o = 0; o < METRICS_REPLAY_OUTCOMES; o++)
			if (metrics.replays[c][o])
				fprintf(f, "smb3d_replays_total{command=\"%s\",outcome=\"%s\"} %llu\n",
					c < SMB2_N_COMMANDS ? smb2_command_name((uint16_t)c) : "UNKNOWN",
					metrics_replay_names[o], (unsigned long long)metrics.replays[c][o]);
	fprintf(f, "# HELP smb3d_durable_opens_total Durable opens kept at a disconnect, reconnected, scavenged at their timeout, purged by a conflicting open.\n# TYPE smb3d_durable_opens_total counter\n");
	fprintf(f, "smb3d_durable_opens_total{event=\"kept\"} %llu\n", (unsigned long long)metrics.durable_kept);
	fprintf(f, "smb3d_durable_opens_total{event=\"reconnected\"} %llu\n", (unsigned long long)metrics.durable_reconnected);
	fprintf(f, "smb3d_durable_opens_total{event=\"scavenged\"} %llu\n", (unsigned long long)metrics.durable_scavenged);
	fprintf(f, "smb3d_durable_opens_total{event=\"purged\"} %llu\n", (unsigned long long)metrics.durable_purged);
	fprintf(f, "# HELP smb3d_lease_events_total Lease grants (and upgrades), break notifications, acknowledged breaks and breaks ended by the timer.\n# TYPE smb3d_lease_events_total counter\n");
	fprintf(f, "smb3d_lease_events_total{event=\"granted\"} %llu\n", (unsigned long long)metrics.leases_granted);
	fprintf(f, "smb3d_lease_events_total{event=\"broken\"} %llu\n", (unsigned long long)metrics.leases_broken);
	fprintf(f, "smb3d_lease_events_total{event=\"acked\"} %llu\n", (unsigned long long)metrics.leases_acked);
	fprintf(f, "smb3d_lease_events_total{event=\"timed_out\"} %llu\n", (unsigned long long)metrics.leases_timed_out);
	fprintf(f, "# HELP smb3d_break_notifications_total Oplock and lease break notifications: sent (each channel "
		   "tried), acknowledged (by the peer's TCP or the client), retried on another channel, channels given up "
		   "for no acknowledgment, lease breaks sent again for an answer a lost channel may have taken.\n# TYPE smb3d_break_notifications_total counter\n");
	fprintf(f, "smb3d_break_notifications_total{event=\"sent\"} %llu\n", (unsigned long long)metrics.breaks_sent);
	fprintf(f, "smb3d_break_notifications_total{event=\"acked\"} %llu\n", (unsigned long long)metrics.breaks_acked);
	fprintf(f, "smb3d_break_notifications_total{event=\"retried\"} %llu\n", (unsigned long long)metrics.breaks_retried);
	fprintf(f, "smb3d_break_notifications_total{event=\"timed_out\"} %llu\n", (unsigned long long)metrics.breaks_timed_out);
	fprintf(f, "smb3d_break_notifications_total{event=\"reasked\"} %llu\n", (unsigned long long)metrics.breaks_reasked);
}

static void serve(int fd)
{
	char req[1024];
	ssize_t n = recv(fd, req, sizeof(req) - 1, 0);
	if (n <= 0) {
		close(fd);
		return;
	}
	req[n] = 0;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return;
	}
	if (strncmp(req, "GET /metrics", 12) != 0 && strncmp(req, "GET / ", 6) != 0) {
		fprintf(f, "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\ntry /metrics\n");
		fclose(f);
		return;
	}
	char *body = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&body, &len);
	if (m) {
		emit(m);
		fclose(m);
	}
	fprintf(f, "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: %zu\r\n\r\n", len);
	if (body)
		fwrite(body, 1, len, f);
	free(body);
	fclose(f);
}

static void *m_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept4(m_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;
		}
		struct timeval tv = { 2, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		serve(fd);
	}
	return NULL;
}

int metrics_http_start(const char *address, int port)
{
	if (port <= 0)
		return 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, address && *address ? address : "127.0.0.1", &sa.sin_addr) != 1)
		return -EINVAL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	m_fd = fd;
	if (pthread_create(&m_thread, NULL, m_main, NULL) != 0) {
		close(fd);
		m_fd = -1;
		return -EAGAIN;
	}
	return 0;
}

void metrics_http_stop(void)
{
	if (m_fd < 0)
		return;
	shutdown(m_fd, SHUT_RDWR);
	pthread_join(m_thread, NULL);
	close(m_fd);
	m_fd = -1;
}
