/* smb3ctl config check [FILE]: parse the configuration, print the effective
 * settings on stdout (like `testparm -s`) and the warnings on stderr; on an
 * error print every error with its line number and exit 1. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "ctl.h"

/* argv[0] is "config". */
int ctl_config_main(int argc, char **argv, const char *config_path)
{
	if (argc < 2 || strcmp(argv[1], "check") != 0 || argc > 3) {
		fputs("usage: smb3ctl [-c FILE] config check [FILE]\n", stderr);
		return 2;
	}
	const char *path = argc == 3 ? argv[2] : config_path;
	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "smb3ctl: cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	fclose(f);
	struct conf *c = conf_load(path, stderr, stderr);
	if (!c) {
		fprintf(stderr, "%s: configuration is not valid\n", path);
		return 1;
	}
	fprintf(stderr, "Loaded %s: OK\n", path);
	conf_dump(c, stdout);
	conf_free(c);
	return fflush(stdout) == 0 ? 0 : 1;
}
