/* NTLMSSP messages (MS-NLMP 2.2.1) and AV pairs (MS-NLMP 2.2.2.1).
 *
 * Decoders point into the caller's buffer; every (Len, MaxLen, Offset)
 * field is checked against the message before it is used.  Encoders
 * return malloc'd messages. */
#ifndef SMB3D_WIRE_NTLMSSP_H
#define SMB3D_WIRE_NTLMSSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/cursor.h"

/* MS-NLMP 2.2.2.5 NEGOTIATE flags */
#define NTLMSSP_NEGOTIATE_UNICODE 0x00000001u
#define NTLMSSP_NEGOTIATE_OEM 0x00000002u
#define NTLMSSP_REQUEST_TARGET 0x00000004u
#define NTLMSSP_NEGOTIATE_SIGN 0x00000010u
#define NTLMSSP_NEGOTIATE_SEAL 0x00000020u
#define NTLMSSP_NEGOTIATE_LM_KEY 0x00000080u
#define NTLMSSP_NEGOTIATE_NTLM 0x00000200u
#define NTLMSSP_ANONYMOUS 0x00000800u
#define NTLMSSP_NEGOTIATE_ALWAYS_SIGN 0x00008000u
#define NTLMSSP_TARGET_TYPE_DOMAIN 0x00010000u
#define NTLMSSP_TARGET_TYPE_SERVER 0x00020000u
#define NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLMSSP_NEGOTIATE_TARGET_INFO 0x00800000u
#define NTLMSSP_NEGOTIATE_VERSION 0x02000000u
#define NTLMSSP_NEGOTIATE_128 0x20000000u
#define NTLMSSP_NEGOTIATE_KEY_EXCH 0x40000000u
#define NTLMSSP_NEGOTIATE_56 0x80000000u

enum ntlmssp_type {
	NTLMSSP_NEGOTIATE = 1,
	NTLMSSP_CHALLENGE = 2,
	NTLMSSP_AUTHENTICATE = 3,
};

/* MS-NLMP 2.2.2.1 AvId values */
enum ntlmssp_av_id {
	MSV_AV_EOL = 0,
	MSV_AV_NB_COMPUTER_NAME = 1,
	MSV_AV_NB_DOMAIN_NAME = 2,
	MSV_AV_DNS_COMPUTER_NAME = 3,
	MSV_AV_DNS_DOMAIN_NAME = 4,
	MSV_AV_DNS_TREE_NAME = 5,
	MSV_AV_FLAGS = 6,
	MSV_AV_TIMESTAMP = 7,
	MSV_AV_SINGLE_HOST = 8,
	MSV_AV_TARGET_NAME = 9,
	MSV_AV_CHANNEL_BINDINGS = 10,
};
#define MSV_AV_FLAG_MIC_PRESENT 0x00000002u

#define NTLMSSP_VERSION_LEN 8
#define NTLMSSP_MIC_OFFSET 72 /* MS-NLMP 2.2.1.3: after the Version field */
#define NTLMSSP_MIC_LEN 16

struct ntlmssp_negotiate {
	uint32_t flags;
};

struct ntlmssp_challenge {
	uint32_t flags;
	uint8_t server_challenge[8];
	const uint8_t *target_name; /* as on the wire (UTF-16LE when UNICODE) */
	size_t target_name_len;
	const uint8_t *target_info; /* AV pairs */
	size_t target_info_len;
	uint8_t version[NTLMSSP_VERSION_LEN];
};

struct ntlmssp_authenticate {
	uint32_t flags;
	const uint8_t *lm_response, *nt_response, *domain, *user, *workstation, *enc_session_key;
	size_t lm_response_len, nt_response_len, domain_len, user_len, workstation_len, enc_session_key_len;
	/* The payload starts far enough out that a Version and a MIC fit
	 * (MS-NLMP 2.2.1.3); whether a MIC is really there is told by the
	 * MsvAvFlags of the client's AV pairs. */
	bool mic_room;
	uint8_t mic[NTLMSSP_MIC_LEN];
};

/* The message type of an NTLMSSP message, or -EINVAL if it does not start
 * with "NTLMSSP\0" and a type. */
int ntlmssp_message_type(const uint8_t *buf, size_t len);

/* Each returns 0 or -EINVAL (*why, if not NULL, names the reason). */
int ntlmssp_decode_negotiate(const uint8_t *buf, size_t len, struct ntlmssp_negotiate *out, const char **why);
int ntlmssp_decode_challenge(const uint8_t *buf, size_t len, struct ntlmssp_challenge *out, const char **why);
int ntlmssp_decode_authenticate(const uint8_t *buf, size_t len, struct ntlmssp_authenticate *out,
				const char **why);

/* Encoders: 0, -ENOMEM, -EINVAL (field over 64 KiB). */
int ntlmssp_encode_negotiate(const struct ntlmssp_negotiate *m, uint8_t **out, size_t *out_len);
int ntlmssp_encode_challenge(const struct ntlmssp_challenge *m, uint8_t **out, size_t *out_len);
/* Always writes Version and MIC fields (the MIC from m->mic). */
int ntlmssp_encode_authenticate(const struct ntlmssp_authenticate *m, uint8_t **out, size_t *out_len);

/* AV pairs.  ntlmssp_av_find() walks a list up to MsvAvEOL: 0 with *val /
 * *val_len set, -ENOENT when absent, -EINVAL when the list is malformed
 * (a pair runs past the end, or no EOL). */
int ntlmssp_av_find(const uint8_t *av, size_t len, uint16_t id, const uint8_t **val, size_t *val_len);
/* Append one pair to a writer (value as given). */
void ntlmssp_av_put(struct wr *w, uint16_t id, const void *val, size_t len);

#endif
