/* The dashboard (doc/dashboard.md): a web page and JSON API over run mode,
 * served on 127.0.0.1 by libmicrohttpd from run mode's own event loop, and
 * an OTLP receiver for containers on the run network's gateway.
 * It sees run mode only through runtime/monitor.h; the driver creates it
 * before the run (so the port and the OTLP key are known when the
 * environments are rendered) and hands its listener to apx_run(). */
#ifndef APX_DASH_H
#define APX_DASH_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/monitor.h"

typedef struct apx_dash_opts {
  int port;          /* --dashboard=PORT (fixed); 0: 18888, or the next free one */
  const char *token; /* --dashboard-token; NULL: random */
  const char *api_key; /* --dashboard-api-key (x-api-key, the telemetry API); NULL: random */
} apx_dash_opts;

typedef struct apx_dash apx_dash;

enum { APX_DASH_DEFAULT_PORT = 18888 };

/* Chooses the port (checked free on 127.0.0.1), the login token and an
 * OTLP key (random; the program's kept one replaces it when run mode hands
 * over its state directory). NULL with err set when it cannot (a fixed
 * port taken). */
apx_dash *apx_dash_new(const apx_dash_opts *o, char *err, size_t nerr);
void apx_dash_free(apx_dash *d);
/* What apx_run_opts.monitor takes. */
const apx_mon_listener *apx_dash_listener(apx_dash *d);
int apx_dash_port(const apx_dash *d);
const char *apx_dash_token(const apx_dash *d);
/* The key OTLP senders give in x-otlp-api-key (injected into every resource). */
const char *apx_dash_otlp_key(const apx_dash *d);
/* The key tools give in x-api-key for the telemetry API (read only). */
const char *apx_dash_api_key(const apx_dash *d);
/* "http://127.0.0.1:18888/login?t=TOKEN" */
const char *apx_dash_url(const apx_dash *d);

#endif
