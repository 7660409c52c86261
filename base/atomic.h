/* Replacing a file whole or not at all: the data goes to a temporary file
 * beside it (".NAME.tmp.XXXXXX", created by mkstemp, so 0600 until chmod),
 * is synced, then renamed over the final name. A reader never sees half a
 * file, a crash leaves the old one or the new one, and a secret is never
 * readable by others on the way. */
#ifndef APX_ATOMIC_H
#define APX_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

/* Creates the temporary file beside path (".NAME.tmp.XXXXXX", mode 0600);
 * returns its descriptor with *temp set (heap), or -1 with errno set. */
int apx_atomic_temp(const char *path, char **temp);
/* write(2) until all of data is written; 0, or -1 with errno set. */
int apx_atomic_write_all(int fd, const char *data, size_t len);
/* Writes data to a new temporary file beside path, with mode `mode`, and
 * syncs it. Returns its name (heap; the caller frees it), or NULL with errno
 * set and, in *step, what failed ("create" the temporary, or "write" it:
 * the temporary is then removed). */
char *apx_atomic_stage(const char *path, const char *data, size_t len, mode_t mode, const char **step);
/* The whole replacement: stage, rename, sync the directory. 0, or -1 with
 * errno set (nothing left behind). */
int apx_atomic_write(const char *path, const char *data, size_t len, mode_t mode);
/* Syncs a directory, so that renames in it are durable; errors ignored. */
void apx_atomic_sync_dir(const char *dir);

#endif
