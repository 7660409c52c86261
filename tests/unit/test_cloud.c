/* Unit tests for the cloud back ends: the Bicep and HCL writers' quoting and
 * escaping rules, and a small module (a secret, an external endpoint, an
 * executable) emitted through --emit=bicep and --emit=hcl and read back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/bicep_writer.h"
#include "backends/hcl_writer.h"
#include "base/buf.h"
#include "base/names.h"
#include "base/output.h"
#include "ir/ir.h"

#include "check.h"
#include "fixture.h"

static void test_escapes(void) {
  apx_buf b = {0};
  const char *s = "a\"b\\c${x}%{y}$z%w\n\x01";
  apx_hcl_escape(&b, s, strlen(s));
  CHECK(strcmp(apx_buf_str(&b), "a\\\"b\\\\c$${x}%%{y}$z%w\\n\\u0001") == 0, "hcl: escapes quotes, backslash, ${, %%{, controls (%s)",
        apx_buf_str(&b));
  apx_buf_clear(&b);
  s = "it's ${x} $y \\\t";
  apx_bicep_escape(&b, s, strlen(s));
  CHECK(strcmp(apx_buf_str(&b), "it\\'s \\${x} $y \\\\\\t") == 0, "bicep: escapes ', ${, backslash, tab (%s)", apx_buf_str(&b));
  apx_buf_free(&b);

  apx_hcl w;
  apx_hcl_init(&w);
  apx_hcl_block(&w, "resource", "t", "n");
  apx_hcl_list(&w, "l", "jsonencode");
  apx_hcl_object(&w, NULL);
  apx_hcl_str(&w, "awslogs-group", "g");
  apx_hcl_str(&w, "com.example", "v");
  apx_hcl_tpl(&w, "only", "${var.x}");
  apx_hcl_end(&w);
  apx_hcl_end(&w);
  apx_hcl_end(&w);
  CHECK(strcmp(apx_buf_str(&w.out), "resource \"t\" \"n\" {\n  l = jsonencode([\n    {\n      awslogs-group = \"g\"\n"
                                    "      \"com.example\" = \"v\"\n      only = var.x\n    },\n  ])\n}\n") == 0,
        "hcl: list items end in commas, non-identifier keys quoted, an interpolation alone is an expression");
  if (failed) fputs(apx_buf_str(&w.out), stdout);
  apx_hcl_free(&w);

  apx_bicep bw;
  apx_bicep_init(&bw);
  apx_bicep_resource(&bw, "r", "T@1");
  apx_bicep_array(&bw, "a");
  apx_bicep_tpl(&bw, NULL, "${p}");
  apx_bicep_tpl(&bw, NULL, "x-${p}");
  apx_bicep_end_array(&bw);
  apx_bicep_str(&bw, "a-b", "v");
  apx_bicep_end(&bw);
  CHECK(strcmp(apx_buf_str(&bw.out), "resource r 'T@1' = {\n  a: [\n    p\n    'x-${p}'\n  ]\n  'a-b': 'v'\n}\n") == 0,
        "bicep: items on lines of their own, '${p}' alone is p, keys quoted when not identifiers");
  apx_bicep_free(&bw);
}

static void build(fixture *f) {
  fixture_init(f, "shop", NULL);
  apx_resource *pw = res(f, "pw", APX_KIND_PARAM, NULL);
  pw->param = APX_NEW(f->arena, apx_param);
  pw->param->secret = true;
  pw->param->value = "s3cr3t-Value";
  pw->param->source = APX_PARAM_FROM_CLI;
  pw->param->env_name = "PW";
  apx_resource *db = res(f, "db", APX_KIND_CONTAINER, NULL);
  db->image = apx_ir_string(f->m, "postgres:16", f->loc);
  endpoint(f, db, "tcp", 0, 5432, false);
  apx_ir_env_set(f->m, db, "PASSWORD", apx_ir_ref_template(f->m, pw, APX_PROP_VALUE, NULL, f->loc), f->loc);
  apx_resource *web = res(f, "web", APX_KIND_CONTAINER, NULL);
  web->image = apx_ir_string(f->m, "nginx:1.27", f->loc);
  endpoint(f, web, "http", 0, 8080, true);
  apx_ir_env_set(f->m, web, "DB_HOST", apx_ir_ref_template(f->m, db, APX_PROP_EP_HOST, "tcp", f->loc), f->loc);
  apx_ir_env_set(f->m, web, "NOTE", apx_ir_string(f->m, "costs ${5} 100%{", f->loc), f->loc);
  apx_ir_dep_add(f->m, web, APX_DEP_WAIT_HEALTHY, db, f->loc);
  res(f, "tool", APX_KIND_EXECUTABLE, NULL);
}

static bool has_warning(apx_diag *d, const char *needle) {
  for (size_t i = 0; i < d->n; i++)
    if (d->items[i].level == APX_DIAG_WARNING && strstr(d->items[i].message, needle)) return true;
  return false;
}

/* All files of an emit, concatenated with their names. */
static char *emit(int (*fn)(apx_module *, apx_output *), fixture *f, int *errors) {
  apx_output *o = apx_output_new("unused-dir");
  *errors = fn(f->m, o);
  apx_buf b = {0};
  const char *data;
  size_t len;
  for (size_t i = 0; (data = apx_output_data(o, i, &len)); i++) {
    apx_buf_printf(&b, "== file %zu\n", i);
    apx_buf_append(&b, data, len);
  }
  apx_output_free(o);
  return apx_buf_take(&b, NULL);
}

static void test_emit(const char *name, int (*fn)(apx_module *, apx_output *), const char *target,
                      const char *const *want, size_t nwant) {
  fixture f;
  build(&f);
  int errors;
  char *text = emit(fn, &f, &errors);
  CHECK(errors == 0, "%s: emits without errors", name);
  CHECK(!strstr(text, "s3cr3t-Value"), "%s: the secret's value is in no file", name);
  for (size_t i = 0; i < nwant; i++) {
    char one[160]; /* the expected text on one line, for the report */
    size_t k = 0;
    for (const char *s = want[i]; *s && k + 3 < sizeof one; s++) {
      if (*s == '\n') { one[k++] = '\\'; one[k++] = 'n'; }
      else if (*s == '\t') { one[k++] = '\\'; one[k++] = 't'; }
      else one[k++] = *s;
    }
    one[k] = '\0';
    CHECK(strstr(text, want[i]) != NULL, "%s: writes %s", name, one);
  }
  char w[128];
  snprintf(w, sizeof w, "executable 'tool' is not published to %s", target);
  CHECK(has_warning(&f.diag, w), "%s: warns: %s", name, w);
  CHECK(has_warning(&f.diag, "cannot make 'web' wait for 'db' to be healthy"), "%s: warns that waits are deployment order", name);
  fixture_free(&f);
  build(&f);
  char *again = emit(fn, &f, &errors);
  CHECK(strcmp(text, again) == 0, "%s: the same module gives byte-identical files", name);
  fixture_free(&f);
  free(text);
  free(again);
}

int main(void) {
  test_escapes();
  static const char *const bicep[] = {
      "@secure()\nparam pw string\n",
      "secretRef: 'password'",
      "value: pw\n",
      "value: 'db'",
      "value: 'costs \\${5} 100%{'",
      "external: true\n        targetPort: 8080",
      "dependsOn: [\n    app_db\n  ]",
      "output WEB_HTTP_URL string = 'https://${app_web.properties.configuration.ingress.fqdn}'",
      "\"pw\":\t{\n\t\t\t\"value\":\t\"\"",
  };
  test_emit("bicep", apx_emit_bicep, "Azure Container Apps", bicep, sizeof bicep / sizeof *bicep);
  static const char *const hcl[] = {
      "variable \"pw\" {\n  type = string\n  description = \"parameter pw\"\n  sensitive = true\n}",
      "secret_string = var.pw\n",
      "valueFrom = aws_secretsmanager_secret.db_PASSWORD.arn",
      "value = \"db.shop.local\"",
      "value = \"costs $${5} 100%%{\"",
      "resource \"aws_lb_listener\" \"web_http\"",
      "depends_on = [\n    aws_lb_listener.web_http,\n    aws_ecs_service.db,\n  ]",
      "source = \"hashicorp/aws\"",
  };
  test_emit("hcl", apx_emit_hcl, "AWS ECS Fargate", hcl, sizeof hcl / sizeof *hcl);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
