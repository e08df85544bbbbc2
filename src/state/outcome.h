/* Outcomes of requests that outlived their channel (Samba bug 14449): a
 * WRITE, SET_INFO or IOCTL that was still running when its connection
 * died runs to its end (nothing cancels it halfway), but its reply is
 * lost.  The client cannot tell whether it ran, and resends it on another
 * channel with SMB2_FLAGS_REPLAY_OPERATION ([MS-SMB2] 3.2.4.1.x, 3.2.5.1.x:
 * a new MessageId, usually a newer ChannelSequence, the same body).  Run
 * again, it would undo what happened since (another client's write over
 * the same range, a size set since).  So its outcome is kept on its open
 * and the replay gets that instead of running.
 *
 * What makes a match safe: a replay carries the same body as the request
 * it repeats, and nothing else does with the replay flag.  The key is the
 * command, the open (the set lives in it), the ChannelSequence of the
 * request, and a keyed hash (HMAC-SHA256, a key drawn at start) of the
 * fields that say what the request does, given by the command
 * (smb2_cmd_desc.replay_key: WRITE offset, length, flags and data;
 * SET_INFO info type, class, additional information and buffer; IOCTL
 * control code, flags, maximum output and input).  A replay matches a
 * record when the key is equal and its ChannelSequence is the record's or
 * at most OUTCOME_SEQ_WINDOW newer (a client moves the sequence on once
 * per channel failure, 3.2.4.1.x; further on it has moved on, and an
 * identical request under it is a new one).
 *
 * Bounds: OUTCOME_PER_OPEN records per open (the oldest goes first),
 * OUTCOME_PER_USER for all the opens of one user (the uid the open is
 * charged to, state/open.c: all its sessions and ClientGUIDs together,
 * which a client chooses freely), OUTCOME_TOTAL in the server (past
 * either nothing more is recorded for it: a replay then runs again, as
 * without this cache).  The per-user share keeps one user from taking the
 * whole server's room: it takes OUTCOME_TOTAL / OUTCOME_PER_USER users
 * (8) to fill it, and a user below its share loses records only then.
 * OUTCOME_BODY_MAX bytes of
 * response body each (a larger response is not recorded), and a lifetime
 * (`smb3d:replay outcome timeout`, default 60 s).  A record too old is
 * never answered and is freed at the next look at its open's set; the set
 * goes with its open (open_put).
 *
 * Lock: one of a few striped mutexes chosen by the open's address; under
 * it only the per-user counts' lock, a leaf (the hash is computed before
 * either is taken).
 * The record of a request is made before the request gives its channel
 * sequence ticket back (proto/chain.c), so a replay that passed the
 * sequence barrier (it waits for the older requests to drain) finds it. */
#ifndef SMB3D_STATE_OUTCOME_H
#define SMB3D_STATE_OUTCOME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define OUTCOME_PER_OPEN 16
#define OUTCOME_TOTAL 4096
#define OUTCOME_PER_USER 512
#define OUTCOME_BODY_MAX 128
#define OUTCOME_SEQ_WINDOW 2

struct open;

/* What identifies a request and its replays. */
struct outcome_key {
	uint16_t command;
	uint16_t seq;                 /* ChannelSequence of the request */
	uint8_t digest[32];           /* keyed hash of what the command names */
};

/* A recorded outcome: the status and the response body (after the SMB2
 * header; empty for an error, whose body the pipeline writes). */
struct outcome {
	struct outcome *next;
	struct outcome_key key;
	uint64_t expires_ms;
	uint32_t status;
	uint16_t body_len;
	uint8_t body[OUTCOME_BODY_MAX];
};

/* The records of one open, oldest first (struct open.outcomes). */
struct outcome_set {
	struct outcome *head, *tail;
	unsigned n;
	uint64_t owner;               /* the user its records count against (the open's charge_uid;
	                                 0: none), set before the first record and never changed */
};

/* The key of a request: command, sequence and the hash of iov[0..n)
 * (n <= 7).  False when the hash failed (then nothing is recorded or
 * looked up). */
bool outcome_key_make(struct outcome_key *k, uint16_t command, uint16_t seq, const struct iovec *iov, int n);

/* The rules on one set, without locks (unit-tested).  `now` in ms.
 * find: copies the record a replay with key k gets into *out; drops the
 * records that expired or that k's sequence left behind. */
bool outcome_set_find(struct outcome_set *s, const struct outcome_key *k, uint64_t now, struct outcome *out);
/* add: records rec (copied) until now + ttl_ms; drops what expired, what
 * rec's sequence left behind, and the oldest at OUTCOME_PER_OPEN.  False
 * when OUTCOME_TOTAL records exist, when s's owner holds OUTCOME_PER_USER,
 * or out of memory (nothing recorded). */
bool outcome_set_add(struct outcome_set *s, const struct outcome *rec, uint64_t now, uint64_t ttl_ms);
void outcome_set_clear(struct outcome_set *s);
/* Records in the server, and of one owner (tests, status). */
unsigned outcome_count(void);
unsigned outcome_count_of(uint64_t owner);

/* The same on a live open, under its striped lock; the clock is
 * CLOCK_MONOTONIC. */
bool open_outcome_find(struct open *o, const struct outcome_key *k, struct outcome *out);
bool open_outcome_record(struct open *o, const struct outcome *rec, unsigned ttl_s);

#endif
