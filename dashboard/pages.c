/* The pages: the login (token URL and form), the dashboard's one page and
 * its scripts and styles, all from the binary (assets.h). */
#include <string.h>

#include "assets.h"
#include "auth.h"
#include "server.h"

static const apx_dash_asset *apx_asset(const char *path) {
  for (const apx_dash_asset *a = apx_dash_assets; a->path; a++)
    if (strcmp(a->path, path) == 0) return a;
  return NULL;
}

static int apx_send_asset(apx_dash_req *r, const char *path, unsigned status) {
  const apx_dash_asset *a = apx_asset(path);
  if (!a) return apx_dash_reply_error(r, 404, "not found");
  return apx_dash_reply(r, status, a->ctype, a->data, a->len);
}

/* GET /login?t=TOKEN: the cookie, then the dashboard; without a good
 * token, the form (401). */
static int apx_login(apx_dash_req *r) {
  const char *t = apx_dash_query(r, "t");
  if (t && apx_dash_secret_eq(t, apx_dash_token(r->dash))) {
    char *c = apx_arena_printf(r->arena, "apx_dash=%s; Path=/; HttpOnly; SameSite=Strict", t);
    apx_dash_reply_header(r, "Set-Cookie", c);
    apx_dash_reply_header(r, "Location", "/");
    return apx_dash_reply(r, 303, "text/plain", "logged in\n", 10);
  }
  return apx_send_asset(r, "/static/login.html", 401);
}

static int apx_logout(apx_dash_req *r) {
  apx_dash_reply_header(r, "Set-Cookie", "apx_dash=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  apx_dash_reply_header(r, "Location", "/login");
  return apx_dash_reply(r, 303, "text/plain", "logged out\n", 11);
}

static int apx_index(apx_dash_req *r) { return apx_send_asset(r, "/static/index.html", 200); }

static int apx_static(apx_dash_req *r) { return apx_send_asset(r, r->path, 200); }

static const apx_dash_route apx_pages_routes[] = {
    {"GET", "/login", APX_DASH_PUBLIC, apx_login, 0},
    {"GET", "/static/login.css", APX_DASH_PUBLIC, apx_static, 0},
    {"POST", "/logout", APX_DASH_AUTH | APX_DASH_SAME_ORIGIN, apx_logout, 0},
    {"GET", "/", APX_DASH_AUTH | APX_DASH_HTML, apx_index, 0},
    {"GET", "/static/*", APX_DASH_AUTH | APX_DASH_HTML, apx_static, 0},
    {NULL, NULL, 0, NULL, 0},
};

const apx_dash_module apx_dash_mod_pages = {.name = "pages", .routes = apx_pages_routes};
