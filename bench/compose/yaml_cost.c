/* What libyaml's emitter costs per scalar and per byte: N mapping entries
 * `Kxxxxxxxx: aaa…` (a 9-byte key, a value of L bytes) in a block mapping,
 * the value in the given style, the text thrown away. Count instructions
 * inside the emitter only, at two lengths, and take the difference:
 *
 *   cc -O2 bench/compose/yaml_cost.c -lyaml -o bench/out/yaml_cost
 *   for L in 1 41; do valgrind --tool=callgrind --toggle-collect=yaml_emitter_emit \
 *     --callgrind-out-file=/dev/null bench/out/yaml_cost 100000 $L 0 2>&1 | grep refs; done
 *
 * per value byte = (I(41) - I(1)) / (40 N); per entry = I(1) / N.
 * STYLE is yaml_scalar_style_t: 0 any, 1 plain, 3 double-quoted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static int discard(void *data, unsigned char *buffer, size_t size) {
  (void)data;
  (void)buffer;
  (void)size;
  return 1;
}

static void emit(yaml_emitter_t *e, yaml_event_t *ev, int ok) {
  if (!ok || !yaml_emitter_emit(e, ev)) {
    fprintf(stderr, "yaml_cost: libyaml failed\n");
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: yaml_cost N LENGTH STYLE\n");
    return 2;
  }
  int n = atoi(argv[1]), len = atoi(argv[2]), style = atoi(argv[3]);
  if (n < 1 || len < 0) return 2;
  yaml_emitter_t e;
  yaml_event_t ev;
  if (!yaml_emitter_initialize(&e)) return 1;
  yaml_emitter_set_output(&e, discard, NULL);
  yaml_emitter_set_unicode(&e, 1);
  yaml_emitter_set_width(&e, -1);
  yaml_emitter_set_indent(&e, 2);
  emit(&e, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
  emit(&e, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
  emit(&e, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
  char *value = malloc((size_t)len + 1);
  if (!value) return 1;
  memset(value, 'a', (size_t)len);
  value[len] = '\0';
  char key[16];
  for (int i = 0; i < n; i++) {
    snprintf(key, sizeof key, "K%08d", i);
    emit(&e, &ev,
         yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)key, -1, 1, 1, YAML_ANY_SCALAR_STYLE));
    emit(&e, &ev,
         yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)value, len, 1, 1, (yaml_scalar_style_t)style));
  }
  emit(&e, &ev, yaml_mapping_end_event_initialize(&ev));
  emit(&e, &ev, yaml_document_end_event_initialize(&ev, 1));
  emit(&e, &ev, yaml_stream_end_event_initialize(&ev));
  yaml_emitter_delete(&e);
  free(value);
  return 0;
}
