/* The state directory: what run mode keeps across runs.
 *
 *   STATE/                 ./.aspirec beside the program, or --state-dir
 *     lock                 held (flock) by the running aspirec; has its pid
 *     params.env           generated parameter values, mode 0600
 *     otlp-key             the watcher's (the dashboard's OTLP key, 0600; monitor.h state())
 *     dashboard-api-key    the watcher's (the telemetry API's key, 0600), while a run lasts
 *     logs/NAME.log        each process's output (NAME.log.1: the previous run's)
 *     logs/aspirec.log     what aspirec itself said, with times
 *     resources/NAME/      self.state_dir of a local {} fallback: its data;
 *                          owned by local.user when aspirec runs as root
 *       .aspirec-setup     setup ran (digest of the commands); delete the
 *                          directory and setup runs again
 *     resources/NAME ->    or a link to SHARED/APP-HASH/NAME (below)
 *
 * A server that refuses root (PostgreSQL, MariaDB) runs as local.user; it
 * can only use its directory if every directory above it is searchable by
 * that user. When the state directory is out of that user's reach (a
 * checkout under /root), the directory goes to the shared place,
 * /var/lib/aspirec (APX_SHARED_STATE), linked from STATE. What is still out
 * of reach is an error naming the directory and the fix, not a server
 * failing with "permission denied". */
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

static int apx_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf path (never following a link); 0 when it is gone. */
static int apx_remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
  return nftw(path, apx_remove_one, 32, FTW_DEPTH | FTW_PHYS);
}

/* Whether uid (in groups) may search directory st. */
static bool apx_can_search(const struct stat *st, uid_t uid, const gid_t *groups, int ngroups) {
  if (uid == 0) return true;
  if (st->st_uid == uid) return (st->st_mode & S_IXUSR) != 0;
  for (int i = 0; i < ngroups; i++)
    if (st->st_gid == groups[i]) return (st->st_mode & S_IXGRP) != 0;
  return (st->st_mode & S_IXOTH) != 0;
}

/* The first directory from / down to dir (itself included) that u's user
 * cannot search, its stat in *st; NULL when that user can reach dir. */
static const char *apx_blocker(apx_runtime *run, const apx_run_unit *u, const char *dir, struct stat *st) {
  gid_t groups[256];
  int ng = 256;
  if (getgrouplist(u->user, u->gid, groups, &ng) < 0) {
    ng = 1;
    groups[0] = u->gid;
  }
  char *p = apx_arena_strdup(run->arena, dir);
  for (char *s = p;; s++) {
    if (*s != '/' && *s != '\0') continue;
    char c = *s;
    *s = '\0';
    const char *cur = s == p ? "/" : p;
    if (stat(cur, st) == 0 && !apx_can_search(st, u->uid, groups, ng)) return apx_arena_strdup(run->arena, cur);
    *s = c;
    if (!c) return NULL;
  }
}

/* The error for a directory of rr's that u's user cannot reach. */
static void apx_reach_error(apx_runtime *run, const apx_run_res *rr, const apx_run_unit *u, const char *dir,
                            const char *blocker, const struct stat *st) {
  const char *hint =
      rr->moved_from || strcmp(dir, rr->dir) != 0
          ? apx_arena_printf(run->arena,
                             "choose a place that user can reach with APX_SHARED_STATE=DIR (doc/run-mode.md), or "
                             "allow %s through with chmod o+x %s",
                             u->user, blocker)
          : apx_arena_printf(run->arena,
                             "put the state directory where every user can reach it with --state-dir=DIR, or "
                             "allow %s through with chmod o+x %s",
                             u->user, blocker);
  apx_run_error(run, hint,
                "'%s' runs as user '%s' (local.user), who cannot reach its state directory %s: %s is not "
                "searchable by that user (mode %04o, owner uid %ld)",
                rr->res->name, u->user, dir, blocker, (unsigned)(st->st_mode & 07777), (long)st->st_uid);
}

/* The shared place: where the data of a service goes when its local.user
 * cannot reach the state directory (a checkout under /root, a home of mode
 * 0700). BASE/APP-HASH, BASE being $APX_SHARED_STATE or /var/lib/aspirec
 * and HASH that of the state directory's real path: one per state directory
 * (so per program by default), the same at every run. It must be root's
 * alone, as root writes into it and hands directories in it to users. */
static const char *apx_shared_name(apx_runtime *run) {
  const char *base = getenv("APX_SHARED_STATE");
  if (!base || !*base) base = "/var/lib/aspirec";
  apx_buf key = {0};
  for (const char *c = run->m->app_name ? run->m->app_name : "app"; *c; c++)
    apx_buf_putc(&key, strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *c) ? *c : '_');
  uint64_t h = apx_run_fnv(APX_RUN_FNV_INIT, run->state_dir, strlen(run->state_dir));
  const char *dir = apx_arena_printf(run->arena, "%s/%s-%016llx", base, apx_buf_str(&key), (unsigned long long)h);
  apx_buf_free(&key);
  return dir;
}

/* Creates the shared place (apx_shared_name) and checks it is root's alone. */
static const char *apx_shared_dir(apx_runtime *run, const apx_run_res *rr, const char *why) {
  const char *dir = apx_shared_name(run);
  const char *hint = "set APX_SHARED_STATE=DIR to a directory of root's that every user can pass through, or run "
                     "with --state-dir=DIR in such a place";
  if (dir[0] != '/') {
    apx_run_error(run, hint, "APX_SHARED_STATE must be an absolute path, not %s", getenv("APX_SHARED_STATE"));
    return NULL;
  }
  if (apx_mkdirs(dir, 0711) != 0) {
    apx_run_error(run, hint, "cannot create %s for the data of '%s' (%s): %s", dir, rr->res->name, why,
                  strerror(errno));
    return NULL;
  }
  struct stat st;
  if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
    apx_run_error(run, hint, "%s is not a directory that only root can write to: not used for the data of '%s'",
                  dir, rr->res->name);
    return NULL;
  }
  return dir;
}

/* Moves rr's directory to the shared place and links STATE/resources/NAME
 * to it. The link is the record: without it (a new state directory, or the
 * link deleted to start afresh) what the shared place has under that name
 * is stale, and is removed. 0, or 2 after saying why. */
static int apx_move_to_shared(apx_runtime *run, apx_run_res *rr, const apx_run_unit *u, const char *blocker,
                              const struct stat *bst) {
  const char *link = rr->dir;
  const char *why = apx_arena_printf(run->arena, "user '%s' cannot reach the state directory: %s is mode %04o",
                                     u->user, blocker, (unsigned)(bst->st_mode & 07777));
  const char *shared = apx_shared_dir(run, rr, why);
  if (!shared) return 2;
  const char *target = apx_arena_printf(run->arena, "%s/%s", shared, rr->res->name);
  struct stat st;
  const char *blocked = apx_blocker(run, u, shared, &st);
  if (blocked) { /* before anything moves or is linked there */
    apx_reach_error(run, rr, u, target, blocked, &st);
    return 2;
  }
  if (apx_remove_tree(target) != 0) {
    apx_run_error(run, NULL, "cannot remove the stale %s: %s", target, strerror(errno));
    return 2;
  }
  bool have = lstat(link, &st) == 0;
  if (have && S_ISDIR(st.st_mode)) {
    /* Made by a run that could use it there: its data moves along. */
    if (rename(link, target) != 0) {
      int e = errno;
      apx_run_error(run,
                    e == EXDEV ? apx_arena_printf(run->arena, "move it by hand: mv %s %s && ln -s %s %s", link,
                                                  target, target, link)
                               : NULL,
                    "cannot move %s to %s (%s): %s", link, target, why, strerror(e));
      return 2;
    }
  } else {
    if (have && unlink(link) != 0) {
      apx_run_error(run, NULL, "cannot replace %s: %s", link, strerror(errno));
      return 2;
    }
    if (mkdir(target, 0700) != 0) {
      apx_run_error(run, NULL, "cannot create %s: %s", target, strerror(errno));
      return 2;
    }
  }
  if (symlink(target, link) != 0) {
    apx_run_error(run, NULL, "cannot link %s to %s: %s", link, target, strerror(errno));
    return 2;
  }
  rr->moved_from = link;
  rr->dir = target;
  return 0;
}

int apx_run_state_resources(apx_runtime *run) {
  int rc = 0;
  const char *resources = apx_run_state_path(run, "resources");
  for (size_t i = 0; i < run->nres; i++) {
    apx_run_res *rr = &run->res[i];
    const apx_run_unit *u = rr->units[0];
    if (!u->fallback) continue;
    struct stat st;
    const char *blocker;
    /* A link to the shared place stands for its directory; one whose
     * directory is gone is replaced. As root, a link to anywhere else is
     * refused: whoever can write to STATE could point it at a directory
     * that root would then hand over to local.user. */
    if (lstat(rr->dir, &st) == 0 && S_ISLNK(st.st_mode)) {
      char *real = realpath(rr->dir, NULL);
      const char *ours = apx_arena_printf(run->arena, "%s/%s", apx_shared_name(run), rr->res->name);
      char *ours_real = real ? realpath(ours, NULL) : NULL;
      bool bad = false;
      if (real && stat(real, &st) == 0 && S_ISDIR(st.st_mode) &&
          (!run->is_root || (ours_real && strcmp(real, ours_real) == 0))) {
        rr->moved_from = rr->dir;
        rr->dir = apx_arena_strdup(run->arena, real);
      } else if (real) {
        apx_run_error(run,
                      apx_arena_printf(run->arena,
                                       "delete the link to start that service afresh, or move its data where "
                                       "aspirec keeps it: mv %s %s && ln -sfn %s %s",
                                       real, ours, ours, rr->dir),
                      "%s is a link to %s, which is not where aspirec keeps the data of '%s' (%s): as root, "
                      "aspirec does not follow it",
                      rr->dir, real, rr->res->name, ours);
        bad = true;
      } else if (unlink(rr->dir) != 0) {
        apx_run_error(run, NULL, "cannot replace the broken link %s: %s", rr->dir, strerror(errno));
        bad = true;
      }
      free(real);
      free(ours_real);
      if (bad) {
        rc = 2;
        continue;
      }
    }
    if (!rr->moved_from) {
      if (u->user && (blocker = apx_blocker(run, u, resources, &st))) {
        if (apx_move_to_shared(run, rr, u, blocker, &st)) {
          rc = 2;
          continue;
        }
      } else if (mkdir(rr->dir, 0700) != 0 && errno != EEXIST) {
        apx_run_error(run, "check the state directory's permissions, or choose another with --state-dir",
                      "cannot create %s: %s", rr->dir, strerror(errno));
        rc = 2;
        continue;
      }
    }
    if (!u->user) continue;
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
    if ((blocker = apx_blocker(run, u, rr->dir, &st))) {
      apx_reach_error(run, rr, u, rr->dir, blocker, &st);
      rc = 2;
    }
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
