/* A thin layer over libyaml's emitter that writes one YAML document into a
 * memory buffer or, for a large document, straight into a file. Every byte of YAML the back ends produce goes through it, so
 * quoting and escaping are libyaml's, not ours.
 *
 * Strings are quoted when a YAML 1.1 or 1.2 reader would take them for
 * something else (`no`, `8080:80`, `1e3`, `null`, ``), which matters because
 * docker-compose v1 reads YAML 1.1 (PyYAML). Calls after an error are
 * ignored; apx_yaml_finish reports it. */
#ifndef APX_YAML_OUT_H
#define APX_YAML_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "base/buf.h"

typedef struct apx_yaml {
  yaml_emitter_t emitter;
  apx_buf out;
  FILE *file; /* apx_yaml_init_file: the text goes here, not to out */
  /* What libyaml handed over (16 KB at a time) gathered for `file`: stdio's
   * 4 KB buffer made two writes of each (1,540 for 12 MB), this one 50. */
  char *pending;
  size_t npending;
  /* When set, called each time text reached `file` (flushed), with how many
   * bytes it now holds: another thread may read them (compose's join copies
   * a part while it is still being written). */
  void (*written)(void *ud, size_t total);
  void *written_ud;
  size_t nwritten;
  /* `file` is an output the commit syncs: its writing out is started as
   * the text reaches it (apx_output_writeback). Not for a scratch part. */
  bool writeback;
  /* apx_yaml_init_fragment: text still to be checked and dropped. */
  const char *skip;
  size_t nskip;
  bool skip_bad; /* the text differed from it */
  bool failed;
  const char *error; /* libyaml's problem text, or ours */
} apx_yaml;

/* Starts a stream and one document. */
void apx_yaml_init(apx_yaml *y);
/* The same, writing to a file as the text is made (the caller owns and
 * closes it; a failed write stays in its error flag, see ferror). */
void apx_yaml_init_file(apx_yaml *y, FILE *file);
/* A document split between emitters (compose writes its services in
 * threads). A fragment is written to a file as by apx_yaml_init_file, but the
 * caller first emits the events that lead to where the fragment starts, as
 * the emitter of the whole document did; their text must be exactly
 * `prefix`, which is checked and dropped (e.g. "services:" before the
 * entries of that mapping). */
void apx_yaml_init_fragment(apx_yaml *y, FILE *file, const char *prefix);
/* Writes out every event emitted so far, for the text to be continued by
 * another emitter (or this one after other text). False, with the error
 * set, when libyaml still holds events back (it looks ahead after the start
 * of a collection): a split must fall where nothing is pending, such as
 * after the end of a mapping's value. */
bool apx_yaml_pause(apx_yaml *y);
void apx_yaml_begin_map(apx_yaml *y);
void apx_yaml_end_map(apx_yaml *y);
void apx_yaml_begin_seq(apx_yaml *y);
/* `[a, b]` on one line: for short lists such as a healthcheck's test. */
void apx_yaml_begin_flow_seq(apx_yaml *y);
void apx_yaml_end_seq(apx_yaml *y);
void apx_yaml_strn(apx_yaml *y, const char *s, size_t n);
/* Inline, so that the length of a literal ("image") is the compiler's. */
static inline void apx_yaml_str(apx_yaml *y, const char *s) { apx_yaml_strn(y, s ? s : "", s ? strlen(s) : 0); }
/* A mapping key (a string scalar). */
static inline void apx_yaml_key(apx_yaml *y, const char *key) { apx_yaml_str(y, key); }
void apx_yaml_int(apx_yaml *y, int64_t i);
void apx_yaml_bool(apx_yaml *y, bool b);
/* Always double-quoted (a Helm template's `{{ … }}` stays inside quotes). */
void apx_yaml_str_quoted(apx_yaml *y, const char *s);
/* Double-quoted with an explicit tag ("tag:yaml.org,2002:int" is `!!int "…"`):
 * a number a template fills in, still a quoted scalar before rendering. */
void apx_yaml_str_tagged(apx_yaml *y, const char *tag, const char *s);
/* Ends this document and starts the next (`---`): multi-document files. */
void apx_yaml_next_document(apx_yaml *y);
/* key: value shorthands. */
static inline void apx_yaml_kv_str(apx_yaml *y, const char *key, const char *s) {
  apx_yaml_key(y, key);
  apx_yaml_str(y, s);
}
void apx_yaml_kv_int(apx_yaml *y, const char *key, int64_t i);
void apx_yaml_kv_bool(apx_yaml *y, const char *key, bool b);
/* Ends the document and stream. Returns the text (owned by y; valid until
 * apx_yaml_free; "" when written to a file) or NULL with y->error set. */
const char *apx_yaml_finish(apx_yaml *y, size_t *len);
void apx_yaml_free(apx_yaml *y);

/* True if a plain (unquoted) scalar with this text would not be read back as
 * a string by YAML 1.1 or 1.2 readers. Exposed for tests. */
bool apx_yaml_needs_quotes(const char *s, size_t n);

#endif
