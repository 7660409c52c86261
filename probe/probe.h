/* aspirec-probe: a health check that needs nothing from the image it runs in
 * (probe/README.md). */
#ifndef APX_PROBE_H
#define APX_PROBE_H

/* Exit codes: healthy, not healthy, bad command line. */
enum { APX_PROBE_OK = 0, APX_PROBE_FAIL = 1, APX_PROBE_USAGE = 2 };

/* The whole program: argv as given to main. Prints one line per check
 * (stdout when it passed, stderr when not) and returns an exit code. */
int apx_probe_main(int argc, char **argv);

#endif
