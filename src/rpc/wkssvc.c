/* wkssvc: Workstation Service Remote Protocol [MS-WKST], only
 * NetrWkstaGetInfo (opnum 0), which Explorer and `net` use to learn the
 * server's name and workgroup. */
#include "rpc/ndr.h"

#define OP_NETR_WKSTA_GET_INFO 0

static struct ndr_field D(uint32_t v) { return (struct ndr_field){ 'd', v, NULL }; }
static struct ndr_field S(const char *s) { return (struct ndr_field){ 's', 0, s ? s : "" }; }

/* [MS-WKST] 3.2.4.1 NetrWkstaGetInfo; WKSTA_INFO_100/101/102 (2.2.5.1-3). */
static uint32_t wksta_get_info(const struct rpc_server_info *info, struct rd *r, struct ndr_out *o)
{
	if (ndr_ptr(r)) { /* [in, string, unique] ServerName */
		uint32_t n;
		(void)ndr_wstring(r, &n);
	}
	uint32_t level = ndr_u32(r);
	if (!rd_ok(r))
		return RPC_X_BAD_STUB_DATA;

	struct ndr_field f[8];
	size_t n = 0;
	if (level == 100 || level == 101 || level == 102) {
		f[n++] = D(info->platform_id ? info->platform_id : RPC_PLATFORM_ID_NT);
		f[n++] = S(info->netbios_name); /* wki10x_computername */
		f[n++] = S(info->domain);       /* wki10x_langroup */
		f[n++] = D(info->ver_major);
		f[n++] = D(info->ver_minor);
		if (level >= 101)
			f[n++] = S("");  /* wki10x_lanroot */
		if (level == 102)
			f[n++] = D(0);   /* wki102_logged_on_users */
	}
	/* Every WKSTA_INFO arm is a pointer; a level we do not serve gets NULL
	 * and ERROR_INVALID_LEVEL, as Windows answers. */
	ndr_put_u32(o, level);
	ndr_put_ptr(o, n > 0);
	ndr_put_fields(o, f, n);
	ndr_put_fields_deferred(o, f, n);
	ndr_put_u32(o, n ? RPC_ERR_SUCCESS : RPC_ERR_INVALID_LEVEL);
	return 0;
}

uint32_t rpc_wkssvc_call(const struct rpc_server_info *info, uint16_t opnum,
			 const uint8_t *in, size_t in_len, struct ndr_out *out)
{
	struct rd r = rd_init(in, in_len);
	if (opnum == OP_NETR_WKSTA_GET_INFO)
		return wksta_get_info(info, &r, out);
	return RPC_NCA_S_OP_RNG_ERROR;
}
