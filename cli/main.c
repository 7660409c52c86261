/* aspirec: the command line, a thin layer over libaspirec. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dashboard/dash.h"
#include "driver/driver.h"
#include "driver/plugin.h"

static void usage(FILE *out) {
  fputs("usage: aspirec FILE.apx [options]\n"
        "\n"
        "Compiles an application topology. Without --emit it only checks the program.\n"
        "\n"
        "  --run                run the application on this machine until Ctrl-C\n"
        "                       (doc/run-mode.md)\n"
        "  --state-dir=DIR      run mode's state directory (default: .aspirec beside\n"
        "                       the program)\n"
        "  --grace=DURATION     on stop, SIGKILL what is left after DURATION (default 10s)\n"
        "  --engine=ENGINE      with --run: docker, podman, or local (containers through their local {})\n"
        "  --dashboard=PORT     with --run: the dashboard on 127.0.0.1:PORT (default 18888, or the\n"
        "                       next free port; doc/dashboard.md)\n"
        "  --dashboard-token=T  the dashboard's login token (default: random per run)\n"
        "  --dashboard-api-key=K  the key tools give in x-api-key to read /api/telemetry/*\n"
        "                       (default: random per run, in STATE/dashboard-api-key)\n"
        "  --no-dashboard       with --run: no dashboard (and no OTLP endpoint in the environments)\n"
        "  --emit=TARGET        write TARGET's files (see --list-targets)\n"
        "                       (k8s: Kubernetes manifests, helm: a Helm chart)\n"
        "  -o, --output=DIR     output directory (without it a single-file target\n"
        "                       writes to standard output)\n"
        "  -p, --param NAME=VALUE\n"
        "                       set a parameter (also APX_PARAM_<NAME> in the environment)\n"
        "  -I DIR               add DIR to the import search path (before APX_PATH\n"
        "                       and the standard library)\n"
        "  --plugin=PATH        load a plugin (passes, back ends; doc/plugins.md);\n"
        "                       repeatable, loaded in order after those of APX_PLUGINS\n"
        "  --plugin-arg=PLUGIN:KEY=VALUE\n"
        "                       an option for the plugin named PLUGIN\n"
        "  --dump-after=PASS    print the IR as JSON after PASS (see --list-passes)\n"
        "  --time-passes        print how long each pass took\n"
        "  --list-targets       list the targets of --emit\n"
        "  --list-passes        list the passes in pipeline order\n"
        "  --no-color           plain diagnostics (also NO_COLOR=1)\n"
        "  --error-limit=N      show at most N errors and N warnings (default 20;\n"
        "                       0: all); the counts and the exit status stay exact\n"
        "  -h, --help           this help\n"
        "  -V, --version        print the version\n"
        "\n"
        "Exit status: 0 ok, 1 errors in the program, 2 bad command line or environment.\n"
        "See aspirec(1) and doc/language.md.\n",
        out);
}

static int apx_cli_main(int argc, char **argv, const apx_plugins *plugins, bool list_targets, bool list_passes,
                        const char *emit, const char *outdir, apx_driver_opts *po, bool run, apx_run_opts *ro,
                        const apx_dash_opts *dash, bool color, size_t error_limit, const char **params,
                        size_t nparams, const char **incs, size_t nincs);

int main(int argc, char **argv) {
  enum { OPT_EMIT = 256, OPT_DUMP, OPT_TIME, OPT_NOCOLOR, OPT_LIST_TARGETS, OPT_LIST_PASSES, OPT_RUN, OPT_STATE_DIR,
         OPT_GRACE, OPT_ERROR_LIMIT, OPT_PLUGIN, OPT_PLUGIN_ARG, OPT_ENGINE, OPT_DASHBOARD, OPT_NO_DASHBOARD,
         OPT_DASHBOARD_TOKEN, OPT_DASHBOARD_API_KEY };
  static const struct option longs[] = {
      {"emit", required_argument, NULL, OPT_EMIT},
      {"output", required_argument, NULL, 'o'},
      {"param", required_argument, NULL, 'p'},
      {"dump-after", required_argument, NULL, OPT_DUMP},
      {"time-passes", no_argument, NULL, OPT_TIME},
      {"no-color", no_argument, NULL, OPT_NOCOLOR},
      {"list-targets", no_argument, NULL, OPT_LIST_TARGETS},
      {"list-passes", no_argument, NULL, OPT_LIST_PASSES},
      {"run", no_argument, NULL, OPT_RUN},
      {"state-dir", required_argument, NULL, OPT_STATE_DIR},
      {"grace", required_argument, NULL, OPT_GRACE},
      {"engine", required_argument, NULL, OPT_ENGINE},
      {"dashboard", required_argument, NULL, OPT_DASHBOARD},
      {"no-dashboard", no_argument, NULL, OPT_NO_DASHBOARD},
      {"dashboard-token", required_argument, NULL, OPT_DASHBOARD_TOKEN},
      {"dashboard-api-key", required_argument, NULL, OPT_DASHBOARD_API_KEY},
      {"error-limit", required_argument, NULL, OPT_ERROR_LIMIT},
      {"plugin", required_argument, NULL, OPT_PLUGIN},
      {"plugin-arg", required_argument, NULL, OPT_PLUGIN_ARG},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  const char *emit = NULL, *outdir = NULL;
  apx_driver_opts po = {0};
  bool run = false;
  apx_run_opts ro = {0};
  apx_dash_opts dash = {0};
  bool no_dash = false, dash_set = false;
  bool color = isatty(STDERR_FILENO) && !getenv("NO_COLOR");
  size_t error_limit = APX_DIAG_DEFAULT_LIMIT;
  /* On the stack: every early return below is then leak-free. */
  const char *params[argc + 1], *incs[argc + 1], *plugin_paths[argc + 1], *plugin_args[argc + 1];
  size_t nparams = 0, nincs = 0, nplugins = 0, nplugin_args = 0;
  bool list_targets = false, list_passes = false;
  int ch;
  opterr = 0;
  while ((ch = getopt_long(argc, argv, ":o:p:I:hV", longs, NULL)) != -1) {
    switch (ch) {
    case OPT_EMIT: emit = optarg; break;
    case 'o': outdir = optarg; break;
    case 'p':
      if (!strchr(optarg, '=')) {
        fprintf(stderr, "aspirec: -p %s: write -p NAME=VALUE\n", optarg);
        return 2;
      }
      params[nparams++] = optarg;
      break;
    case 'I': incs[nincs++] = optarg; break;
    case OPT_PLUGIN: plugin_paths[nplugins++] = optarg; break;
    case OPT_PLUGIN_ARG: {
      const char *colon = strchr(optarg, ':');
      if (!colon || colon == optarg || !colon[1] || colon[1] == '=') {
        fprintf(stderr, "aspirec: --plugin-arg=%s: write --plugin-arg=PLUGIN:KEY=VALUE\n", optarg);
        return 2;
      }
      plugin_args[nplugin_args++] = optarg;
      break;
    }
    case OPT_DUMP:
      po.dump_after = optarg; /* checked once the plugins' passes are known */
      po.dump_out = stdout;
      break;
    case OPT_TIME: po.time_passes = true; break;
    case OPT_RUN: run = true; break;
    case OPT_STATE_DIR: ro.state_dir = optarg; break;
    case OPT_ENGINE:
      if (strcmp(optarg, "docker") != 0 && strcmp(optarg, "podman") != 0 && strcmp(optarg, "local") != 0) {
        fprintf(stderr, "aspirec: --engine=%s: write docker, podman or local\n", optarg);
        return 2;
      }
      ro.engine = optarg;
      break;
    case OPT_DASHBOARD: {
      char *end = NULL;
      long port = strtol(optarg, &end, 10);
      if (!*optarg || *end || port < 1 || port > 65535) {
        fprintf(stderr, "aspirec: --dashboard=%s: write a port number (1 to 65535)\n", optarg);
        return 2;
      }
      dash.port = (int)port;
      dash_set = true;
      break;
    }
    case OPT_NO_DASHBOARD: no_dash = true; break;
    case OPT_DASHBOARD_TOKEN:
      dash.token = optarg;
      dash_set = true;
      break;
    case OPT_DASHBOARD_API_KEY:
      dash.api_key = optarg;
      dash_set = true;
      break;
    case OPT_GRACE:
      if (!apx_run_parse_duration(optarg, &ro.grace_ms)) {
        fprintf(stderr, "aspirec: --grace=%s: write a duration such as 10s, 500ms or 2m\n", optarg);
        return 2;
      }
      if (ro.grace_ms == 0) ro.grace_ms = 1; /* --grace=0: no grace at all (0 means the default) */
      break;
    case OPT_ERROR_LIMIT: {
      char *end = NULL;
      errno = 0;
      unsigned long long n = strtoull(optarg, &end, 10);
      if (!*optarg || *end || errno || *optarg == '-' || n > 1000000000ULL) {
        fprintf(stderr, "aspirec: --error-limit=%s: write a number of errors, 0 for no limit\n", optarg);
        return 2;
      }
      error_limit = (size_t)n;
      break;
    }
    case OPT_NOCOLOR: color = false; ro.no_color = true; break;
    case OPT_LIST_TARGETS: list_targets = true; break;
    case OPT_LIST_PASSES: list_passes = true; break;
    case 'h': usage(stdout); return 0;
    case 'V': printf("aspirec %s\n", PACKAGE_VERSION); return 0;
    case ':':
      fprintf(stderr, "aspirec: option %s needs a value\n", argv[optind - 1]);
      return 2;
    default:
      fprintf(stderr, "aspirec: unknown option '%s' (see aspirec --help)\n", argv[optind - 1]);
      return 2;
    }
  }
  /* Plugins load before anything looks a pass or a target up. */
  apx_plugins plugins;
  apx_plugins_init(&plugins, stderr);
  plugins.args = plugin_args;
  plugins.nargs = nplugin_args;
  int rc = apx_plugins_load_list(&plugins, getenv("APX_PLUGINS"));
  for (size_t i = 0; rc == 0 && i < nplugins; i++) rc = apx_plugins_load(&plugins, plugin_paths[i]);
  if (rc == 0) rc = apx_plugins_check_args(&plugins);
  if (rc == 0 && no_dash && dash_set) {
    fputs("aspirec: --no-dashboard goes with neither --dashboard, --dashboard-token nor --dashboard-api-key\n", stderr);
    rc = 2;
  }
  if (rc == 0 && (no_dash || dash_set) && !run) {
    fputs("aspirec: --dashboard, --no-dashboard, --dashboard-token and --dashboard-api-key need --run\n", stderr);
    rc = 2;
  }
  if (rc == 0) rc = apx_cli_main(argc, argv, &plugins, list_targets, list_passes, emit, outdir, &po, run, &ro,
                                 no_dash ? NULL : &dash, color, error_limit, params, nparams, incs, nincs);
  apx_plugins_free(&plugins);
  return rc;
}

/* The rest of main, with the plugins loaded. */
static int apx_cli_main(int argc, char **argv, const apx_plugins *plugins, bool list_targets, bool list_passes,
                        const char *emit, const char *outdir, apx_driver_opts *po, bool run, apx_run_opts *ro,
                        const apx_dash_opts *dash, bool color, size_t error_limit, const char **params,
                        size_t nparams, const char **incs, size_t nincs) {
  if (list_targets || list_passes) {
    if (list_targets) apx_plugins_list_targets(plugins, stdout);
    if (list_passes) apx_plugins_list_passes(plugins, stdout);
    return 0;
  }
  po->plugins = plugins;
  if (po->dump_after && !apx_plugins_has_pass(plugins, po->dump_after)) {
    fprintf(stderr, "aspirec: --dump-after=%s: no such pass; the passes are:", po->dump_after);
    size_t n;
    apx_pass_slot *list = apx_plugins_pass_list(plugins, &n);
    for (size_t i = 0; i < n; i++) fprintf(stderr, " %s", list[i].pass->name);
    free(list);
    fputc('\n', stderr);
    return 2;
  }
  if (optind != argc - 1) {
    fputs(optind >= argc ? "aspirec: no input file\n" : "aspirec: give one input file\n", stderr);
    usage(stderr);
    return 2;
  }
  const char *input = argv[optind];
  const apx_backend *be = NULL;
  if (emit) {
    be = apx_plugins_backend_find(plugins, emit);
    if (!be) {
      fprintf(stderr, "aspirec: --emit=%s: unknown target; the targets are:", emit);
      for (size_t i = 0; i < apx_backends_len; i++) fprintf(stderr, " %s", apx_backends[i].name);
      for (size_t i = 0; i < plugins->nbackends; i++) fprintf(stderr, " %s", plugins->backends[i]->be.name);
      fputc('\n', stderr);
      return 2;
    }
  }
  if (run && emit) {
    fputs("aspirec: --run and --emit go separately: run the program, or write a target's files\n", stderr);
    return 2;
  }
  if ((ro->state_dir || ro->grace_ms || ro->engine) && !run) {
    fputs("aspirec: --state-dir, --grace and --engine need --run\n", stderr);
    return 2;
  }
  if (outdir && !emit) {
    fputs("aspirec: -o needs --emit=TARGET\n", stderr);
    return 2;
  }

  apx_compilation c;
  apx_compilation_init(&c);
  c.diag.color = color;
  apx_diag_set_limit(&c.diag, error_limit, "--error-limit=0 shows them all");
  c.opts.params = params;
  c.opts.nparams = nparams;
  apx_search_path_set(&c, incs, nincs);
  apx_driver_job job = {input, po, be, outdir, run ? ro : NULL, stderr, run ? dash : NULL};
  int rc = apx_driver_main(&c, &job);
  apx_compilation_free(&c);
  return rc;
}
