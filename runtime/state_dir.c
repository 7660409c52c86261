/* The state directory: what run mode keeps across runs.
 *
 *   STATE/                 ./.aspirec beside the program, or --state-dir
 *     lock                 held (flock) by the running aspirec; has its pid
 *     params.env           generated parameter values, mode 0600
 *     logs/NAME.log        each process's output (NAME.log.1: the previous run's)
 *     logs/aspirec.log     what aspirec itself said, with times
 *     resources/NAME/      self.state_dir of a local {} fallback: its data;
 *                          owned by local.user when aspirec runs as root
 *       .aspirec-setup     setup ran (digest of the commands); delete the
 *                          directory and setup runs again
 *
 * A server that refuses root (PostgreSQL, MariaDB) runs as local.user; it
 * can only use its directory if every directory above it is searchable by
 * that user, which is checked here so that the error names the directory
 * and the fix instead of the server failing with "permission denied". */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_internal.h"

const char *apx_run_state_path(apx_runtime *run, const char *name) {
  return apx_arena_printf(run->arena, "%s/%s", run->state_dir, name);
}

const char *apx_run_state_resource_dir(apx_runtime *run, const apx_resource *r) {
  apx_run_res *rr = apx_run_res_find(run, r);
  return rr ? rr->dir : apx_arena_printf(run->arena, "%s/resources/%s", run->state_dir, r->name);
}

/* mkdir -p; mode for the directories it creates. */
static int apx_mkdirs(const char *path, mode_t mode) {
  char *p = strdup(path);
  if (!p) abort();
  int rc = 0;
  for (char *s = p + 1;; s++) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir(p, mode) != 0 && errno != EEXIST) {
        rc = -1;
        break;
      }
      *s = c;
      if (!c) break;
    }
  }
  int e = errno;
  free(p);
  errno = e;
  return rc;
}

int apx_run_state_open(apx_runtime *run) {
  const char *dir = run->opts.state_dir;
  if (!dir) dir = apx_arena_printf(run->arena, "%s/.aspirec", run->m->main_dir ? run->m->main_dir : ".");
  const char *hint = "choose a writable place with --state-dir=DIR";
  /* 0711: processes running as local.user must be able to pass through. */
  if (apx_mkdirs(dir, 0711) != 0) {
    apx_run_error(run, hint, "cannot create the state directory %s: %s", dir, strerror(errno));
    return 2;
  }
  char *abs = realpath(dir, NULL);
  if (!abs) {
    apx_run_error(run, hint, "cannot use the state directory %s: %s", dir, strerror(errno));
    return 2;
  }
  run->state_dir = apx_arena_strdup(run->arena, abs);
  free(abs);
  const char *logs = apx_run_state_path(run, "logs"), *res = apx_run_state_path(run, "resources");
  if ((mkdir(logs, 0700) != 0 && errno != EEXIST) || (mkdir(res, 0711) != 0 && errno != EEXIST)) {
    apx_run_error(run, hint, "cannot create %s: %s", errno == EEXIST ? res : logs, strerror(errno));
    return 2;
  }
  /* One aspirec per state directory: two would fight over data directories,
   * ports saved by servers and the logs. */
  const char *lock = apx_run_state_path(run, "lock");
  run->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (run->lock_fd < 0) {
    apx_run_error(run, hint, "cannot open %s: %s", lock, strerror(errno));
    return 2;
  }
  if (flock(run->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = "";
    ssize_t n = pread(run->lock_fd, pid, sizeof pid - 1, 0);
    pid[n > 0 ? n : 0] = '\0';
    pid[strcspn(pid, "\n")] = '\0';
    apx_run_error(run, "stop it first, or give this run its own --state-dir=DIR",
                  "another aspirec --run%s%s%s is using the state directory %s", pid[0] ? " (pid " : "", pid,
                  pid[0] ? ")" : "", run->state_dir);
    close(run->lock_fd);
    run->lock_fd = -1;
    return 2;
  }
  char pid[32];
  int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  if (ftruncate(run->lock_fd, 0) != 0 || pwrite(run->lock_fd, pid, (size_t)n, 0) != n) {
    /* The pid is only shown to a second aspirec; the lock itself holds. */
  }
  return 0;
}

void apx_run_state_close(apx_runtime *run) {
  if (run->lock_fd >= 0) {
    if (ftruncate(run->lock_fd, 0) != 0) { /* the lock goes with the descriptor anyway */
    }
    close(run->lock_fd);
  }
  run->lock_fd = -1;
}

/* ---- ownership and reachability for local.user ----------------------------- */

static uid_t apx_chown_uid;
static gid_t apx_chown_gid;

static int apx_chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)flag;
  (void)ftw;
  if (st->st_uid != apx_chown_uid || st->st_gid != apx_chown_gid)
    if (lchown(path, apx_chown_uid, apx_chown_gid) != 0) return -1;
  return 0;
}

/* Whether uid (in groups) may search directory st. */
static bool apx_can_search(const struct stat *st, uid_t uid, const gid_t *groups, int ngroups) {
  if (uid == 0) return true;
  if (st->st_uid == uid) return (st->st_mode & S_IXUSR) != 0;
  for (int i = 0; i < ngroups; i++)
    if (st->st_gid == groups[i]) return (st->st_mode & S_IXGRP) != 0;
  return (st->st_mode & S_IXOTH) != 0;
}

static int apx_check_reach(apx_runtime *run, const apx_run_unit *u, const char *dir) {
  gid_t groups[256];
  int ng = 256;
  if (getgrouplist(u->user, u->gid, groups, &ng) < 0) {
    ng = 1;
    groups[0] = u->gid;
  }
  char *p = strdup(dir);
  if (!p) abort();
  int rc = 0;
  /* Every directory from / down to the resource's parent. */
  for (char *s = p;; s++) {
    if (*s != '/' && *s != '\0') continue;
    char c = *s;
    *s = '\0';
    const char *cur = s == p ? "/" : p;
    struct stat st;
    if (stat(cur, &st) == 0 && !apx_can_search(&st, u->uid, groups, ng)) {
      apx_run_error(run,
                    apx_arena_printf(run->arena,
                                     "put the state directory where every user can reach it with "
                                     "--state-dir=DIR (say /var/tmp/aspirec-%s), or allow %s through with "
                                     "chmod o+x %s",
                                     run->m->app_name ? run->m->app_name : "app", u->user, cur),
                    "'%s' runs as user '%s' (local.user), who cannot reach its state directory %s: %s is not "
                    "searchable by that user (mode %04o, owner uid %ld)",
                    u->res->name, u->user, dir, cur, (unsigned)(st.st_mode & 07777), (long)st.st_uid);
      rc = 2;
      break;
    }
    *s = c;
    if (!c) break;
  }
  free(p);
  return rc;
}

int apx_run_state_resources(apx_runtime *run) {
  int rc = 0;
  for (size_t i = 0; i < run->nres; i++) {
    apx_run_res *rr = &run->res[i];
    const apx_run_unit *u = rr->units[0];
    if (!u->fallback) continue;
    if (mkdir(rr->dir, 0700) != 0 && errno != EEXIST) {
      apx_run_error(run, "check the state directory's permissions, or choose another with --state-dir",
                    "cannot create %s: %s", rr->dir, strerror(errno));
      rc = 2;
      continue;
    }
    if (!u->user) continue;
    struct stat st;
    if (stat(rr->dir, &st) == 0 && (st.st_uid != u->uid || st.st_gid != u->gid)) {
      /* New, or made by an earlier run as another user: give it all to
       * local.user, as the server expects to own its data. */
      apx_chown_uid = u->uid;
      apx_chown_gid = u->gid;
      if (nftw(rr->dir, apx_chown_one, 32, FTW_PHYS) != 0) {
        apx_run_error(run, NULL, "cannot give %s to user '%s': %s", rr->dir, u->user, strerror(errno));
        rc = 2;
        continue;
      }
    }
    if (apx_check_reach(run, u, rr->dir)) rc = 2;
  }
  return rc;
}

/* ---- setup markers ------------------------------------------------------------ */

static const char *apx_marker(apx_runtime *run, const apx_run_unit *u) {
  return apx_arena_printf(run->arena, "%s/.aspirec-setup", apx_run_state_resource_dir(run, u->res));
}

bool apx_run_setup_done(apx_runtime *run, const apx_run_unit *u) {
  if (!u->setup_key) return true;
  FILE *f = fopen(apx_marker(run, u), "r");
  if (!f) return false;
  char buf[64] = "";
  bool ok = fgets(buf, sizeof buf, f) && strncmp(buf, u->setup_key, strlen(u->setup_key)) == 0;
  fclose(f);
  return ok;
}

void apx_run_setup_mark(apx_runtime *run, const apx_run_unit *u) {
  if (!u->setup_key) return;
  FILE *f = fopen(apx_marker(run, u), "w");
  if (!f) return; /* setup runs again next time: it is idempotent */
  fprintf(f, "%s\n", u->setup_key);
  fclose(f);
}
