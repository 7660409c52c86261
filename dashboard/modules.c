/* The parts of the dashboard, in routing order (server.h): a new part is
 * one file with its apx_dash_module and one line here. */
#include "server.h"

extern const apx_dash_module apx_dash_mod_api;   /* api.c: resources, console logs, commands */
extern const apx_dash_module apx_dash_mod_pages; /* pages.c: login, pages, scripts, styles */
extern const apx_dash_module apx_dash_mod_telemetry; /* telemetry_api.c: OTLP receiver, /api/telemetry */

const apx_dash_module *const apx_dash_modules[] = {
    &apx_dash_mod_api,
    &apx_dash_mod_pages,
    &apx_dash_mod_telemetry,
    NULL,
};
