/* smb3d: the SMB 3.1.1 file server. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf/conf.h"
#include "server.h"
#include "util/log.h"

#define DEFAULT_CONF "/etc/smb3d/smb.conf"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: smb3d [-c FILE] [-d LEVEL]\n"
		"Serve SMB 2 and 3 file shares; runs in the foreground and logs to stderr.\n"
		"\n"
		"  -c, --config FILE     configuration file (default " DEFAULT_CONF ")\n"
		"  -d, --debuglevel N    log level 0-5, overrides \"log level\"\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop (in-flight requests finish), SIGHUP reloads\n"
		"the configuration and the user database.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "debuglevel", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "foreground", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONF;
	int level = -1, c;
	while ((c = getopt_long(argc, argv, "c:d:hVF", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'd': level = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("smb3d %s\n", SMB3D_VERSION); return 0;
		case 'F': break;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	struct conf *cf = server_conf_load(path, NULL);
	if (!cf)
		return 1; /* conf_load printed "FILE:LINE: problem" */
	if (level >= 0)
		cf->log_level = level;
	return server_run(cf, path);
}
