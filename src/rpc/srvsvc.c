/* srvsvc: Server Service Remote Protocol [MS-SRVS], the calls a client needs
 * to browse shares: NetrShareEnum (15), NetrShareGetInfo (16) and
 * NetrServerGetInfo (21).  Pointers embedded in structures are unique
 * ([MS-SRVS] 6: pointer_default(unique)); top-level [out] pointers are ref. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rpc/ndr.h"

#define OP_NETR_SHARE_ENUM      15
#define OP_NETR_SHARE_GET_INFO  16
#define OP_NETR_SERVER_GET_INFO 21

#define MAX_FIELDS 13

/* [MS-SRVS] 2.2.4.23-.26 and .30: fixed fields of SHARE_INFO_x, in wire
 * order ('d' DWORD, 's' string pointer, 'b' pointer to a byte array).  Used
 * to skip a container a client sent in NetrShareEnum's [in,out] InfoStruct. */
static const char *share_layout(uint32_t level)
{
	switch (level) {
	case 0: return "s";
	case 1: return "sds";
	case 2: return "sdsdddss";
	case 501: return "sdsd";
	case 502: return "sdsdddssdb";
	case 503: return "sdsdddsssdb";
	default: return NULL;
	}
}

static const char *nz(const char *s) { return s ? s : ""; }

static struct ndr_field D(uint32_t v) { return (struct ndr_field){ 'd', v, NULL }; }
static struct ndr_field S(const char *s) { return (struct ndr_field){ 's', 0, s }; }

/* The fields of SHARE_INFO_<level> for one share; 0 for levels we do not
 * serve.  Passwords and security descriptors are sent as NULL pointers. */
static size_t share_fields(const struct rpc_share *sh, uint32_t level, struct ndr_field *f)
{
	size_t n = 0;
	if (level == 1005) {
		f[n++] = D(0); /* shi1005_flags: manual caching, nothing special */
		return n;
	}
	if (level != 0 && level != 1 && level != 2 && level != 501 && level != 502)
		return 0;
	f[n++] = S(nz(sh->name));
	if (level == 0)
		return n;
	f[n++] = D(sh->type);
	f[n++] = S(nz(sh->comment));
	if (level == 1)
		return n;
	if (level == 501) {
		f[n++] = D(0); /* shi501_flags */
		return n;
	}
	f[n++] = D(0);          /* permissions: ignored in user-level security */
	f[n++] = D(UINT32_MAX); /* max_uses: SHI_USES_UNLIMITED */
	f[n++] = D(0);          /* current_uses */
	f[n++] = S(nz(sh->path));
	f[n++] = S(NULL);       /* passwd */
	if (level == 502) {
		f[n++] = D(0);    /* shi502_reserved: size of the security descriptor */
		f[n++] = S(NULL); /* security descriptor pointer */
	}
	return n;
}

/* A rough size of one entry as Windows counts it against
 * PreferedMaximumLength: fixed part plus UTF-16 strings. */
static size_t entry_size(const struct ndr_field *f, size_t n)
{
	size_t sz = 0;
	for (size_t i = 0; i < n; i++)
		sz += 4 + (f[i].kind == 's' && f[i].s ? 2 * strlen(f[i].s) + 2 : 0);
	return sz;
}

static void skip_server_name(struct rd *r)
{
	if (ndr_ptr(r)) {
		uint32_t n;
		(void)ndr_wstring(r, &n);
	}
}

/* [MS-SRVS] 3.1.4.8 NetrShareEnum */
static uint32_t share_enum(const struct rpc_server_info *info, struct rd *r, struct ndr_out *o)
{
	skip_server_name(r);
	uint32_t level = ndr_u32(r);
	uint32_t sw = ndr_u32(r);
	uint32_t ctr_ptr = ndr_ptr(r);
	if (!rd_ok(r))
		return RPC_X_BAD_STUB_DATA;
	const char *layout = share_layout(level);
	/* The union is switch_is(Level): an arm it does not have cannot be
	 * unmarshalled at all. */
	if (sw != level || !layout)
		return RPC_NCA_S_FAULT_INVALID_TAG;
	if (ctr_ptr) {
		(void)ndr_u32(r); /* EntriesRead */
		if (ndr_ptr(r)) {
			uint32_t count = ndr_u32(r);
			ndr_skip_struct_array(r, layout, count);
		}
	}
	uint32_t prefmax = ndr_u32(r);
	uint32_t rh_ptr = ndr_ptr(r);
	uint32_t resume = rh_ptr ? ndr_u32(r) : 0;
	if (!rd_ok(r))
		return RPC_X_BAD_STUB_DATA;

	struct ndr_field f[MAX_FIELDS];
	size_t total = info->n_shares;
	size_t start = resume < total ? resume : total;
	size_t count = 0, bytes = 0;
	bool supported = level != 503; /* a union arm we know but do not serve */
	/* Take entries while they fit PreferedMaximumLength, at least one. */
	for (size_t i = start; supported && i < total; i++) {
		size_t sz = entry_size(f, share_fields(&info->shares[i], level, f));
		if (count > 0 && bytes + sz > prefmax)
			break;
		bytes += sz;
		count++;
	}

	ndr_put_u32(o, level);
	ndr_put_u32(o, level);
	ndr_put_ptr(o, supported);
	if (supported) {
		ndr_put_u32(o, (uint32_t)count);
		ndr_put_ptr(o, count > 0);
		if (count > 0) {
			ndr_put_u32(o, (uint32_t)count); /* conformance (max_count) */
			for (size_t i = start; i < start + count; i++)
				ndr_put_fields(o, f, share_fields(&info->shares[i], level, f));
			for (size_t i = start; i < start + count; i++)
				ndr_put_fields_deferred(o, f, share_fields(&info->shares[i], level, f));
		}
	}
	bool more = start + count < total;
	ndr_put_u32(o, supported ? (uint32_t)total : 0);
	ndr_put_ptr(o, rh_ptr != 0);
	if (rh_ptr)
		ndr_put_u32(o, more ? (uint32_t)(start + count) : 0);
	ndr_put_u32(o, !supported ? RPC_ERR_INVALID_LEVEL : more ? RPC_ERR_MORE_DATA : RPC_ERR_SUCCESS);
	return 0;
}

/* [MS-SRVS] 2.2.3.6 SHARE_INFO union arms; the union has a default arm, so
 * a level outside these is sent as the bare discriminant. */
static bool share_info_has_arm(uint32_t level)
{
	switch (level) {
	case 0: case 1: case 2: case 501: case 502: case 503:
	case 1004: case 1005: case 1006: case 1501:
		return true;
	default:
		return false;
	}
}

/* [MS-SRVS] 3.1.4.10 NetrShareGetInfo */
static uint32_t share_get_info(const struct rpc_server_info *info, struct rd *r, struct ndr_out *o)
{
	skip_server_name(r);
	char *name = ndr_wstring_utf8(r); /* [in, string] WCHAR *NetName: a ref pointer */
	uint32_t level = ndr_u32(r);
	if (!rd_ok(r) || !name) {
		free(name);
		return RPC_X_BAD_STUB_DATA;
	}
	const struct rpc_share *sh = NULL;
	for (size_t i = 0; i < info->n_shares && !sh; i++)
		if (info->shares[i].name && strcasecmp(info->shares[i].name, name) == 0)
			sh = &info->shares[i];
	free(name);

	struct ndr_field f[MAX_FIELDS];
	size_t n = sh ? share_fields(sh, level, f) : 0;
	ndr_put_u32(o, level);
	if (share_info_has_arm(level)) {
		ndr_put_ptr(o, n > 0);
		ndr_put_fields(o, f, n);
		ndr_put_fields_deferred(o, f, n);
	}
	if (n)
		ndr_put_u32(o, RPC_ERR_SUCCESS);
	else if (!share_fields(&(struct rpc_share){ .name = "" }, level, f))
		ndr_put_u32(o, RPC_ERR_INVALID_LEVEL);
	else
		ndr_put_u32(o, RPC_NERR_NETNAMENOTFOUND);
	return 0;
}

/* [MS-SRVS] 3.1.4.17 NetrServerGetInfo, SERVER_INFO_100/101/102 (2.2.4.40-42). */
static uint32_t server_get_info(const struct rpc_server_info *info, struct rd *r, struct ndr_out *o)
{
	skip_server_name(r);
	uint32_t level = ndr_u32(r);
	if (!rd_ok(r))
		return RPC_X_BAD_STUB_DATA;
	struct ndr_field f[MAX_FIELDS];
	size_t n = 0;
	if (level == 100 || level == 101 || level == 102) {
		f[n++] = D(info->platform_id ? info->platform_id : RPC_PLATFORM_ID_NT);
		f[n++] = S(nz(info->netbios_name));
		if (level >= 101) {
			f[n++] = D(info->ver_major);
			f[n++] = D(info->ver_minor);
			f[n++] = D(info->server_type);
			f[n++] = S(nz(info->server_string));
		}
		if (level == 102) {
			f[n++] = D(UINT32_MAX); /* sv102_users: unlimited */
			f[n++] = D(15);         /* sv102_disc: auto-disconnect minutes */
			f[n++] = D(0);          /* sv102_hidden */
			f[n++] = D(240);        /* sv102_announce: seconds */
			f[n++] = D(3000);       /* sv102_anndelta: milliseconds */
			f[n++] = D(0);          /* sv102_licenses */
			f[n++] = S("/");        /* sv102_userpath */
		}
	}
	/* Every SERVER_INFO arm is a pointer; a level we do not serve gets NULL. */
	ndr_put_u32(o, level);
	ndr_put_ptr(o, n > 0);
	ndr_put_fields(o, f, n);
	ndr_put_fields_deferred(o, f, n);
	ndr_put_u32(o, n ? RPC_ERR_SUCCESS : RPC_ERR_INVALID_LEVEL);
	return 0;
}

uint32_t rpc_srvsvc_call(const struct rpc_server_info *info, uint16_t opnum,
			 const uint8_t *in, size_t in_len, struct ndr_out *out)
{
	struct rd r = rd_init(in, in_len);
	switch (opnum) {
	case OP_NETR_SHARE_ENUM: return share_enum(info, &r, out);
	case OP_NETR_SHARE_GET_INFO: return share_get_info(info, &r, out);
	case OP_NETR_SERVER_GET_INFO: return server_get_info(info, &r, out);
	default: return RPC_NCA_S_OP_RNG_ERROR;
	}
}
