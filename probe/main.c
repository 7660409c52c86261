/* aspirec-probe's main: everything else is in probe.c, which the unit test
 * links too (tests/unit/test_probe.c). */
#include "probe.h"

int main(int argc, char **argv) { return apx_probe_main(argc, argv); }
