/* Staged output: a back end adds whole files in memory, or streams a large
 * one to a temporary name; commit writes each file to a temporary name in the
 * output directory and renames them all into place. A failed compile never
 * calls commit, so it leaves nothing behind. */
#ifndef APX_OUTPUT_H
#define APX_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

typedef struct apx_output apx_output;

/* dir == NULL or "-": single-file back ends write their one file to stdout. */
apx_output *apx_output_new(const char *dir);
/* Takes a copy of data. relpath may contain '/' (directories are created at commit). */
void apx_output_add(apx_output *o, const char *relpath, const char *data, size_t len);
/* The same, taking ownership of a heap block (no copy of a large file). */
void apx_output_add_owned(apx_output *o, const char *relpath, char *data, size_t len);
/* The same for a program (mode 0755 always): the Compose health-check probe. */
void apx_output_add_executable(apx_output *o, const char *relpath, char *data, size_t len);
/* A file written as it is made, so that a large one is never held in
 * memory: a stream on its temporary file in the output directory (the
 * directory is made if needed, and removed again if the output is never
 * committed). Commit renames it into place with the other files; free
 * without commit deletes it. Write errors are reported by commit. NULL in
 * stdout mode or when the file cannot be created there: the caller then
 * adds the file in memory (commit reports the problem). */
FILE *apx_output_stream(apx_output *o, const char *relpath);
/* The same for a file that is always 0755 (apx_output_add_executable's). */
FILE *apx_output_stream_executable(apx_output *o, const char *relpath);
/* For a file made in parts at once (compose's services, in threads): an
 * unlinked temporary file in the output directory, open for reading and
 * writing, gone when closed; NULL in stdout mode or on failure. */
FILE *apx_output_scratch(apx_output *o);
/* Appends the bytes [*from, to) of the file open on part_fd (flushed; it
 * may still grow past `to`: its offset is not used) at the end of `stream`
 * (flushed, from apx_output_stream), in the kernel where it can
 * (copy_file_range), advancing *from; the stream is then positioned at its
 * end. False with errno on failure. */
bool apx_output_append(FILE *stream, int part_fd, off_t *from, off_t to);
/* Starts the kernel writing out what `stream` (flushed, from
 * apx_output_stream) holds so far, without waiting: the sync at commit then
 * waits only for the rest (10 ms of a 12 MB file here). A hint: errors are
 * left for the commit's sync to find. */
void apx_output_writeback(FILE *stream);
/* Reads an existing file of the output directory (to keep values a user put
 * into .env); NULL if absent. The caller frees it. */
char *apx_output_read_existing(const apx_output *o, const char *relpath, size_t *len);
/* The i-th file added (in order), or NULL past the last. */
const char *apx_output_data(const apx_output *o, size_t i, size_t *len);
bool apx_output_to_stdout(const apx_output *o);
/* The output directory as given, or NULL in stdout mode: back ends that write
 * paths relative to their output (Compose's build context) need it. */
const char *apx_output_dir(const apx_output *o);
/* Returns 0, or -1 with a message on stderr (and no file left half-written). */
int apx_output_commit(apx_output *o);
void apx_output_free(apx_output *o);

#endif
