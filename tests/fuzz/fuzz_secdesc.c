/* Fuzz target for the security descriptor codec (src/wire/secdesc.c): the
 * input is a self-relative descriptor as SET_INFO SECURITY carries it (and
 * the same bytes as a Samba security.NTACL value: wire/samba_ntacl.h).
 * Whatever decodes is iterated ACE by ACE, re-encoded, and the re-encoding
 * must decode again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "wire/samba_ntacl.h"
#include "wire/secdesc.h"

static volatile uint64_t sink;

static void walk(const uint8_t *acl, size_t len)
{
	struct wire_acl_iter it;
	struct wire_ace ace;
	wire_acl_iter_init(&it, acl, len);
	while (wire_acl_iter_next(&it, &ace)) {
		sink += ace.mask + ace.flags + ace.size;
		if (ace.sid)
			sink += wire_sid_len(ace.sid, ace.sid_len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the same input as Samba's security.NTACL: locate, then decode */
	static uint8_t inner[65536];
	size_t inner_len;
	struct wire_sd sd;
	if (wire_samba_ntacl_sd(data, size, inner, sizeof(inner), &inner_len) == 0 &&
	    wire_sd_decode(inner, inner_len, &sd, NULL) == 0)
		walk(sd.dacl, sd.dacl_len);
	if (wire_sd_decode(data, size, &sd, NULL) < 0)
		return 0;
	walk(sd.dacl, sd.dacl_len);
	walk(sd.sacl, sd.sacl_len);
	size_t need = wire_sd_encode(&sd, NULL, 0);
	uint8_t *b = malloc(need);
	if (!b)
		return 0;
	wire_sd_encode(&sd, b, need);
	struct wire_sd again;
	if (wire_sd_decode(b, need, &again, NULL) < 0)
		abort();
	free(b);
	return 0;
}
