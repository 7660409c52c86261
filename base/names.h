/* Name sanitisers: one function per naming rule a target imposes. Each maps
 * any text (a resource or file name) to a name the rule accepts, the same
 * way every time, so a back end never rolls its own. The result lives in
 * the arena. */
#ifndef APX_NAMES_H
#define APX_NAMES_H

#include "arena.h"

/* An environment variable name: ASCII letters and digits upper-cased, every
 * other byte '_' ("pg-password.x" -> "PG_PASSWORD_X"). */
const char *apx_name_env_var(apx_arena *a, const char *name);

/* A Compose project (and network) name: lower case, [a-z0-9_-], starting
 * with a letter or digit ("My Shop" -> "my-shop", "_x" -> "app_x", "" ->
 * "app"). */
const char *apx_name_compose_project(apx_arena *a, const char *name);

/* A DNS label (RFC 1123, Kubernetes object names): lower case, [a-z0-9-],
 * starting and ending with a letter or digit, at most 63 bytes; runs of
 * other bytes become one '-' ("Shop_API" -> "shop-api", "" -> "app"). */
const char *apx_name_dns_label(apx_arena *a, const char *name);

#endif
