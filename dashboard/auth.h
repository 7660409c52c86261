/* The dashboard's secrets: random tokens, comparing them in constant time,
 * the session cookie, the OTLP key kept in a file. No state: testable
 * alone (tests/unit/test_dash.c). */
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
/* Whether a Host names this machine as a container sees it:
 * host.docker.internal, host.containers.internal (podman's name) or the
 * gateway's address gw, each bare or with :PORT. */
bool apx_dash_gw_host_ok(const char *host, const char *gw, int port);
/* The key in the file at path (2n lowercase hex digits, a newline after
 * them or not), or else a new random one written there (mode 0600,
 * replaced whole): out (size >= 2n+1). A file readable by others is made
 * 0600. 0, or -1 with err set (naming the file, never the key). */
int apx_dash_key_keep(const char *path, char *out, size_t nbytes, char *err, size_t nerr);

#endif
