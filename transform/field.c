/* field: record values under PostgreSQL's rules. See field.h. */
#include "transform/field.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/timeutil.h"
#include "transform/value.h"

/* Writes the excerpt of v[0..len) (no NUL byte in it). */
static void show_excerpt(const char *v, size_t len, char *dst, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < len && j + 4 < n; i++) {
        unsigned char c = (unsigned char)v[i];
        dst[j++] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
    }
    if (j + 4 >= n && len > j)
        for (int k = 0; k < 3; k++)
            dst[j++] = '.';
    dst[j] = '\0';
}

/* The value is server text that may hold a credential, and the excerpt is cut:
 * a cut secret is a piece the log's mask no longer recognises, so the whole value
 * is masked first (core/log.h). NUL bytes, which would end the text the mask
 * reads, become 0x01 (shown as '?' either way); a 0x01 after the value keeps the
 * mask from dropping a trailing partial UTF-8 sequence, which shows as '?' too. */
const char *field_show(const char *v, size_t len, char *dst, size_t n)
{
    char *copy = malloc(len + 2), *clean = NULL;
    if (copy) {
        for (size_t i = 0; i < len; i++)
            copy[i] = v[i] ? v[i] : '\x01';
        copy[len] = '\x01';
        copy[len + 1] = '\0';
        clean = log_redact_dup(copy);
    }
    if (clean && *clean)
        show_excerpt(clean, strlen(clean) - 1, dst, n);
    else
        show_excerpt("(not shown: out of memory)", 26, dst, n);
    free(copy);
    free(clean);
    return dst;
}

/* The field at path, or NULL when absent or JSON null. */
static const json_field *present_at(const json_rec *r, const char *path)
{
    const json_field *f = json_rec_get(r, path);
    return f && f->type != JV_NULL ? f : NULL;
}

static bool is_text(const json_field *f)
{
    return f->type == JV_STRING || f->type == JV_NUMBER;
}

fe_rc field_check_text(const char *what, const char *s, size_t len, fe_err *err)
{
    const char *problem = value_text_problem(s, len);
    if (problem)
        return fe_err_set(err, FE_EINVAL, "%s %s", what, problem);
    return FE_OK;
}

fe_rc field_text(const json_rec *r, const char *path, const char **out, fe_err *err)
{
    const json_field *f = present_at(r, path);
    *out = NULL;
    if (!f || !is_text(f))
        return FE_OK;
    FE_TRY(field_check_text(path, f->value, f->len, err));
    *out = f->value;
    return FE_OK;
}

fe_rc field_text_opt(const json_rec *r, const char *path, const char **out, fe_err *err)
{
    FE_TRY(field_text(r, path, out, err));
    if (*out && !**out)
        *out = NULL;
    return FE_OK;
}

fe_rc field_id(const json_rec *r, const char *path, const char **out, fe_err *err)
{
    FE_TRY(field_text_opt(r, path, out, err));
    if (!*out)
        return fe_err_set(err, FE_EINVAL, "record without %s", path);
    return FE_OK;
}

const char *field_id_or_null(const json_rec *r, const char *path)
{
    fe_err ignored;
    const char *id;
    return field_id(r, path, &id, &ignored) == FE_OK ? id : NULL;
}

fe_rc field_check_decimal(const char *what, const char *s, size_t len, long scale, decimal *out,
                          fe_err *err)
{
    char shown[FIELD_SHOW_MAX];
    switch (decimal_read(s, len, scale, out)) {
    case DECIMAL_OK:
        return FE_OK;
    case DECIMAL_RANGE:
        return fe_err_set(err, FE_EINVAL, "%s: '%s' is out of range (numeric(20,4))", what,
                          field_show(s, len, shown, sizeof shown));
    default:
        return fe_err_set(err, FE_EINVAL, "%s: '%s' is not a decimal", what,
                          field_show(s, len, shown, sizeof shown));
    }
}

fe_rc field_decimal(const json_rec *r, const char *path, long scale, decimal *out, bool *present,
                    fe_err *err)
{
    char shown[FIELD_SHOW_MAX];
    const json_field *f = present_at(r, path);
    decimal d;
    *present = false;
    if (!f || (f->type == JV_STRING && f->len == 0))
        return FE_OK;
    if (!is_text(f))
        return fe_err_set(err, FE_EINVAL, "%s: '%s' is not a decimal", path,
                          field_show(f->value, f->len, shown, sizeof shown));
    FE_TRY(field_check_decimal(path, f->value, f->len, scale, &d, err));
    *out = d;
    *present = true;
    return FE_OK;
}

fe_rc field_decimal_req(const json_rec *r, const char *path, long scale, decimal *out, fe_err *err)
{
    bool present;
    FE_TRY(field_decimal(r, path, scale, out, &present, err));
    if (!present)
        return fe_err_set(err, FE_EINVAL, "%s is missing", path);
    return FE_OK;
}

fe_rc field_decimal_text(const json_rec *r, const char *path, long scale,
                         char dst[DECIMAL_TEXT_MAX], const char **text, decimal *value, fe_err *err)
{
    decimal d;
    bool present;
    *text = NULL;
    FE_TRY(field_decimal(r, path, scale, &d, &present, err));
    if (!present)
        return FE_OK;
    *text = decimal_format(d, dst);
    if (value)
        *value = d;
    return FE_OK;
}

static fe_rc out_of_range(const char *path, const json_field *f, fe_err *err)
{
    char shown[FIELD_SHOW_MAX];
    return fe_err_set(err, FE_EINVAL, "%s: '%s' is out of range (years %d..%d)", path,
                      field_show(f->value, f->len, shown, sizeof shown), VALUE_YEAR_MIN,
                      VALUE_YEAR_MAX);
}

fe_rc field_time(const json_rec *r, const char *path, int64_t *out, bool *present, fe_err *err)
{
    char shown[FIELD_SHOW_MAX];
    const json_field *f = present_at(r, path);
    int64_t us;
    *present = false;
    if (!f || (f->type == JV_STRING && f->len == 0))
        return FE_OK;
    if (f->type != JV_STRING || !time_parse_iso(f->value, f->len, &us))
        return fe_err_set(err, FE_EINVAL, "%s: '%s' is not a date-time", path,
                          field_show(f->value, f->len, shown, sizeof shown));
    if (!value_time_ok(us))
        return out_of_range(path, f, err);
    *out = us;
    *present = true;
    return FE_OK;
}

fe_rc field_time_text(const json_rec *r, const char *path, char dst[TIME_TEXT_MAX],
                      const char **text, fe_err *err)
{
    int64_t us;
    bool present;
    *text = NULL;
    FE_TRY(field_time(r, path, &us, &present, err));
    if (present)
        *text = time_format_iso(us, dst);
    return FE_OK;
}

fe_rc field_unix_time(const json_rec *r, const char *path, int64_t *out, bool *present, fe_err *err)
{
    char shown[FIELD_SHOW_MAX];
    const json_field *f = present_at(r, path);
    int64_t us;
    *present = false;
    if (!f || (f->type == JV_STRING && f->len == 0))
        return FE_OK;
    if (!is_text(f) || !time_parse_unix(f->value, f->len, &us))
        return fe_err_set(err, FE_EINVAL, "%s: '%s' is not unix seconds", path,
                          field_show(f->value, f->len, shown, sizeof shown));
    if (!value_time_ok(us))
        return out_of_range(path, f, err);
    *out = us;
    *present = true;
    return FE_OK;
}

fe_rc field_date(const json_rec *r, const char *path, char out[11], fe_err *err)
{
    char shown[FIELD_SHOW_MAX];
    const json_field *f = present_at(r, path);
    int64_t ignored;
    out[0] = '\0';
    if (!f || (f->type == JV_STRING && f->len == 0))
        return FE_OK;
    if (f->type != JV_STRING || f->len != 10 || !time_parse_iso(f->value, f->len, &ignored))
        return fe_err_set(err, FE_EINVAL, "%s: '%s' is not a date (YYYY-MM-DD)", path,
                          field_show(f->value, f->len, shown, sizeof shown));
    if (!value_date_text_ok(f->value, f->len))
        return out_of_range(path, f, err);
    memcpy(out, f->value, 10);
    out[10] = '\0';
    return FE_OK;
}

bool field_true(const json_rec *r, const char *path)
{
    const json_field *f = json_rec_get(r, path);
    return f && (f->type == JV_BOOL || f->type == JV_STRING) && f->len == 4 &&
           memcmp(f->value, "true", 4) == 0;
}

bool field_bool(const json_rec *r, const char *path, bool def)
{
    const json_field *f = json_rec_get(r, path);
    if (!f || f->type != JV_BOOL)
        return def;
    return f->len == 4;
}

bool field_is(const char *text, const char *literal)
{
    return text && strcmp(text, literal) == 0;
}

bool field_is_one_of(const char *text, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (field_is(text, list[i]))
            return true;
    return false;
}

/* The index of "N" or "N.<rest>" at s (after "prefix."), or max when s does not
 * start with one below max. */
static size_t array_index(const char *s, size_t max)
{
    size_t idx = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        idx = idx * 10 + (size_t)(*s - '0');
        if (idx >= max)
            return max;
    }
    return *s == '.' || *s == '\0' ? idx : max;
}

size_t field_array_len(const json_rec *r, const char *prefix, size_t max, bool *beyond)
{
    size_t plen = strlen(prefix), n = 0;
    if (beyond)
        *beyond = false;
    for (size_t i = 0; i < json_rec_count(r); i++) {
        const char *p = json_rec_at(r, i)->path;
        if (strncmp(p, prefix, plen) != 0 || p[plen] != '.' || p[plen + 1] < '0' ||
            p[plen + 1] > '9')
            continue;
        size_t idx = array_index(p + plen + 1, max);
        if (idx == max) {
            if (beyond)
                *beyond = true;
        } else if (idx + 1 > n) {
            n = idx + 1;
        }
    }
    return n;
}

fe_rc field_currency(const json_rec *r, const char *path, char dst[4], const char **out,
                     fe_err *err)
{
    const char *text;
    FE_TRY(field_text(r, path, &text, err));
    *out = value_currency_str(text, dst);
    return FE_OK;
}

fe_rc field_sink_rc(fe_rc rc, fe_err *err)
{
    if (rc == FE_EINVAL) {
        rc = FE_EABORT;
        if (err)
            err->code = FE_EABORT;
    }
    return rc;
}
