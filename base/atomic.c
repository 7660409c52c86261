/* Whole-file replacement (atomic.h). */
#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

int apx_atomic_write_all(int fd, const char *data, size_t len) {
  while (len) {
    ssize_t w = write(fd, data, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    data += w;
    len -= (size_t)w;
  }
  return 0;
}

int apx_atomic_temp(const char *path, char **temp) {
  const char *slash = strrchr(path, '/');
  apx_buf tmp = {0};
  if (slash) apx_buf_append(&tmp, path, (size_t)(slash - path + 1));
  apx_buf_printf(&tmp, ".%s.tmp.XXXXXX", slash ? slash + 1 : path);
  int fd = mkstemp(tmp.data);
  if (fd < 0) {
    int e = errno;
    apx_buf_free(&tmp);
    errno = e;
    return -1;
  }
  *temp = apx_buf_take(&tmp, NULL);
  return fd;
}

char *apx_atomic_stage(const char *path, const char *data, size_t len, mode_t mode, const char **step) {
  char *temp = NULL;
  int fd = apx_atomic_temp(path, &temp);
  if (fd < 0) {
    if (step) *step = "create";
    return NULL;
  }
  int werr = 0;
  if (fchmod(fd, mode) != 0 || apx_atomic_write_all(fd, data, len) != 0 || fsync(fd) != 0) werr = errno;
  if (close(fd) != 0 && !werr) werr = errno;
  if (werr) {
    unlink(temp);
    free(temp);
    if (step) *step = "write";
    errno = werr;
    return NULL;
  }
  return temp;
}

void apx_atomic_sync_dir(const char *dir) {
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)fsync(dfd);
    close(dfd);
  }
}

int apx_atomic_write(const char *path, const char *data, size_t len, mode_t mode) {
  char *tmp = apx_atomic_stage(path, data, len, mode, NULL);
  if (!tmp) return -1;
  if (rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    free(tmp);
    errno = e;
    return -1;
  }
  free(tmp);
  const char *slash = strrchr(path, '/');
  if (!slash) {
    apx_atomic_sync_dir(".");
  } else {
    apx_buf d = {0};
    apx_buf_append(&d, path, slash == path ? 1 : (size_t)(slash - path));
    apx_atomic_sync_dir(apx_buf_str(&d));
    apx_buf_free(&d);
  }
  return 0;
}
