/* A growable byte buffer (heap, not arena): used for rendering text whose
 * final size is unknown, such as templates and diagnostics. */
#ifndef APX_BUF_H
#define APX_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct apx_buf {
  char *data; /* always NUL-terminated once anything was appended */
  size_t len, cap;
} apx_buf;

void apx_buf_append(apx_buf *b, const char *s, size_t n);
void apx_buf_puts(apx_buf *b, const char *s);
void apx_buf_putc(apx_buf *b, char c);
void apx_buf_printf(apx_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void apx_buf_vprintf(apx_buf *b, const char *fmt, va_list ap);
/* A decimal integer, as printf's %lld writes it (without printf's cost, for
 * the hundreds of thousands of ports of a large compile). */
void apx_buf_int(apx_buf *b, long long v);
/* The text so far; "" for an empty buffer. */
const char *apx_buf_str(apx_buf *b);
void apx_buf_clear(apx_buf *b);
/* Hands the heap block to the caller (who frees it) and empties b; never NULL. */
char *apx_buf_take(apx_buf *b, size_t *len);
void apx_buf_free(apx_buf *b);

#endif
