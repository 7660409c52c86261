/* The embedded assets (generated from the files of dashboard/assets by embed.c). */
#ifndef APX_DASH_ASSETS_H
#define APX_DASH_ASSETS_H

#include <stddef.h>

typedef struct apx_dash_asset {
  const char *path; /* "/static/app.js" */
  const char *ctype;
  const unsigned char *data;
  size_t len;
} apx_dash_asset;

extern const apx_dash_asset apx_dash_assets[]; /* ends with a NULL path */

#endif
