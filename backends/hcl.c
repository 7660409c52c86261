/* --emit=hcl: Terraform for AWS ECS on Fargate (doc/targets.md, "hcl"):
 * main.tf, variables.tf, outputs.tf, versions.tf.
 *
 * It deploys into an existing network (var.vpc_id, var.subnet_ids): an ECS
 * cluster; per container or project a CloudWatch log group, a Fargate task
 * definition (awsvpc) and a service; a Cloud Map private DNS namespace
 * `APP.local` in which every app with an endpoint is registered, so a
 * reference renders as `NAME.APP.local:target_port`; an Application Load
 * Balancer (var.public_subnet_ids) per app with external http endpoints,
 * a listener and target group per endpoint; Secrets Manager for every value holding a secret
 * (the container's `secrets`, never `environment`); EFS for volumes.
 * Parameters are variables (`sensitive = true` for secrets, no default);
 * generated ones are `random_password` resources. Text goes through
 * hcl_writer.h; container definitions are jsonencode() of HCL objects, so
 * Terraform does the JSON escaping of deploy-time values. */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/names.h"
#include "ir/generate.h"
#include "ir/render.h"
#include "backend.h"
#include "cloud.h"
#include "hcl_writer.h"

typedef struct apx_hcl_be {
  apx_cloud c; /* first: render callbacks shared in cloud.c take the state as an apx_cloud */
  apx_module *m;
  apx_hcl main;
  const char *app;       /* DNS label of the application: names of shared things */
  const char *ns;        /* Cloud Map namespace: APP.local */
  apx_map used;          /* parameters a value refers to */
  apx_map names;         /* Terraform names taken per resource type, "type.name" */
  apx_map ports;         /* external endpoint -> its listener port */
  bool any_alb, any_https, any_random;
  const char **secret_arns; size_t nsecret_arns, capsecret_arns;
} apx_hcl_be;

/* ---- names -------------------------------------------------------------------- */

/* A Terraform name: bytes outside [A-Za-z0-9_-] become '_', '_' in front of a digit or '-'. */
static const char *apx_hcl_ident(apx_arena *a, const char *name) {
  apx_buf b = {0};
  if (!((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') || *name == '_')) apx_buf_putc(&b, '_');
  for (const char *s = name; *s; s++) {
    char ch = *s;
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-';
    apx_buf_putc(&b, ok ? ch : '_');
  }
  const char *r = apx_arena_strdup(a, apx_buf_str(&b));
  apx_buf_free(&b);
  return r;
}

static const char *apx_hcl_name(apx_hcl_be *k, const apx_resource *r) { return apx_hcl_ident(k->m->arena, r->name); }
static const char *apx_hcl_label(apx_hcl_be *k, const apx_resource *r) {
  return apx_name_dns_label(k->m->arena, r->name);
}

/* Reserves TYPE.NAME; an error when two things of one type would share it. */
static bool apx_hcl_claim(apx_hcl_be *k, const char *type, const char *name, const apx_resource *owner) {
  const char *key = apx_arena_printf(k->m->arena, "%s.%s", type, name);
  size_t *slot = apx_map_str(&k->names, key, true);
  if (*slot == (size_t)-1) {
    *slot = (size_t)(uintptr_t)owner;
    return true;
  }
  if ((const apx_resource *)(uintptr_t)*slot != owner)
    apx_error(k->m->diag, owner ? owner->loc : APX_NOLOC,
              "'%s' would be the Terraform name %s, which is already taken; rename one", owner ? owner->name : "", key);
  return false;
}

static const char *apx_hcl_param_ref(apx_hcl_be *k, const apx_resource *p) {
  if (p->param && p->param->has_generate && !p->param->value)
    return apx_arena_printf(k->m->arena, "random_password.%s.result", apx_hcl_name(k, p));
  return apx_arena_printf(k->m->arena, "var.%s", apx_hcl_name(k, p));
}

/* ---- render target ------------------------------------------------------------- */

static void apx_hcl_host(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  apx_hcl_be *k = ud;
  (void)e;
  const char *h = apx_arena_printf(k->m->arena, "%s.%s", apx_hcl_label(k, apx_ir_runner(r)), k->ns);
  apx_hcl_escape(out, h, strlen(h));
}

static bool apx_hcl_param_cb(void *ud, const apx_resource *p, apx_buf *out) {
  apx_hcl_be *k = ud;
  *apx_map_ptr(&k->used, p, NULL, true) = 1;
  apx_buf_printf(out, "${%s}", apx_hcl_param_ref(k, p));
  return true;
}

static void apx_hcl_text(void *ud, const char *s, size_t n, apx_buf *out) {
  (void)ud;
  apx_hcl_escape(out, s, n);
}

static bool apx_hcl_render(apx_hcl_be *k, const apx_resource *r, const apx_value *v, const char *what, apx_buf *out) {
  apx_render_target t = {0};
  t.ud = k;
  t.host = apx_hcl_host;
  /* Tasks in awsvpc mode have addresses of their own: clients connect to
   * the port the container listens on. */
  t.port = apx_cloud_target_port;
  t.target_port = apx_cloud_target_port;
  t.param = apx_hcl_param_cb;
  t.text = apx_hcl_text;
  return apx_cloud_render(&k->c, &t, r, v, v ? v->loc : r->loc, what, out);
}

static void apx_hcl_list_items(apx_hcl_be *k, const apx_resource *r, const apx_value *v, const char *what) {
  apx_buf b = {0};
  size_t n = v->kind == APX_V_LIST ? v->u.list.n : 1;
  for (size_t i = 0; i < n; i++) {
    apx_buf_clear(&b);
    if (apx_hcl_render(k, r, v->kind == APX_V_LIST ? v->u.list.items[i] : v, what, &b))
      apx_hcl_tpl(&k->main, NULL, apx_buf_str(&b));
  }
  apx_buf_free(&b);
}

/* ---- endpoints ------------------------------------------------------------------ */

static bool apx_hcl_is_http(const apx_endpoint *e) {
  return e->scheme && (strcmp(e->scheme, "http") == 0 || strcmp(e->scheme, "https") == 0);
}
static bool apx_hcl_is_https(const apx_endpoint *e) { return e->scheme && strcmp(e->scheme, "https") == 0; }
static bool apx_hcl_is_udp(const apx_endpoint *e) { return e->protocol && strcmp(e->protocol, "udp") == 0; }

/* An external endpoint the load balancer serves. */
static bool apx_hcl_on_alb(const apx_endpoint *e) { return e->external && apx_hcl_is_http(e) && e->target_port > 0; }

static const char *apx_hcl_ep_name(apx_hcl_be *k, const apx_resource *r, const apx_endpoint *e) {
  return apx_hcl_ident(k->m->arena, apx_arena_printf(k->m->arena, "%s_%s", r->name, e->name));
}

/* ---- health ------------------------------------------------------------------------ */

static void apx_hcl_health(apx_hcl_be *k, const apx_resource *r) {
  apx_cloud_health h;
  apx_cloud_health_of(r, &h);
  if (!h.n) return;
  apx_hcl *w = &k->main;
  apx_buf cmd = {0}, one = {0};
  bool exec_alone = h.n == 1 && h.checks[0]->kind == APX_HEALTH_EXEC;
  size_t used = 0;
  if (!exec_alone) {
    for (size_t i = 0; i < h.n; i++) {
      const apx_health *x = h.checks[i];
      if (x->kind == APX_HEALTH_EXEC) {
        apx_warning(k->m->diag, x->loc,
                    "the exec health check of '%s' cannot be combined with its other checks in one ECS health "
                    "check; it is left out",
                    r->name);
        continue;
      }
      const apx_endpoint *e = apx_cloud_health_endpoint(&k->c, r, x);
      if (!e) continue;
      apx_buf_clear(&one);
      if (x->kind == APX_HEALTH_TCP) {
        apx_buf_printf(&one, "nc -z 127.0.0.1 %d || bash -c ': </dev/tcp/127.0.0.1/%d'", e->target_port,
                       e->target_port);
      } else {
        bool tls = apx_hcl_is_https(e);
        apx_buf url = {0}, q = {0};
        apx_buf_printf(&url, "%s://127.0.0.1:%d", tls ? "https" : "http", e->target_port);
        const char *path = x->path && x->path[0] ? x->path : "/";
        if (path[0] != '/') apx_buf_putc(&url, '/');
        apx_buf_puts(&url, path);
        apx_cloud_shell_quote(apx_buf_str(&url), &q);
        apx_buf_printf(&one, "wget -q%s -O /dev/null %s || curl -fsS%s -o /dev/null %s",
                       tls ? " --no-check-certificate" : "", apx_buf_str(&q), tls ? "k" : "", apx_buf_str(&q));
        apx_buf_free(&url);
        apx_buf_free(&q);
      }
      /* Grouped, as compose has it: `a || b && c || d` would let d excuse a failed a||b. */
      if (used++) apx_buf_puts(&cmd, " && ");
      apx_buf_printf(&cmd, h.n > 1 ? "( %s )" : "%s", apx_buf_str(&one));
    }
    if (!used) {
      apx_buf_free(&cmd);
      apx_buf_free(&one);
      return;
    }
  }
  apx_hcl_object(w, "healthCheck");
  apx_hcl_list(w, "command", NULL);
  if (exec_alone) {
    apx_hcl_str(w, NULL, "CMD");
    if (h.checks[0]->exec) apx_hcl_list_items(k, r, h.checks[0]->exec, "the exec health check");
  } else {
    apx_hcl_str(w, NULL, "CMD-SHELL");
    apx_hcl_str(w, NULL, apx_buf_str(&cmd));
  }
  apx_hcl_end(w);
  /* ECS's limits: interval 5-300 s, timeout 2-60 s, retries 1-10, start period 0-300 s. */
  if (h.interval_ms) apx_hcl_int(w, "interval", apx_cloud_clamp((h.interval_ms + 999) / 1000, 5, 300));
  if (h.timeout_ms) apx_hcl_int(w, "timeout", apx_cloud_clamp((h.timeout_ms + 999) / 1000, 2, 60));
  if (h.retries) apx_hcl_int(w, "retries", apx_cloud_clamp(h.retries, 1, 10));
  if (h.start_ms) apx_hcl_int(w, "startPeriod", apx_cloud_clamp((h.start_ms + 999) / 1000, 0, 300));
  apx_hcl_end(w);
  apx_buf_free(&cmd);
  apx_buf_free(&one);
}

/* ---- one app ------------------------------------------------------------------------ */

static const char *apx_hcl_volume_name(apx_hcl_be *k, const apx_resource *r, const apx_volume *v) {
  return apx_hcl_ident(k->m->arena, apx_arena_printf(k->m->arena, "%s_%s", r->name, v->name));
}

/* The listener port of an external endpoint: its `port`, else 80 (443 for
 * https), else, when another endpoint of the app has that, its target port.
 * Negative when taken (an error for the caller to report). Claims it. */
static int apx_hcl_listener_port(apx_hcl_be *k, const apx_resource *r, const apx_endpoint *e) {
  const char *type = apx_arena_printf(k->m->arena, "listener-port.%s", apx_hcl_name(k, r));
  int first = e->port > 0 ? e->port : apx_hcl_is_https(e) ? 443 : 80;
  int tries[2] = {first, e->port > 0 ? 0 : e->target_port};
  for (int i = 0; i < 2; i++) {
    if (tries[i] <= 0) continue;
    if (apx_hcl_claim(k, type, apx_arena_printf(k->m->arena, "%d", tries[i]), r)) return tries[i];
  }
  return -first;
}

static void apx_hcl_app(apx_hcl_be *k, const apx_resource *r) {
  apx_module *m = k->m;
  apx_hcl *w = &k->main;
  const char *n = apx_hcl_name(k, r), *label = apx_hcl_label(k, r);
  apx_cloud_warn_common(&k->c, r);
  bool built = r->kind != APX_KIND_CONTAINER;
  apx_hcl_claim(k, "app", n, r);
  apx_hcl_claim(k, "label", label, r);

  /* Values first: each one holding a secret becomes a Secrets Manager secret. */
  char **values = calloc(r->nenv ? r->nenv : 1, sizeof *values);
  const char **secret = calloc(r->nenv ? r->nenv : 1, sizeof *secret);
  if (!values || !secret) abort();
  apx_buf b = {0};
  for (size_t i = 0; i < r->nenv; i++) {
    const apx_entry *e = &r->env[i];
    apx_buf_clear(&b);
    char what[256];
    snprintf(what, sizeof what, "environment variable %s", e->key);
    if (e->value && !apx_hcl_render(k, r, e->value, what, &b)) continue;
    values[i] = apx_buf_take(&b, NULL);
    if (e->value && apx_ir_value_has_secret(e->value)) {
      const char *sn = apx_hcl_ident(m->arena, apx_arena_printf(m->arena, "%s_%s", r->name, e->key));
      for (int d = 2; !apx_hcl_claim(k, "secret", sn, r); d++)
        sn = apx_hcl_ident(m->arena, apx_arena_printf(m->arena, "%s_%s_%d", r->name, e->key, d));
      secret[i] = sn;
      apx_hcl_block(w, "resource", "aws_secretsmanager_secret", sn);
      apx_hcl_str(w, "name_prefix", apx_arena_printf(m->arena, "%s/%s/%s-", k->app, label, apx_name_env_var(m->arena, e->key)));
      apx_hcl_int(w, "recovery_window_in_days", 0);
      apx_hcl_end(w);
      apx_hcl_blank(w);
      apx_hcl_block(w, "resource", "aws_secretsmanager_secret_version", sn);
      apx_hcl_expr(w, "secret_id", apx_arena_printf(m->arena, "aws_secretsmanager_secret.%s.id", sn));
      apx_hcl_tpl(w, "secret_string", values[i]);
      apx_hcl_end(w);
      apx_hcl_blank(w);
      APX_VEC_PUSH(m->arena, k->secret_arns, k->nsecret_arns, k->capsecret_arns,
                   apx_arena_printf(m->arena, "aws_secretsmanager_secret.%s.arn", sn));
    }
  }

  apx_hcl_block(w, "resource", "aws_cloudwatch_log_group", n);
  apx_hcl_str(w, "name", apx_arena_printf(m->arena, "/ecs/%s/%s", k->app, label));
  apx_hcl_expr(w, "retention_in_days", "var.log_retention_days");
  apx_hcl_end(w);
  apx_hcl_blank(w);

  for (size_t i = 0; i < r->nvolumes; i++) {
    const char *vn = apx_hcl_volume_name(k, r, &r->volumes[i]);
    if (!apx_hcl_claim(k, "volume", vn, r)) continue;
    apx_hcl_block(w, "resource", "aws_efs_file_system", vn);
    apx_hcl_str(w, "creation_token", apx_arena_printf(m->arena, "%s-%s", k->app, apx_name_dns_label(m->arena, vn)));
    apx_hcl_bool(w, "encrypted", true);
    apx_hcl_end(w);
    apx_hcl_blank(w);
    apx_hcl_block(w, "resource", "aws_efs_mount_target", vn);
    apx_hcl_expr(w, "count", "length(var.subnet_ids)");
    apx_hcl_expr(w, "file_system_id", apx_arena_printf(m->arena, "aws_efs_file_system.%s.id", vn));
    apx_hcl_expr(w, "subnet_id", "var.subnet_ids[count.index]");
    apx_hcl_expr(w, "security_groups", "[aws_security_group.tasks.id]");
    apx_hcl_end(w);
    apx_hcl_blank(w);
  }

  apx_hcl_block(w, "resource", "aws_ecs_task_definition", n);
  apx_hcl_str(w, "family", apx_arena_printf(m->arena, "%s-%s", k->app, label));
  apx_hcl_expr(w, "requires_compatibilities", "[\"FARGATE\"]");
  apx_hcl_str(w, "network_mode", "awsvpc");
  apx_buf_clear(&b);
  apx_buf_puts(&b, "lookup(var.task_cpu, ");
  apx_buf_putc(&b, '"');
  apx_hcl_escape(&b, label, strlen(label));
  apx_buf_puts(&b, "\", 256)");
  apx_hcl_expr(w, "cpu", apx_buf_str(&b));
  apx_buf_clear(&b);
  apx_buf_puts(&b, "lookup(var.task_memory, ");
  apx_buf_putc(&b, '"');
  apx_hcl_escape(&b, label, strlen(label));
  apx_buf_puts(&b, "\", 512)");
  apx_hcl_expr(w, "memory", apx_buf_str(&b));
  apx_hcl_expr(w, "execution_role_arn", "aws_iam_role.execution.arn");
  apx_hcl_list(w, "container_definitions", "jsonencode");
  apx_hcl_object(w, NULL);
  apx_hcl_str(w, "name", label);
  if (apx_cloud_image_is_param(r)) {
    apx_hcl_expr(w, "image", apx_arena_printf(m->arena, "var.%s_image", n));
  } else if (r->image) {
    apx_buf_clear(&b);
    if (apx_hcl_render(k, r, r->image, "the image", &b)) apx_hcl_tpl(w, "image", apx_buf_str(&b));
  } else {
    apx_error(m->diag, r->loc, "container '%s' has no image; ECS needs one", r->name);
  }
  apx_hcl_bool(w, "essential", true);
  if (r->entrypoint) {
    apx_hcl_list(w, "entryPoint", NULL);
    apx_hcl_list_items(k, r, r->entrypoint, "the entrypoint");
    apx_hcl_end(w);
  }
  /* A project's command and args say how to run it from source here; in its
   * image the Dockerfile's CMD does that. */
  bool has_args = r->args && (r->args->kind != APX_V_LIST || r->args->u.list.n > 0);
  if (!built && (r->command || has_args)) {
    apx_hcl_list(w, "command", NULL);
    if (r->command) apx_hcl_list_items(k, r, r->command, "the command");
    if (has_args) apx_hcl_list_items(k, r, r->args, "the arguments");
    apx_hcl_end(w);
  }
  if (!built && r->workdir_written) {
    if (r->workdir_written[0] == '/') apx_hcl_str(w, "workingDirectory", r->workdir_written);
    else
      apx_warning(m->diag, r->loc, "the workdir '%s' of '%s' is not an absolute path inside the container; it is left out of ECS",
                  r->workdir_written, r->name);
  }
  bool any_ports = false;
  for (size_t i = 0; i < r->nendpoints; i++) {
    const apx_endpoint *e = &r->endpoints[i];
    if (e->target_port <= 0) continue;
    if (!any_ports) apx_hcl_list(w, "portMappings", NULL);
    any_ports = true;
    apx_hcl_object(w, NULL);
    apx_hcl_str(w, "name", apx_name_dns_label(m->arena, e->name));
    apx_hcl_int(w, "containerPort", e->target_port);
    apx_hcl_str(w, "protocol", apx_hcl_is_udp(e) ? "udp" : "tcp");
    apx_hcl_end(w);
  }
  if (any_ports) apx_hcl_end(w);
  bool any_plain = false, any_secret = false;
  for (size_t i = 0; i < r->nenv; i++) {
    if (secret[i]) {
      any_secret = true;
      continue;
    }
    if (!any_plain) apx_hcl_list(w, "environment", NULL);
    any_plain = true;
    apx_hcl_object(w, NULL);
    apx_hcl_str(w, "name", r->env[i].key);
    apx_hcl_tpl(w, "value", values[i] ? values[i] : "");
    apx_hcl_end(w);
  }
  if (any_plain) apx_hcl_end(w);
  if (any_secret) {
    apx_hcl_list(w, "secrets", NULL);
    for (size_t i = 0; i < r->nenv; i++) {
      if (!secret[i]) continue;
      apx_hcl_object(w, NULL);
      apx_hcl_str(w, "name", r->env[i].key);
      apx_hcl_expr(w, "valueFrom", apx_arena_printf(m->arena, "aws_secretsmanager_secret.%s.arn", secret[i]));
      apx_hcl_end(w);
    }
    apx_hcl_end(w);
  }
  if (r->nvolumes) {
    apx_hcl_list(w, "mountPoints", NULL);
    for (size_t i = 0; i < r->nvolumes; i++) {
      apx_hcl_object(w, NULL);
      apx_hcl_str(w, "sourceVolume", apx_hcl_volume_name(k, r, &r->volumes[i]));
      apx_hcl_str(w, "containerPath", r->volumes[i].target ? r->volumes[i].target : "/");
      apx_hcl_bool(w, "readOnly", r->volumes[i].readonly);
      apx_hcl_end(w);
    }
    apx_hcl_end(w);
  }
  apx_hcl_health(k, r);
  if (r->nlabels) {
    apx_hcl_object(w, "dockerLabels");
    for (size_t i = 0; i < r->nlabels; i++) {
      apx_buf_clear(&b);
      if (r->labels[i].value && !apx_hcl_render(k, r, r->labels[i].value, "a label", &b)) continue;
      apx_hcl_tpl(w, r->labels[i].key, apx_buf_str(&b));
    }
    apx_hcl_end(w);
  }
  apx_hcl_object(w, "logConfiguration");
  apx_hcl_str(w, "logDriver", "awslogs");
  apx_hcl_object(w, "options");
  apx_hcl_expr(w, "awslogs-group", apx_arena_printf(m->arena, "aws_cloudwatch_log_group.%s.name", n));
  apx_hcl_expr(w, "awslogs-region", "var.aws_region");
  apx_hcl_str(w, "awslogs-stream-prefix", label);
  apx_hcl_end(w);
  apx_hcl_end(w);
  apx_hcl_end(w); /* the container */
  apx_hcl_end(w); /* jsonencode([ */
  for (size_t i = 0; i < r->nvolumes; i++) {
    const char *vn = apx_hcl_volume_name(k, r, &r->volumes[i]);
    apx_hcl_block(w, "volume", NULL, NULL);
    apx_hcl_str(w, "name", vn);
    apx_hcl_block(w, "efs_volume_configuration", NULL, NULL);
    apx_hcl_expr(w, "file_system_id", apx_arena_printf(m->arena, "aws_efs_file_system.%s.id", vn));
    apx_hcl_str(w, "transit_encryption", "ENABLED");
    apx_hcl_end(w);
    apx_hcl_end(w);
  }
  apx_hcl_end(w);
  apx_hcl_blank(w);

  bool discovered = false;
  for (size_t i = 0; i < r->nendpoints; i++) discovered = discovered || r->endpoints[i].target_port > 0;
  if (discovered) {
    apx_hcl_block(w, "resource", "aws_service_discovery_service", n);
    apx_hcl_str(w, "name", label);
    apx_hcl_block(w, "dns_config", NULL, NULL);
    apx_hcl_expr(w, "namespace_id", "aws_service_discovery_private_dns_namespace.main.id");
    apx_hcl_str(w, "routing_policy", "MULTIVALUE");
    apx_hcl_block(w, "dns_records", NULL, NULL);
    apx_hcl_int(w, "ttl", 10);
    apx_hcl_str(w, "type", "A");
    apx_hcl_end(w);
    apx_hcl_end(w);
    apx_hcl_block(w, "health_check_custom_config", NULL, NULL);
    apx_hcl_int(w, "failure_threshold", 1);
    apx_hcl_end(w);
    apx_hcl_end(w);
    apx_hcl_blank(w);
  }

  /* The load balancer's side of each external http endpoint: one load
   * balancer per app (its own DNS name), a listener per endpoint. */
  bool alb = false;
  for (size_t i = 0; i < r->nendpoints; i++) alb = alb || apx_hcl_on_alb(&r->endpoints[i]);
  if (alb) {
    apx_hcl_block(w, "resource", "aws_lb", n);
    apx_hcl_bool(w, "internal", false);
    apx_hcl_str(w, "load_balancer_type", "application");
    apx_hcl_expr(w, "security_groups", "[aws_security_group.alb.id]");
    apx_hcl_expr(w, "subnets", "var.public_subnet_ids");
    apx_hcl_end(w);
    apx_hcl_blank(w);
  }
  for (size_t i = 0; i < r->nendpoints; i++) {
    const apx_endpoint *e = &r->endpoints[i];
    if (e->external && !apx_hcl_on_alb(e)) {
      apx_warning(m->diag, e->loc,
                  "external endpoint '%s' of '%s' is not http, which an Application Load Balancer cannot carry; it "
                  "is reachable inside the VPC only",
                  e->name, r->name);
      continue;
    }
    if (!apx_hcl_on_alb(e)) continue;
    const char *en = apx_hcl_ep_name(k, r, e);
    int port = apx_hcl_listener_port(k, r, e);
    if (port < 0) {
      port = -port;
      apx_error(m->diag, e->loc, "the load balancer already listens on port %d; give endpoint '%s' of '%s' another port",
                port, e->name, r->name);
      continue;
    }
    apx_hcl_claim(k, "endpoint", en, r);
    *apx_map_ptr(&k->ports, e, NULL, true) = (size_t)port;
    apx_hcl_block(w, "resource", "aws_lb_target_group", en);
    apx_hcl_int(w, "port", e->target_port);
    apx_hcl_str(w, "protocol", apx_hcl_is_https(e) ? "HTTPS" : "HTTP");
    apx_hcl_str(w, "target_type", "ip");
    apx_hcl_expr(w, "vpc_id", "var.vpc_id");
    const apx_health *hc = NULL;
    for (size_t j = 0; j < r->nhealth && !hc; j++)
      if (r->health[j].kind == APX_HEALTH_HTTP && r->health[j].endpoint && strcmp(r->health[j].endpoint, e->name) == 0)
        hc = &r->health[j];
    if (hc) {
      apx_hcl_block(w, "health_check", NULL, NULL);
      const char *path = hc->path && hc->path[0] ? hc->path : "/";
      apx_hcl_str(w, "path", path[0] == '/' ? path : apx_arena_printf(m->arena, "/%s", path));
      apx_hcl_str(w, "matcher", "200-399");
      apx_hcl_end(w);
    }
    apx_hcl_end(w);
    apx_hcl_blank(w);
    apx_hcl_block(w, "resource", "aws_lb_listener", en);
    apx_hcl_expr(w, "load_balancer_arn", apx_arena_printf(m->arena, "aws_lb.%s.arn", n));
    apx_hcl_int(w, "port", port);
    if (apx_hcl_is_https(e)) {
      k->any_https = true;
      apx_hcl_str(w, "protocol", "HTTPS");
      apx_hcl_str(w, "ssl_policy", "ELBSecurityPolicy-TLS13-1-2-2021-06");
      apx_hcl_expr(w, "certificate_arn", "var.certificate_arn");
    } else {
      apx_hcl_str(w, "protocol", "HTTP");
    }
    apx_hcl_block(w, "default_action", NULL, NULL);
    apx_hcl_str(w, "type", "forward");
    apx_hcl_expr(w, "target_group_arn", apx_arena_printf(m->arena, "aws_lb_target_group.%s.arn", en));
    apx_hcl_end(w);
    apx_hcl_end(w);
    apx_hcl_blank(w);
    k->any_alb = true;
  }

  apx_hcl_block(w, "resource", "aws_ecs_service", n);
  apx_hcl_str(w, "name", label);
  apx_hcl_expr(w, "cluster", "aws_ecs_cluster.main.id");
  apx_hcl_expr(w, "task_definition", apx_arena_printf(m->arena, "aws_ecs_task_definition.%s.arn", n));
  /* explicit_start: deployed with no task running, started by raising the count. */
  apx_hcl_int(w, "desired_count", r->explicit_start ? 0 : r->replicas > 0 ? r->replicas : 1);
  apx_hcl_str(w, "launch_type", "FARGATE");
  apx_hcl_block(w, "network_configuration", NULL, NULL);
  apx_hcl_expr(w, "subnets", "var.subnet_ids");
  apx_hcl_expr(w, "security_groups", "[aws_security_group.tasks.id]");
  apx_hcl_expr(w, "assign_public_ip", "var.assign_public_ip");
  apx_hcl_end(w);
  if (discovered) {
    apx_hcl_block(w, "service_registries", NULL, NULL);
    apx_hcl_expr(w, "registry_arn", apx_arena_printf(m->arena, "aws_service_discovery_service.%s.arn", n));
    apx_hcl_end(w);
  }
  apx_buf deps = {0};
  for (size_t i = 0; i < r->nendpoints; i++) {
    const apx_endpoint *e = &r->endpoints[i];
    if (!apx_hcl_on_alb(e)) continue;
    const char *en = apx_hcl_ep_name(k, r, e);
    apx_hcl_block(w, "load_balancer", NULL, NULL);
    apx_hcl_expr(w, "target_group_arn", apx_arena_printf(m->arena, "aws_lb_target_group.%s.arn", en));
    apx_hcl_str(w, "container_name", label);
    apx_hcl_int(w, "container_port", e->target_port);
    apx_hcl_end(w);
    apx_buf_printf(&deps, "aws_lb_listener.%s\n", en);
  }
  const apx_resource **waits = NULL;
  size_t nwaits = apx_cloud_waits(&k->c, r, &waits);
  for (size_t i = 0; i < nwaits; i++) apx_buf_printf(&deps, "aws_ecs_service.%s\n", apx_hcl_name(k, waits[i]));
  free(waits);
  if (deps.len) {
    apx_hcl_list(w, "depends_on", NULL);
    for (char *s = deps.data; *s;) {
      char *nl = strchr(s, '\n');
      *nl = '\0';
      apx_hcl_expr(w, NULL, s);
      s = nl + 1;
    }
    apx_hcl_end(w);
  }
  apx_buf_free(&deps);
  apx_hcl_end(w);
  apx_hcl_blank(w);

  for (size_t i = 0; i < r->nenv; i++) free(values[i]);
  free(values);
  free(secret);
  apx_buf_free(&b);
}

/* ---- what the apps share ------------------------------------------------------------- */

/* An ingress or egress block of a security group: cidr (an expression) or self. */
static void apx_hcl_sg_rule(apx_hcl *w, const char *block, int from, int to, const char *proto, const char *cidr) {
  apx_hcl_block(w, block, NULL, NULL);
  apx_hcl_int(w, "from_port", from);
  apx_hcl_int(w, "to_port", to);
  apx_hcl_str(w, "protocol", proto);
  if (cidr) apx_hcl_expr(w, "cidr_blocks", cidr);
  else apx_hcl_bool(w, "self", true);
  apx_hcl_end(w);
}

static void apx_hcl_shared(apx_hcl_be *k, apx_hcl *w) {
  apx_module *m = k->m;
  apx_hcl_block(w, "provider", "aws", NULL);
  apx_hcl_expr(w, "region", "var.aws_region");
  apx_hcl_end(w);
  apx_hcl_blank(w);
  apx_hcl_block(w, "resource", "aws_ecs_cluster", "main");
  apx_hcl_str(w, "name", k->app);
  apx_hcl_end(w);
  apx_hcl_blank(w);
  apx_hcl_comment(w, apx_arena_printf(m->arena, "Service discovery: every app with an endpoint is NAME.%s.", k->ns));
  apx_hcl_block(w, "resource", "aws_service_discovery_private_dns_namespace", "main");
  apx_hcl_str(w, "name", k->ns);
  apx_hcl_expr(w, "vpc", "var.vpc_id");
  apx_hcl_end(w);
  apx_hcl_blank(w);
  apx_hcl_block(w, "resource", "aws_security_group", "tasks");
  apx_hcl_str(w, "name_prefix", apx_arena_printf(m->arena, "%s-tasks-", k->app));
  apx_hcl_str(w, "description", "the tasks of the app; they reach each other on any port");
  apx_hcl_expr(w, "vpc_id", "var.vpc_id");
  apx_hcl_sg_rule(w, "ingress", 0, 0, "-1", NULL);
  apx_hcl_sg_rule(w, "egress", 0, 0, "-1", "[\"0.0.0.0/0\"]");
  apx_hcl_end(w);
  apx_hcl_blank(w);
  apx_hcl_block(w, "resource", "aws_iam_role", "execution");
  apx_hcl_str(w, "name_prefix", apx_arena_printf(m->arena, "%s-exec-", k->app));
  apx_hcl_call_object(w, "assume_role_policy", "jsonencode");
  apx_hcl_str(w, "Version", "2012-10-17");
  apx_hcl_list(w, "Statement", NULL);
  apx_hcl_object(w, NULL);
  apx_hcl_str(w, "Effect", "Allow");
  apx_hcl_object(w, "Principal");
  apx_hcl_str(w, "Service", "ecs-tasks.amazonaws.com");
  apx_hcl_end(w);
  apx_hcl_str(w, "Action", "sts:AssumeRole");
  apx_hcl_end(w);
  apx_hcl_end(w);
  apx_hcl_end(w);
  apx_hcl_end(w);
  apx_hcl_blank(w);
  apx_hcl_block(w, "resource", "aws_iam_role_policy_attachment", "execution");
  apx_hcl_expr(w, "role", "aws_iam_role.execution.name");
  apx_hcl_str(w, "policy_arn", "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy");
  apx_hcl_end(w);
  apx_hcl_blank(w);
}

/* After the apps: what only some of them need. */
static void apx_hcl_shared_after(apx_hcl_be *k, apx_hcl *w) {
  apx_module *m = k->m;
  if (k->nsecret_arns) {
    apx_hcl_comment(w, "The tasks read their secrets when they start.");
    apx_hcl_block(w, "resource", "aws_iam_role_policy", "secrets");
    apx_hcl_expr(w, "role", "aws_iam_role.execution.id");
    apx_hcl_call_object(w, "policy", "jsonencode");
    apx_hcl_str(w, "Version", "2012-10-17");
    apx_hcl_list(w, "Statement", NULL);
    apx_hcl_object(w, NULL);
    apx_hcl_str(w, "Effect", "Allow");
    apx_hcl_expr(w, "Action", "[\"secretsmanager:GetSecretValue\"]");
    apx_hcl_list(w, "Resource", NULL);
    for (size_t i = 0; i < k->nsecret_arns; i++) apx_hcl_expr(w, NULL, k->secret_arns[i]);
    apx_hcl_end(w);
    apx_hcl_end(w);
    apx_hcl_end(w);
    apx_hcl_end(w);
    apx_hcl_end(w);
    apx_hcl_blank(w);
  }
  if (!k->any_alb) return;
  apx_hcl_block(w, "resource", "aws_security_group", "alb");
  apx_hcl_str(w, "name_prefix", apx_arena_printf(m->arena, "%s-alb-", k->app));
  apx_hcl_str(w, "description", "the load balancer of the app's external endpoints");
  apx_hcl_expr(w, "vpc_id", "var.vpc_id");
  apx_hcl_sg_rule(w, "ingress", 0, 65535, "tcp", "var.ingress_cidr_blocks");
  apx_hcl_sg_rule(w, "egress", 0, 0, "-1", "[\"0.0.0.0/0\"]");
  apx_hcl_end(w);
  apx_hcl_blank(w);
  apx_hcl_block(w, "resource", "aws_security_group_rule", "tasks_from_alb");
  apx_hcl_str(w, "type", "ingress");
  apx_hcl_int(w, "from_port", 0);
  apx_hcl_int(w, "to_port", 65535);
  apx_hcl_str(w, "protocol", "tcp");
  apx_hcl_expr(w, "security_group_id", "aws_security_group.tasks.id");
  apx_hcl_expr(w, "source_security_group_id", "aws_security_group.alb.id");
  apx_hcl_end(w);
  apx_hcl_blank(w);
}

/* ---- variables, outputs, versions ------------------------------------------------------ */

static void apx_hcl_variable(apx_hcl *w, const char *name, const char *type, const char *description,
                             const char *default_expr, bool sensitive) {
  apx_hcl_block(w, "variable", name, NULL);
  apx_hcl_expr(w, "type", type);
  apx_hcl_str(w, "description", description);
  if (default_expr) apx_hcl_expr(w, "default", default_expr);
  if (sensitive) apx_hcl_bool(w, "sensitive", true);
  apx_hcl_end(w);
  apx_hcl_blank(w);
}

static void apx_hcl_variables(apx_hcl_be *k, apx_hcl *v, apx_hcl *w, const apx_resource **apps, size_t napps) {
  apx_module *m = k->m;
  apx_hcl_comment(v, "The network to deploy into, and sizes.");
  apx_hcl_variable(v, "aws_region", "string", "AWS region to deploy to", NULL, false);
  apx_hcl_variable(v, "vpc_id", "string", "the VPC of the tasks", NULL, false);
  apx_hcl_variable(v, "subnet_ids", "list(string)", "subnets of the tasks (and EFS mount targets)", NULL, false);
  apx_hcl_variable(v, "assign_public_ip", "bool", "give tasks public addresses (public subnets without a NAT gateway)",
                   "false", false);
  if (k->any_alb) {
    apx_hcl_variable(v, "public_subnet_ids", "list(string)", "public subnets of the load balancer", NULL, false);
    apx_hcl_variable(v, "ingress_cidr_blocks", "list(string)", "who may reach the load balancer", "[\"0.0.0.0/0\"]",
                     false);
  }
  if (k->any_https)
    apx_hcl_variable(v, "certificate_arn", "string", "ACM certificate of the https listeners", NULL, false);
  apx_hcl_variable(v, "task_cpu", "map(number)", "CPU units per app (by name); 256 when not given", "{}", false);
  apx_hcl_variable(v, "task_memory", "map(number)", "memory (MiB) per app (by name); 512 when not given", "{}", false);
  apx_hcl_variable(v, "log_retention_days", "number", "days CloudWatch keeps the apps' logs", "30", false);

  static const char *const own[] = {"aws_region", "vpc_id", "subnet_ids", "assign_public_ip", "public_subnet_ids",
                                    "ingress_cidr_blocks", "certificate_arn", "task_cpu", "task_memory",
                                    "log_retention_days"};
  for (size_t i = 0; i < sizeof own / sizeof *own; i++) apx_hcl_claim(k, "var", own[i], NULL);
  apx_buf d = {0}, e = {0};
  bool header = false;
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *p = m->resources[i];
    if (p->kind != APX_KIND_PARAM || !p->param) continue;
    size_t *used = apx_map_ptr(&k->used, p, NULL, false);
    if (!used || *used != 1) continue;
    const char *n = apx_hcl_name(k, p);
    apx_hcl_claim(k, "var", n, p);
    if (p->param->has_generate && !p->param->value) {
      /* Drawn by Terraform, kept in its state: the idiom for generated secrets. */
      const apx_generate *g = &p->param->generate;
      bool any = g->lower || g->upper || g->numeric || g->special;
      k->any_random = true;
      apx_hcl_comment(w, apx_arena_printf(m->arena, "parameter %s: generated", p->name));
      apx_hcl_block(w, "resource", "random_password", n);
      apx_hcl_int(w, "length", (int64_t)apx_ir_generate_length(g));
      apx_hcl_bool(w, "lower", g->lower || !any);
      apx_hcl_bool(w, "upper", g->upper);
      apx_hcl_bool(w, "numeric", g->numeric);
      apx_hcl_bool(w, "special", g->special);
      if (g->special) apx_hcl_str(w, "override_special", "-_.~");
      if (g->min_lower) apx_hcl_int(w, "min_lower", g->min_lower);
      if (g->min_upper) apx_hcl_int(w, "min_upper", g->min_upper);
      if (g->min_numeric) apx_hcl_int(w, "min_numeric", g->min_numeric);
      if (g->min_special) apx_hcl_int(w, "min_special", g->min_special);
      apx_hcl_end(w);
      apx_hcl_blank(w);
      continue;
    }
    if (!header) apx_hcl_comment(v, "Parameters of the app.");
    header = true;
    apx_buf_clear(&d);
    apx_buf_printf(&d, "parameter %s", p->name);
    if (p->param->description) apx_buf_printf(&d, ": %s", p->param->description);
    const char *def = NULL;
    if (!p->param->secret && p->param->value) {
      apx_buf_clear(&e);
      apx_buf_putc(&e, '"');
      apx_hcl_escape(&e, p->param->value, strlen(p->param->value));
      apx_buf_putc(&e, '"');
      def = apx_buf_str(&e);
    }
    apx_hcl_variable(v, n, "string", apx_buf_str(&d), def, p->param->secret);
  }
  for (size_t i = 0; i < napps; i++) {
    const apx_resource *r = apps[i];
    if (!apx_cloud_image_is_param(r)) continue;
    const char *n = apx_arena_printf(m->arena, "%s_image", apx_hcl_name(k, r));
    apx_hcl_claim(k, "var", n, r);
    apx_buf_clear(&d);
    apx_buf_printf(&d, "container image of %s '%s' (built from its build context and pushed to a registry)",
                   apx_ir_kind_name(r->kind), r->name);
    apx_buf_clear(&e);
    apx_buf_putc(&e, '"');
    const char *img = r->image && r->image->kind == APX_V_STRING ? r->image->u.str.s
                                                                  : apx_arena_printf(m->arena, "%s:latest", r->name);
    apx_hcl_escape(&e, img, strlen(img));
    apx_buf_putc(&e, '"');
    apx_hcl_variable(v, n, "string", apx_buf_str(&d), apx_buf_str(&e), false);
  }
  apx_buf_free(&d);
  apx_buf_free(&e);
}

static void apx_hcl_outputs(apx_hcl_be *k, apx_hcl *o, const apx_resource **apps, size_t napps) {
  apx_module *m = k->m;
  for (size_t i = 0; i < napps; i++) {
    const apx_resource *r = apps[i];
    for (size_t j = 0; j < r->nendpoints; j++) {
      const apx_endpoint *e = &r->endpoints[j];
      if (!apx_hcl_on_alb(e)) continue;
      const char *en = apx_hcl_ep_name(k, r, e);
      size_t *slot = apx_map_ptr(&k->ports, e, NULL, false);
      if (!slot) continue;
      int port = (int)*slot;
      apx_hcl_block(o, "output", apx_arena_printf(m->arena, "%s_url", en), NULL);
      apx_hcl_str(o, "description", apx_arena_printf(m->arena, "URL of endpoint %s of %s", e->name, r->name));
      apx_hcl_tpl(o, "value", apx_arena_printf(m->arena, "%s://${aws_lb.%s.dns_name}:%d",
                                               apx_hcl_is_https(e) ? "https" : "http", apx_hcl_name(k, r), port));
      apx_hcl_end(o);
      apx_hcl_blank(o);
    }
  }
  apx_hcl_block(o, "output", "cluster_name", NULL);
  apx_hcl_str(o, "description", "the ECS cluster");
  apx_hcl_expr(o, "value", "aws_ecs_cluster.main.name");
  apx_hcl_end(o);
}

static void apx_hcl_versions(apx_hcl_be *k, apx_hcl *w) {
  apx_hcl_block(w, "terraform", NULL, NULL);
  apx_hcl_str(w, "required_version", ">= 1.5.0");
  apx_hcl_block(w, "required_providers", NULL, NULL);
  apx_hcl_object(w, "aws");
  apx_hcl_str(w, "source", "hashicorp/aws");
  apx_hcl_str(w, "version", "~> 5.70");
  apx_hcl_end(w);
  if (k->any_random) {
    apx_hcl_object(w, "random");
    apx_hcl_str(w, "source", "hashicorp/random");
    apx_hcl_str(w, "version", "~> 3.6");
    apx_hcl_end(w);
  }
  apx_hcl_end(w);
  apx_hcl_end(w);
}

static void apx_hcl_add(apx_output *out, const char *path, apx_hcl *w) {
  size_t len = w->out.len;
  apx_output_add_owned(out, path, apx_buf_take(&w->out, NULL), len);
}

int apx_emit_hcl(apx_module *m, apx_output *out) {
  size_t errors0 = m->diag->errors;
  apx_hcl_be k = {0};
  k.m = m;
  apx_cloud_init(&k.c, m, "AWS ECS Fargate");
  apx_map_init_ptr(&k.used, m->arena);
  apx_map_init_str(&k.names, m->arena);
  apx_map_init_ptr(&k.ports, m->arena);
  k.app = apx_name_dns_label(m->arena, m->app_name ? m->app_name : "app");
  k.ns = apx_arena_printf(m->arena, "%s.local", k.app);
  apx_hcl_init(&k.main);
  const apx_resource **apps = calloc(m->nresources ? m->nresources : 1, sizeof *apps);
  if (!apps) abort();
  size_t napps = 0;
  for (size_t i = 0; i < m->nresources; i++)
    if (apx_cloud_select(&k.c, m->resources[i])) apps[napps++] = m->resources[i];
  /* main.tf in order, into one buffer: what all apps share, the apps, then
   * what only some need (known once they are written). */
  apx_buf c = {0};
  apx_buf_printf(&c, "AWS ECS Fargate deployment of %s, written by aspirec.\nDeploy: terraform init && terraform apply",
                 m->app_name ? m->app_name : "app");
  apx_hcl_comment(&k.main, apx_buf_str(&c));
  apx_buf_free(&c);
  apx_hcl_blank(&k.main);
  apx_hcl_shared(&k, &k.main);
  for (size_t i = 0; i < napps; i++) apx_hcl_app(&k, apps[i]);

  apx_hcl vars, outs, vers;
  apx_hcl_init(&vars);
  apx_hcl_init(&outs);
  apx_hcl_init(&vers);
  apx_hcl_shared_after(&k, &k.main);
  apx_hcl_variables(&k, &vars, &k.main, apps, napps);
  apx_hcl_outputs(&k, &outs, apps, napps);
  apx_hcl_versions(&k, &vers);
  apx_hcl *head = &k.main;
  while (head->out.len > 1 && head->out.data[head->out.len - 1] == '\n' && head->out.data[head->out.len - 2] == '\n')
    head->out.data[--head->out.len] = '\0';
  while (vars.out.len > 1 && vars.out.data[vars.out.len - 1] == '\n' && vars.out.data[vars.out.len - 2] == '\n')
    vars.out.data[--vars.out.len] = '\0';

  if (m->diag->errors == errors0) {
    apx_hcl_add(out, "main.tf", head);
    apx_hcl_add(out, "variables.tf", &vars);
    apx_hcl_add(out, "outputs.tf", &outs);
    apx_hcl_add(out, "versions.tf", &vers);
  }
  apx_hcl_free(&vars);
  apx_hcl_free(&outs);
  apx_hcl_free(&vers);
  apx_hcl_free(&k.main);
  free(apps);
  return (int)(m->diag->errors - errors0);
}
