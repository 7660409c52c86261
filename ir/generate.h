/* Generated parameter values (`generate { length = 22  special = false … }`).
 * Run mode saves them in its state directory, compose in `.env`; both draw
 * them here, so a value has the same length and characters wherever it is
 * made. */
#ifndef APX_GENERATE_H
#define APX_GENERATE_H

#include <stddef.h>

#include "ir.h"

/* The characters of the `special` class: safe unquoted in URIs, shells and .env. */
#define APX_GENERATE_SPECIAL "-_.~"

/* The length to draw: g->length, or 22 when unset. */
size_t apx_ir_generate_length(const apx_generate *g);
/* Fills out[0..len) from the enabled classes (lower, upper, numeric,
 * special; lower case when none), each minimum met, and out[len] = '\0'.
 * Aborts rather than use a weaker source than getrandom(). */
void apx_ir_generate(const apx_generate *g, char *out, size_t len);

#endif
