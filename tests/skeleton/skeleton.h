/* skeleton: the smallest source, kept compiling and running by tests/unit/
 * test_skeleton.c so that "adding a source" (docs/internals.md) stays true. A real
 * source is a folder sources/NAME/ like this one (NAME.c with its keys and its
 * source_def, often NAME_map.c for the mapping and NAME_api.c for the requests)
 * plus one line in sources/registry.c; this one lives under tests/ and is not
 * registered, so flowetl never offers it.
 *
 * The API it reads: GET {base_url}/stores with "Authorization: Bearer {token}"
 * answers a JSON list [{"id": "...", "name": "..."}, ...], one store each. */
#ifndef FE_SKELETON_H
#define FE_SKELETON_H

#include "core/err.h"
#include "extract/json_stream.h"
#include "transform/rows.h"
#include "sources/source.h"

extern const source_def skeleton_source;

/* One store record into a row_store. FE_EINVAL (err says why) when the record is
 * refused (no id): the stream rejects it; a sink failure is FE_EABORT. */
fe_rc skeleton_map_store(const json_rec *rec, const row_sink *rows, fe_err *err) FE_MUST_CHECK;

/* Reads the store list into rows (the stream's work without the loader's
 * checkpoint, so that a test records the rows). Uses ctx->conf, ctx->http and
 * ctx->stats; a refused record goes to stream_reject_mapped (ctx->ld). */
fe_rc skeleton_read_stores(stream_ctx *ctx, const row_sink *rows, fe_err *err) FE_MUST_CHECK;

#endif
