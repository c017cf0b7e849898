/*
 * pan: does a request body hold something that looks like a card number
 * (a primary account number, PAN)? hookledger never stores card data, so
 * a signed body that holds one is refused before anything is kept.
 *
 * The rule (docs/operations.md, "Card data"): a group of 13 to 19 digits
 * that passes the Luhn check. Within a string, digits may be joined by
 * one space or one dash ("4111 1111 1111 1111", "4111-1111-1111-1111");
 * any other byte, or two separators in a row, ends the group. A group of
 * more than 19 digits is a longer number, not a PAN, and is not searched
 * for one inside it; a group starting with 0 is not one (no card
 * network issues such a number), nor one glued to an ASCII letter before
 * or after it (an identifier such as "RF18539007547034"; "tok_4111..."
 * is not glued: '_' is not a letter). Strings and object keys are checked after JSON
 * unescaping; numbers by their digits as written.
 */
#ifndef HL_PAN_H
#define HL_PAN_H

#include <stddef.h>

#include <jansson.h>

#define PAN_MIN_DIGITS	13
#define PAN_MAX_DIGITS	19

/* 1 when the digits d[0..n) pass the Luhn check, else 0. Thread-safe. */
int	pan_luhn(const char *d, size_t n);

/* 1 when len bytes at s hold a PAN-like group (the rule above), else 0.
 * s need not be NUL-terminated. Thread-safe. */
int	pan_in_text(const char *s, size_t len);

/* 1 when the JSON document holds a PAN-like group in a string, an object
 * key or a number: root is its parsed form (strings and keys, unescaped),
 * raw/len the bytes it was parsed from (numbers, as written). raw may be
 * NULL to check root only. Depth is bounded by the parser's limit.
 * Thread-safe. */
int	pan_in_json(json_t *root, const unsigned char *raw, size_t len);

/* Overwrite every digit of each PAN-like group in s[0..len) with '*',
 * except its last four, in place; returns how many groups were masked.
 * Masking is looser than refusing: digits may also be joined by one '.',
 * '_', '/', '+' or ':' (one of these kinds per group), as a path or an
 * id may write them. Thread-safe. */
size_t	pan_mask(char *s, size_t len);

#endif
