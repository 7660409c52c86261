/* --emit=ir: the IR as JSON (doc/ir.md), one file. */
#include <stdlib.h>
#include <string.h>

#include "../ir/buf.h"
#include "../ir/compile.h"
#include "backend.h"

int apx_emit_ir(apx_module *m, apx_output *out) {
  char *json = apx_ir_to_json(m);
  apx_buf b = {0};
  apx_buf_puts(&b, json);
  apx_buf_putc(&b, '\n'); /* a text file ends with a newline */
  apx_output_add(out, "ir.json", b.data, b.len);
  apx_buf_free(&b);
  free(json);
  return 0;
}
