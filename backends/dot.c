/* --emit=dot: the resource graph for Graphviz. DOT has no library worth
 * linking, so it is written here by hand; every identifier and label is a
 * quoted string with `"` and `\` escaped. Order follows declaration order, so
 * the output is deterministic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "backend.h"

static void apx_dot_quoted(apx_buf *b, const char *s) {
  apx_buf_putc(b, '"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      apx_buf_putc(b, '\\');
      apx_buf_putc(b, (char)c);
    } else if (c < 0x20) {
      apx_buf_putc(b, ' '); /* a raw newline would end the label in odd ways */
    } else {
      apx_buf_putc(b, (char)c);
    }
  }
  apx_buf_putc(b, '"');
}

static const char *apx_dot_shape(const apx_resource *r) {
  switch (r->kind) {
  case APX_KIND_CONTAINER: return "box";
  case APX_KIND_PROJECT: return "component";
  case APX_KIND_EXECUTABLE: return "cds";
  case APX_KIND_EXTERNAL: return r->parent ? "cylinder" : "ellipse";
  case APX_KIND_PARAM: return "note";
  case APX_KIND__COUNT: break;
  }
  return "box";
}

static void apx_dot_node(apx_buf *b, const apx_resource *r, int indent) {
  /* The label is built unescaped first, with '\n' standing for DOT's line
   * break, then escaped as a whole except for those breaks. */
  apx_buf label = {0};
  apx_buf_puts(&label, r->name);
  apx_buf_putc(&label, '\n');
  const char *kind = apx_ir_kind_name(r->kind);
  if (r->type && strcmp(r->type, kind) != 0) apx_buf_printf(&label, "%s (%s)", r->type, kind);
  else apx_buf_puts(&label, kind);
  for (size_t i = 0; i < r->nendpoints; i++) {
    const apx_endpoint *e = &r->endpoints[i];
    if (!e->external) continue;
    apx_buf_printf(&label, "\nexternal %s", e->name);
    if (e->port) apx_buf_printf(&label, " :%d", e->port);
  }
  if (r->replicas > 1) apx_buf_printf(&label, "\nx%d", r->replicas);
  if (!r->publish) apx_buf_puts(&label, "\nrun only");

  apx_buf_printf(b, "%*s", indent, "");
  apx_dot_quoted(b, r->name);
  apx_buf_puts(b, " [label=\"");
  for (const char *s = apx_buf_str(&label); *s; s++) {
    if (*s == '\n') apx_buf_puts(b, "\\n");
    else if (*s == '"' || *s == '\\') {
      apx_buf_putc(b, '\\');
      apx_buf_putc(b, *s);
    } else if ((unsigned char)*s < 0x20) apx_buf_putc(b, ' ');
    else apx_buf_putc(b, *s);
  }
  apx_buf_printf(b, "\", shape=%s", apx_dot_shape(r));
  if (r->kind == APX_KIND_EXTERNAL && !r->parent) apx_buf_puts(b, ", style=dashed");
  if (r->explicit_start) apx_buf_puts(b, ", style=dotted");
  apx_buf_puts(b, "];\n");
  apx_buf_free(&label);
}

/* Children hang off their parent: first-child / next-sibling links by
 * declaration index, found through a pointer hash (modules can be large). */
typedef struct apx_dot_tree {
  size_t *first, *next; /* SIZE_MAX: none */
} apx_dot_tree;

static void apx_dot_emit_tree(apx_buf *b, const apx_module *m, const apx_dot_tree *t, size_t i, int indent) {
  const apx_resource *r = m->resources[i];
  if (t->first[i] == SIZE_MAX) {
    apx_dot_node(b, r, indent);
    return;
  }
  apx_buf_printf(b, "%*ssubgraph ", indent, "");
  apx_buf cname = {0};
  apx_buf_printf(&cname, "cluster_%s", r->name);
  apx_dot_quoted(b, apx_buf_str(&cname));
  apx_buf_free(&cname);
  apx_buf_puts(b, " {\n");
  apx_buf_printf(b, "%*slabel=", indent + 2, "");
  apx_dot_quoted(b, r->name);
  apx_buf_printf(b, ";\n%*sstyle=rounded;\n", indent + 2, "");
  apx_dot_node(b, r, indent + 2);
  for (size_t c = t->first[i]; c != SIZE_MAX; c = t->next[c]) apx_dot_emit_tree(b, m, t, c, indent + 2);
  apx_buf_printf(b, "%*s}\n", indent, "");
}

int apx_emit_dot(apx_module *m, apx_output *out) {
  size_t n = m->nresources;
  apx_dot_tree t;
  t.first = malloc((n ? n : 1) * sizeof *t.first);
  t.next = malloc((n ? n : 1) * sizeof *t.next);
  size_t *last = malloc((n ? n : 1) * sizeof *last);
  size_t hcap = 16;
  while (hcap < n * 2 + 2) hcap *= 2;
  const apx_resource **hk = calloc(hcap, sizeof *hk);
  size_t *hv = calloc(hcap, sizeof *hv);
  if (!t.first || !t.next || !last || !hk || !hv) abort();
  for (size_t i = 0; i < n; i++) {
    t.first[i] = t.next[i] = last[i] = SIZE_MAX;
    size_t j = ((uintptr_t)m->resources[i] >> 4) & (hcap - 1);
    while (hk[j]) j = (j + 1) & (hcap - 1);
    hk[j] = m->resources[i];
    hv[j] = i;
  }
  bool *is_child = calloc(n ? n : 1, sizeof *is_child);
  if (!is_child) abort();
  for (size_t i = 0; i < n; i++) {
    const apx_resource *p = m->resources[i]->parent;
    if (!p || p == m->resources[i]) continue;
    size_t j = ((uintptr_t)p >> 4) & (hcap - 1), pi = SIZE_MAX;
    while (hk[j]) {
      if (hk[j] == p) {
        pi = hv[j];
        break;
      }
      j = (j + 1) & (hcap - 1);
    }
    if (pi == SIZE_MAX) continue; /* parent not in the module: draw it at top level */
    is_child[i] = true;
    if (last[pi] == SIZE_MAX) t.first[pi] = i;
    else t.next[last[pi]] = i;
    last[pi] = i;
  }

  apx_buf b = {0};
  apx_buf_puts(&b, "digraph ");
  apx_dot_quoted(&b, m->app_name ? m->app_name : "app");
  apx_buf_puts(&b, " {\n  rankdir=LR;\n  graph [fontname=\"Helvetica\"];\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\"];\n");
  for (size_t i = 0; i < n; i++)
    if (!is_child[i]) apx_dot_emit_tree(&b, m, &t, i, 2);
  /* Edges point from a resource to what it depends on. */
  for (size_t i = 0; i < n; i++) {
    const apx_resource *r = m->resources[i];
    for (size_t k = 0; k < r->ndeps; k++) {
      const apx_dep *d = &r->deps[k];
      if (!d->target) continue;
      apx_buf_puts(&b, "  ");
      apx_dot_quoted(&b, r->name);
      apx_buf_puts(&b, " -> ");
      apx_dot_quoted(&b, d->target->name);
      switch (d->kind) {
      case APX_DEP_REFERENCE: apx_buf_puts(&b, " [style=dashed]"); break;
      case APX_DEP_WAIT_HEALTHY: break;
      case APX_DEP_WAIT_START: apx_buf_puts(&b, " [label=\"start\"]"); break;
      case APX_DEP_WAIT_COMPLETION: apx_buf_puts(&b, " [label=\"completion\"]"); break;
      }
      apx_buf_puts(&b, ";\n");
    }
  }
  apx_buf_puts(&b, "}\n");
  apx_output_add(out, "graph.dot", b.data, b.len);
  apx_buf_free(&b);
  free(t.first);
  free(t.next);
  free(last);
  free(hk);
  free(hv);
  free(is_child);
  return 0;
}
