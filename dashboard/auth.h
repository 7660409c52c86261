/* The dashboard's secrets: random tokens, comparing them in constant time,
 * the session cookie. No state: testable alone (tests/unit/test_dash.c). */
#ifndef APX_DASH_AUTH_H
#define APX_DASH_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* n random bytes from getrandom (the kernel's generator), as 2n lowercase
 * hex digits in out (size >= 2n+1). False when the kernel gives none. */
bool apx_dash_random_hex(char *out, size_t nbytes);
/* a equals b, in time that depends on their lengths only. NULL equals nothing. */
bool apx_dash_secret_eq(const char *a, const char *b);
/* The value of cookie `name` in a Cookie header (copied into out, size n), or false. */
bool apx_dash_cookie(const char *header, const char *name, char *out, size_t n);
/* "Bearer TOKEN" -> TOKEN (a pointer into header), or NULL. */
const char *apx_dash_bearer(const char *header);
/* Whether an Origin (or Host) names this server: http://127.0.0.1:PORT,
 * http://localhost:PORT, http://[::1]:PORT (Host: without the scheme). */
bool apx_dash_origin_ok(const char *origin, int port);
bool apx_dash_host_ok(const char *host, int port);

#endif
