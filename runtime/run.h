/* Run mode: `aspirec app.apx --run` starts the application on this machine
 * and supervises it until interrupted (doc/run-mode.md). The CLI is a thin
 * layer over apx_run(); everything else lives in runtime/. */
#ifndef APX_RUN_H
#define APX_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "ir/ir.h"

struct apx_mon_listener; /* runtime/monitor.h: a watcher such as the dashboard */

typedef struct apx_run_opts {
  const char *state_dir; /* NULL: .aspirec beside the program's main file */
  int64_t grace_ms;      /* SIGTERM, then SIGKILL after this; <= 0: 10 s */
  bool no_color;         /* --no-color (NO_COLOR and a non-terminal also turn colour off) */
  const char *engine;    /* --engine: "docker", "podman", "local" (fallbacks only); NULL: the first that answers */
  const struct apx_mon_listener *monitor; /* the dashboard, or NULL (runtime/monitor.h) */
} apx_run_opts;

/* Runs a compiled module until Ctrl-C, SIGTERM or SIGHUP, or until nothing
 * is left running. Returns the exit status: 0 after a clean stop (or when
 * every resource finished well), 1 when a resource failed or the program
 * cannot run as written, 2 for
 * problems of the environment found before anything starts (a required
 * parameter without a value, a fixed port already taken, a container with
 * no engine and no fallback, an unusable state directory). */
int apx_run(apx_module *m, const apx_run_opts *opts);

/* Parses a duration as written on the command line: "10s", "500ms", "2m",
 * "1h", or a number of seconds. False when malformed. */
bool apx_run_parse_duration(const char *s, int64_t *ms);

#endif
