/* Paths as written in a program, joined and normalised lexically. */
#include "path.h"

#include <stdbool.h>
#include <string.h>

const char *apx_path_from(apx_arena *a, const char *dir, const char *path) {
  if (!path) return NULL;
  if (path[0] == '/' || !dir) return apx_arena_strdup(a, path);
  const char *joined = strcmp(dir, ".") == 0 ? path : apx_arena_printf(a, "%s/%s", dir, path);
  /* Normalise "./" and "a/../" lexically: the path may not exist yet. */
  size_t n = strlen(joined);
  char *out = apx_arena_alloc(a, n + 1);
  size_t o = 0;
  const char *p = joined;
  bool abs = joined[0] == '/';
  while (*p) {
    while (*p == '/') p++;
    const char *seg = p;
    while (*p && *p != '/') p++;
    size_t len = (size_t)(p - seg);
    if (len == 0 || (len == 1 && seg[0] == '.')) continue;
    if (len == 2 && seg[0] == '.' && seg[1] == '.') {
      /* Drop the last segment unless there is none or it is "..". */
      size_t back = o;
      while (back > 0 && out[back - 1] != '/') back--;
      bool last_dotdot = o - back == 2 && out[back] == '.' && out[back + 1] == '.';
      if (o > (abs ? 1u : 0u) && !last_dotdot) {
        o = back > 0 ? back - 1 : 0;
        if (abs && o == 0) o = 1;
        continue;
      }
      if (abs) continue;
    }
    if (o > 0 && out[o - 1] != '/') out[o++] = '/';
    if (o == 0 && abs) out[o++] = '/';
    memcpy(out + o, seg, len);
    o += len;
  }
  if (o == 0) out[o++] = abs ? '/' : '.';
  out[o] = '\0';
  return out;
}
