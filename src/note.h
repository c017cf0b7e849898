/*
 * note: signed checkpoints in the C2SP tlog-checkpoint and signed-note
 * formats, with Ed25519 keys in the Go note package's text forms, so that
 * standard tools can check them.
 *
 * Checkpoint body:	<origin>\n<tree size>\n<base64 root hash>\n
 * Signed note:		<body>\n— <key name> <base64(key id || signature)>\n
 * Key id:		first 4 bytes of SHA-256(<key name> "\n" 0x01 <public key>)
 * Verifier key:	<key name>+<key id hex>+<base64(0x01 || public key)>
 * Signer key:		PRIVATE+KEY+<key name>+<key id hex>+<base64(0x01 || seed)>
 */
#ifndef HL_NOTE_H
#define HL_NOTE_H

#include <stddef.h>
#include <stdint.h>

#define NOTE_NAME_MAX		128	/* bytes in a key name / origin */
#define NOTE_MAX		8192	/* bytes in a signed note */
#define NOTE_HASH_LEN		32

struct note_signer {
	char		 name[NOTE_NAME_MAX + 1];
	unsigned char	 id[4];
	unsigned char	*sk;		/* sodium_malloc'd 64-byte secret key */
};

struct note_verifier {
	char		 name[NOTE_NAME_MAX + 1];
	unsigned char	 id[4];
	unsigned char	 pk[32];
};

struct note_checkpoint {
	char		 origin[NOTE_NAME_MAX + 1];
	uint64_t	 size;
	unsigned char	 root[NOTE_HASH_LEN];
};

/* Whether s (len bytes) can be a key name or a checkpoint origin: 1 to
 * NOTE_NAME_MAX printable ASCII bytes, no space or '+'. Pure. */
int	note_name_valid(const char *s, size_t len);

/* A new key pair named name (1 to NOTE_NAME_MAX printable ASCII bytes, no
 * space or '+'); writes PREFIX.key (mode 0600, the signer key) and
 * PREFIX.pub (the verifier key), refusing to overwrite either. 0, or -1
 * with a line in err. */
int	note_keygen(const char *name, const char *prefix, char *err,
	    size_t errlen);

/* Read a signer key file; refuses one readable or writable by group or
 * others. The caller frees with note_signer_free(). 0 or -1 with err. */
int	note_signer_load(const char *path, struct note_signer *s, char *err,
	    size_t errlen);

/* Wipe and free; accepts a zeroed struct. */
void	note_signer_free(struct note_signer *s);

/* Read a verifier key file (one line). 0 or -1 with err. */
int	note_verifier_load(const char *path, struct note_verifier *v,
	    char *err, size_t errlen);

/* Parse a verifier key from text (len bytes). 0 or -1 with err. */
int	note_verifier_parse(const char *text, size_t len,
	    struct note_verifier *v, char *err, size_t errlen);

/* Sign checkpoint c with s: the signed note into out (cap bytes), NUL
 * terminated; its length in *len. 0 or -1 with err. */
int	note_sign_checkpoint(const struct note_signer *s,
	    const struct note_checkpoint *c, char *out, size_t cap,
	    size_t *len, char *err, size_t errlen);

/* Parse the signed note text (len bytes) as a checkpoint and verify that
 * v signed it: 0 and *c filled, or -1 with err saying what is wrong (not
 * a checkpoint, no signature by this key, a bad signature). Signatures by
 * other keys are ignored, as the format asks. */
int	note_open_checkpoint(const char *text, size_t len,
	    const struct note_verifier *v, struct note_checkpoint *c,
	    char *err, size_t errlen);

/* Parse the checkpoint in a signed note without checking any signature,
 * for tools that pass it on to be checked elsewhere. 0 or -1 with err. */
int	note_parse_checkpoint(const char *text, size_t len,
	    struct note_checkpoint *c, char *err, size_t errlen);

#endif
