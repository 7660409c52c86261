/* Name sanitisers (names.h). ASCII ranges only, never <ctype.h>: a locale
 * must not change a generated name. */
#include "names.h"

#include <stdbool.h>
#include <string.h>

static bool apx_name_is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

static char apx_name_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

const char *apx_name_env_var(apx_arena *a, const char *name) {
  size_t n = strlen(name);
  char *s = apx_arena_alloc(a, n + 1);
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (c >= 'a' && c <= 'z') s[i] = (char)(c - 'a' + 'A');
    else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) s[i] = c;
    else s[i] = '_';
  }
  s[n] = '\0';
  return s;
}

const char *apx_name_compose_project(apx_arena *a, const char *name) {
  if (!name || !name[0]) return "app";
  char *s = apx_arena_strdup(a, name);
  for (char *p = s; *p; p++) {
    *p = apx_name_lower(*p);
    if (!(apx_name_is_lower_alnum(*p) || *p == '_' || *p == '-')) *p = '-';
  }
  /* Docker wants the first character to be a letter or digit. */
  if (!apx_name_is_lower_alnum(s[0])) return apx_arena_printf(a, "app%s", s);
  return s;
}

const char *apx_name_dns_label(apx_arena *a, const char *name) {
  enum { MAX = 63 };
  char out[MAX + 1];
  size_t n = 0;
  bool dash = false;
  for (const char *p = name ? name : ""; *p && n < MAX; p++) {
    char c = apx_name_lower(*p);
    if (apx_name_is_lower_alnum(c)) {
      if (dash && n) out[n++] = '-';
      if (n < MAX) out[n++] = c;
      dash = false;
    } else {
      dash = true;
    }
  }
  while (n && out[n - 1] == '-') n--;
  if (!n) return "app";
  return apx_arena_strndup(a, out, n);
}
