/* libyaml emitter into memory or a file (yaml_out.h). */
#include "yaml_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/output.h"

static int apx_yaml_write(void *data, unsigned char *buffer, size_t size) {
  apx_buf_append((apx_buf *)data, (const char *)buffer, size);
  return 1;
}

#define APX_YAML_PENDING (256 * 1024)

/* A failed write is left in the stream's error flag, for the staged
 * output's commit to report as it reports any write error. */
static void apx_yaml_put(apx_yaml *y, const void *data, size_t n) {
  (void)fwrite(data, 1, n, y->file);
  y->nwritten += n;
}

static void apx_yaml_write_pending(apx_yaml *y) {
  if (y->npending) apx_yaml_put(y, y->pending, y->npending);
  y->npending = 0;
  if ((y->written || y->writeback) && fflush(y->file) == 0) {
    if (y->written) y->written(y->written_ud, y->nwritten);
    if (y->writeback) apx_output_writeback(y->file);
  }
}

static int apx_yaml_write_file(void *data, unsigned char *buffer, size_t size) {
  apx_yaml *y = data;
  if (y->nskip) {
    size_t k = size < y->nskip ? size : y->nskip;
    if (memcmp(buffer, y->skip, k) != 0) {
      y->skip_bad = true;
      return 0;
    }
    y->skip += k;
    y->nskip -= k;
    buffer += k;
    size -= k;
  }
  if (y->npending + size > APX_YAML_PENDING) apx_yaml_write_pending(y);
  if (size >= APX_YAML_PENDING || !y->pending) apx_yaml_put(y, buffer, size);
  else {
    memcpy(y->pending + y->npending, buffer, size);
    y->npending += size;
  }
  return 1;
}

static void apx_yaml_emit(apx_yaml *y, yaml_event_t *ev, int init_ok) {
  if (y->failed) {
    if (init_ok) yaml_event_delete(ev);
    return;
  }
  if (!init_ok) {
    y->failed = true;
    y->error = "libyaml could not create an event (invalid UTF-8?)";
    return;
  }
  /* yaml_emitter_emit takes ownership of the event, also on failure. */
  if (!yaml_emitter_emit(&y->emitter, ev)) {
    y->failed = true;
    y->error = y->skip_bad           ? "the text before a fragment differs from the whole document's"
               : y->emitter.problem ? y->emitter.problem
                                    : "libyaml emitter error";
  }
}

static void apx_yaml_start(apx_yaml *y, FILE *file, const char *skip) {
  memset(y, 0, sizeof *y);
  y->skip = skip;
  y->nskip = skip ? strlen(skip) : 0;
  if (!yaml_emitter_initialize(&y->emitter)) {
    y->failed = true;
    y->error = "libyaml could not initialise an emitter";
    return;
  }
  y->file = file;
  if (file) y->pending = malloc(APX_YAML_PENDING); /* without it, straight to the stream */
  if (file) yaml_emitter_set_output(&y->emitter, apx_yaml_write_file, y);
  else yaml_emitter_set_output(&y->emitter, apx_yaml_write, &y->out);
  yaml_emitter_set_encoding(&y->emitter, YAML_UTF8_ENCODING);
  yaml_emitter_set_unicode(&y->emitter, 1);
  /* No folding of long lines: a folded command line is valid YAML but hard
   * to read and to diff. */
  yaml_emitter_set_width(&y->emitter, -1);
  yaml_emitter_set_indent(&y->emitter, 2);
  yaml_event_t ev;
  apx_yaml_emit(y, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
  apx_yaml_emit(y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
}

void apx_yaml_init(apx_yaml *y) { apx_yaml_start(y, NULL, NULL); }
void apx_yaml_init_file(apx_yaml *y, FILE *file) { apx_yaml_start(y, file, NULL); }
void apx_yaml_init_fragment(apx_yaml *y, FILE *file, const char *prefix) { apx_yaml_start(y, file, prefix); }

bool apx_yaml_pause(apx_yaml *y) {
  if (y->failed) return false;
  /* Events still queued would be written only after later ones arrive. */
  if (y->emitter.events.head != y->emitter.events.tail) {
    y->failed = true;
    y->error = "libyaml holds events back where the document was to be split";
    return false;
  }
  if (!yaml_emitter_flush(&y->emitter)) {
    y->failed = true;
    y->error = y->skip_bad ? "the text before a fragment differs from the whole document's"
                           : "libyaml could not flush its output";
    return false;
  }
  if (y->nskip) {
    y->failed = true;
    y->error = "the text before a fragment is shorter than the whole document's";
    return false;
  }
  if (y->file) apx_yaml_write_pending(y);
  return true;
}

static void apx_yaml_begin_map_style(apx_yaml *y, yaml_mapping_style_t style) {
  yaml_event_t ev;
  apx_yaml_emit(y, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, style));
}

void apx_yaml_begin_map(apx_yaml *y) { apx_yaml_begin_map_style(y, YAML_BLOCK_MAPPING_STYLE); }

void apx_yaml_end_map(apx_yaml *y) {
  yaml_event_t ev;
  apx_yaml_emit(y, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void apx_yaml_begin_seq_style(apx_yaml *y, yaml_sequence_style_t style) {
  yaml_event_t ev;
  apx_yaml_emit(y, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, style));
}

void apx_yaml_begin_seq(apx_yaml *y) { apx_yaml_begin_seq_style(y, YAML_BLOCK_SEQUENCE_STYLE); }
void apx_yaml_begin_flow_seq(apx_yaml *y) { apx_yaml_begin_seq_style(y, YAML_FLOW_SEQUENCE_STYLE); }

void apx_yaml_end_seq(apx_yaml *y) {
  yaml_event_t ev;
  apx_yaml_emit(y, &ev, yaml_sequence_end_event_initialize(&ev));
}

bool apx_yaml_needs_quotes(const char *s, size_t n) {
  /* Words YAML 1.1 resolves to booleans or null (and 1.1's `=` and `<<`);
   * compared case-insensitively, which quotes a few harmless extras. None is
   * longer than 5 bytes: longer strings skip the list. */
#define W(s) {s, sizeof s - 1}
  static const struct {
    const char *w;
    size_t n;
  } words[] = {W("y"),     W("n"),     W("yes"),   W("no"),   W("true"), W("false"), W("on"), W("off"),
               W("null"),  W("~"),     W(".inf"),  W("+.inf"), W("-.inf"), W(".nan"), W("="),  W("<<")};
#undef W
  if (n == 0) return true;
  /* Only these bytes start a word of the list (most keys and values, such
   * as environment variable names, skip it). */
  if (n <= 5 && strchr("yYnNtTfFoO~.+-=<", s[0]))
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
      if (words[i].n == n && strncasecmp(words[i].w, s, n) == 0) return true;
  /* Anything that starts like a number may be an int, float, sexagesimal
   * (`8080:80` is 483680 in YAML 1.1) or timestamp: quote it. */
  unsigned char c0 = (unsigned char)s[0];
  if (c0 >= '0' && c0 <= '9') return true;
  /* Signed or leading-dot numbers: -1, +.5, .5 (not -c or ../dir). */
  size_t i = (c0 == '+' || c0 == '-') ? 1 : 0;
  if (i < n && s[i] == '.') i++;
  if (i > 0 && i < n && s[i] >= '0' && s[i] <= '9') return true;
  return false;
}

/* Copies n bytes of s and NUL; true if every byte is below 0x80. Eight
 * bytes at a time, the last eight overlapping: one pass instead of a check
 * and a memcpy. */
static bool apx_yaml_copy_ascii(yaml_char_t *dst, const char *s, size_t n) {
  uint64_t acc = 0, w;
  if (n >= 8) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      memcpy(&w, s + i, 8);
      acc |= w;
      memcpy(dst + i, &w, 8);
    }
    memcpy(&w, s + n - 8, 8);
    acc |= w;
    memcpy(dst + n - 8, &w, 8);
  } else {
    for (size_t i = 0; i < n; i++) {
      acc |= (unsigned char)s[i];
      dst[i] = (yaml_char_t)s[i];
    }
  }
  dst[n] = '\0';
  return (acc & UINT64_C(0x8080808080808080)) == 0;
}

static void apx_yaml_scalar(apx_yaml *y, const char *s, size_t n, yaml_scalar_style_t style) {
  yaml_event_t ev;
  if (y->failed) return;
  /* An ASCII scalar is valid UTF-8 as it stands, so the event is made here:
   * yaml_scalar_event_initialize would check the UTF-8 again, byte by byte
   * (a tenth of the emitter's cost on a large file). The emitter frees the
   * copy with yaml_free, which is free(). Anything else goes through
   * libyaml's initialiser and its check. */
  yaml_char_t *copy = malloc(n + 1);
  if (!copy) {
    y->failed = true;
    y->error = "out of memory";
    return;
  }
  if (apx_yaml_copy_ascii(copy, s, n)) {
    memset(&ev, 0, sizeof ev);
    ev.type = YAML_SCALAR_EVENT;
    ev.data.scalar.value = copy;
    ev.data.scalar.length = n;
    ev.data.scalar.plain_implicit = 1;
    ev.data.scalar.quoted_implicit = 1;
    ev.data.scalar.style = style;
    apx_yaml_emit(y, &ev, 1);
    return;
  }
  free(copy);
  apx_yaml_emit(y, &ev,
                yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)s, (int)n, 1, 1, style));
}

void apx_yaml_strn(apx_yaml *y, const char *s, size_t n) {
  if (n > (size_t)INT32_MAX) {
    y->failed = true;
    y->error = "string too long for YAML";
    return;
  }
  apx_yaml_scalar(y, s, n, apx_yaml_needs_quotes(s, n) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
}

void apx_yaml_str_quoted(apx_yaml *y, const char *s) {
  if (!s) s = "";
  apx_yaml_scalar(y, s, strlen(s), YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

void apx_yaml_str_tagged(apx_yaml *y, const char *tag, const char *s) {
  if (!s) s = "";
  yaml_event_t ev;
  apx_yaml_emit(y, &ev,
                yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *)(uintptr_t)tag, (yaml_char_t *)(uintptr_t)s,
                                             (int)strlen(s), 0, 0, YAML_DOUBLE_QUOTED_SCALAR_STYLE));
}

void apx_yaml_next_document(apx_yaml *y) {
  yaml_event_t ev;
  apx_yaml_emit(y, &ev, yaml_document_end_event_initialize(&ev, 1));
  apx_yaml_emit(y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0));
}

void apx_yaml_int(apx_yaml *y, int64_t i) {
  /* Digits by hand: snprintf costs more than the emitter for a port. */
  char d[24];
  size_t k = sizeof d;
  uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
  do {
    d[--k] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (i < 0) d[--k] = '-';
  apx_yaml_scalar(y, d + k, sizeof d - k, YAML_PLAIN_SCALAR_STYLE);
}

void apx_yaml_bool(apx_yaml *y, bool b) {
  apx_yaml_scalar(y, b ? "true" : "false", b ? 4 : 5, YAML_PLAIN_SCALAR_STYLE);
}

void apx_yaml_kv_int(apx_yaml *y, const char *key, int64_t i) {
  apx_yaml_key(y, key);
  apx_yaml_int(y, i);
}

void apx_yaml_kv_bool(apx_yaml *y, const char *key, bool b) {
  apx_yaml_key(y, key);
  apx_yaml_bool(y, b);
}

const char *apx_yaml_finish(apx_yaml *y, size_t *len) {
  yaml_event_t ev;
  apx_yaml_emit(y, &ev, yaml_document_end_event_initialize(&ev, 1));
  apx_yaml_emit(y, &ev, yaml_stream_end_event_initialize(&ev));
  if (!y->failed && !yaml_emitter_flush(&y->emitter)) {
    y->failed = true;
    y->error = "libyaml could not flush its output";
  }
  if (y->file) apx_yaml_write_pending(y);
  if (y->failed) return NULL;
  if (len) *len = y->file ? 0 : y->out.len;
  return y->file ? "" : apx_buf_str(&y->out);
}

void apx_yaml_free(apx_yaml *y) {
  yaml_emitter_delete(&y->emitter);
  free(y->pending);
  y->pending = NULL;
  apx_buf_free(&y->out);
}
