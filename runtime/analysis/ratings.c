/* ratings.c: the rating page and the ratings CSV files (see ratings.h). */
#include "analysis/ratings.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis/stats.h"
#include "io/file.h"

enum { RATINGS_MAX_BYTES = 1 << 22, RATINGS_MAX_FIELDS = 256, PAGE_SCALE = 4 };

/* ---- the image of a pair ---- */

static unsigned char byte_of(const Dataset *ds, size_t i, float lo, float hi)
{
    if (ds->pixels)
        return ds->pixels[i];
    return hi > lo ? (unsigned char)lrintf(255 * (ds->values[i] - lo) / (hi - lo)) : 0;
}

void rating_pair_image(const Dataset *ds, int a, int b, unsigned char *out)
{
    size_t plane = (size_t)ds->h * ds->w, size = ds->c * plane;
    int pw = 2 * ds->w + RATING_PAIR_GAP;
    float lo = 0, hi = 0;
    for (size_t i = 0; ds->values && i < size; i++) { /* one range for both: comparable */
        float va = ds->values[a * size + i], vb = ds->values[b * size + i];
        lo = fminf(lo, fminf(va, vb));
        hi = fmaxf(hi, fmaxf(va, vb));
    }
    for (int c = 0; c < ds->c; c++)
        for (int y = 0; y < ds->h; y++)
            for (int x = 0; x < pw; x++) {
                size_t at = c * plane + (size_t)y * ds->w;
                unsigned char v = 128;
                if (x < ds->w)
                    v = byte_of(ds, a * size + at + x, lo, hi);
                else if (x >= ds->w + RATING_PAIR_GAP)
                    v = byte_of(ds, b * size + at + x - ds->w - RATING_PAIR_GAP, lo, hi);
                out[((size_t)c * ds->h + y) * pw + x] = v;
            }
}

/* ---- the page ---- */

/* The pair as a PNG in base64, for a data: URI (caller frees). */
static char *pair_png_base64(const Dataset *ds, int a, int b, Err *err)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int pw = 2 * ds->w + RATING_PAIR_GAP, c = ds->c == 3 ? 3 : 1;
    size_t plane = (size_t)ds->h * pw, png_size = 0;
    unsigned char *planes = malloc((size_t)ds->c * plane), *pixels = malloc(c * plane), *png = NULL;
    png_image image = {.version = PNG_IMAGE_VERSION, .width = (png_uint_32)pw,
                       .height = (png_uint_32)ds->h, .format = c == 3 ? PNG_FORMAT_RGB
                                                                      : PNG_FORMAT_GRAY};
    char *out = NULL;
    if (planes && pixels) {
        rating_pair_image(ds, a, b, planes);
        for (size_t i = 0; i < plane; i++) /* planes to interleaved RGB, or the first plane */
            for (int k = 0; k < c; k++)
                pixels[i * c + k] = planes[k * plane + i];
        if (png_image_write_to_memory(&image, NULL, &png_size, 0, pixels, 0, NULL))
            png = malloc(png_size);
    }
    if (png && png_image_write_to_memory(&image, png, &png_size, 0, pixels, 0, NULL) &&
        (out = malloc((png_size + 2) / 3 * 4 + 1))) {
        size_t o = 0;
        for (size_t i = 0; i < png_size; i += 3) {
            uint32_t v = (uint32_t)png[i] << 16 | (i + 1 < png_size ? png[i + 1] << 8 : 0) |
                         (i + 2 < png_size ? png[i + 2] : 0);
            out[o++] = digits[v >> 18 & 63];
            out[o++] = digits[v >> 12 & 63];
            out[o++] = i + 1 < png_size ? digits[v >> 6 & 63] : '=';
            out[o++] = i + 2 < png_size ? digits[v & 63] : '=';
        }
        out[o] = '\0';
    }
    free(planes);
    free(pixels);
    free(png);
    if (!out)
        err_set(err, CLRUN_ERUNTIME, "analysis similarity: cannot encode the pairs as PNG (%s)",
                image.message[0] ? image.message : "out of memory");
    return out;
}

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<title>Similarity ratings</title>\n<style>\n"
    "body { font-family: sans-serif; max-width: 52em; margin: 2em auto; padding: 0 1em; }\n"
    "ol { padding: 0; list-style: none; }\n"
    "li { display: flex; align-items: center; gap: 1.5em; margin: 1em 0; padding: 0.5em;\n"
    "     border-bottom: 1px solid #ddd; }\n"
    "li.missing { background: #fee; }\n"
    "li img { image-rendering: pixelated; }\n"
    ".number { font-weight: bold; min-width: 4em; }\n"
    ".scale label { display: inline-block; text-align: center; width: 2em; }\n"
    ".scale input { display: block; margin: 0 auto; }\n"
    ".ends { display: flex; justify-content: space-between; font-size: 0.8em; color: #555; }\n"
    "#status, #earlier-status { margin-left: 1em; }\n"
    "</style>\n</head>\n<body>\n"
    "<h1>How similar do these two images look to you?</h1>\n"
    "<p>Rate each pair from 1 (least similar) to 10 (most similar). There are no right or wrong "
    "answers: go with your first impression.</p>\n"
    "<p><label>Your name: <input id=\"rater\" autocomplete=\"off\"></label></p>\n"
    "<p><label>Add to ratings saved earlier (optional): <input type=\"file\" id=\"earlier\" "
    "accept=\".csv,text/csv\"></label><span id=\"earlier-status\"></span></p>\n"
    "<ol id=\"pairs\">\n";

static const char page_tail[] =
    "</ol>\n<p><button id=\"save\">Save ratings</button><span id=\"status\"></span></p>\n"
    "<script>\n"
    "\"use strict\";\n"
    "const pairs = [...document.querySelectorAll(\"#pairs li\")];\n"
    "let earlier = null; /* rows of a CSV loaded to add a column to */\n"
    "function parseCsv(text) {\n"
    "  return text.replace(/^\\ufeff/, \"\").split(/\\r?\\n/).filter(l => l.trim() !== \"\")\n"
    "    .map(l => l.split(\",\").map(c => c.trim().replace(/^\"(.*)\"$/, \"$1\")));\n"
    "}\n"
    "function rowOf(rows, li) { return rows.find(r => r[0] === li.dataset.pair); }\n"
    "function checkEarlier(rows) {\n"
    "  if (rows.length === 0) return \"the file is empty\";\n"
    "  const h = rows[0].map(c => c.toLowerCase());\n"
    "  if (h[0] !== \"pair\" || h[1] !== \"image_a\" || h[2] !== \"image_b\")\n"
    "    return \"its first columns are not pair, image_a, image_b\";\n"
    "  for (const li of pairs) {\n"
    "    const row = rowOf(rows, li);\n"
    "    if (!row) return \"pair \" + li.dataset.pair + \" is missing\";\n"
    "    if (row[1] !== li.dataset.a || row[2] !== li.dataset.b)\n"
    "      return \"its pair \" + li.dataset.pair + \" shows other images (made for another "
    "run?)\";\n"
    "  }\n"
    "  return null;\n"
    "}\n"
    "document.getElementById(\"earlier\").addEventListener(\"change\", async ev => {\n"
    "  const status = document.getElementById(\"earlier-status\");\n"
    "  earlier = null;\n"
    "  status.textContent = \"\";\n"
    "  if (!ev.target.files.length) return;\n"
    "  const rows = parseCsv(await ev.target.files[0].text());\n"
    "  const problem = checkEarlier(rows);\n"
    "  if (problem) { status.textContent = \"Not used: \" + problem + \".\"; return; }\n"
    "  earlier = rows;\n"
    "  status.textContent = \"Loaded: your column goes beside \" + rows[0].slice(3).join(\", \") "
    "+ \".\";\n"
    "});\n"
    "function cell(s) { return s.replace(/[,\"\\s]+/g, \" \").trim(); }\n"
    "function ratingOf(li) { const c = li.querySelector(\"input:checked\"); "
    "return c ? c.value : null; }\n"
    "document.getElementById(\"save\").addEventListener(\"click\", () => {\n"
    "  const status = document.getElementById(\"status\");\n"
    "  const name = cell(document.getElementById(\"rater\").value);\n"
    "  if (!name) { status.textContent = \"Please type your name first.\";\n"
    "    document.getElementById(\"rater\").focus(); return; }\n"
    "  const missing = pairs.filter(li => ratingOf(li) === null);\n"
    "  pairs.forEach(li => li.classList.toggle(\"missing\", ratingOf(li) === null));\n"
    "  if (missing.length) {\n"
    "    status.textContent = \"Please rate pair \" + missing.map(li => li.dataset.pair)"
    ".join(\", \") + \".\";\n"
    "    missing[0].scrollIntoView(); return;\n"
    "  }\n"
    "  const header = earlier ? earlier[0] : [\"pair\", \"image_a\", \"image_b\"];\n"
    "  const lines = [header.concat([name]).join(\",\")];\n"
    "  for (const li of pairs) {\n"
    "    const row = earlier ? rowOf(earlier, li).slice() : [li.dataset.pair, li.dataset.a, "
    "li.dataset.b];\n"
    "    while (row.length < header.length) row.push(\"\");\n"
    "    lines.push(row.slice(0, header.length).concat([ratingOf(li)]).join(\",\"));\n"
    "  }\n"
    "  const a = document.createElement(\"a\");\n"
    "  a.href = URL.createObjectURL(new Blob([lines.join(\"\\n\") + \"\\n\"], "
    "{type: \"text/csv\"}));\n"
    "  a.download = \"similarity_ratings.csv\";\n"
    "  document.body.appendChild(a); a.click(); a.remove();\n"
    "  status.textContent = \"Saved similarity_ratings.csv (\" + (header.length - 2) + "
    "\" rater(s)). Thank you!\";\n"
    "});\n"
    "</script>\n</body>\n</html>\n";

static void write_pair(FILE *f, int number, int a, int b, const char *png, int w, int h)
{
    fprintf(f, "<li data-pair=\"%d\" data-a=\"%d\" data-b=\"%d\">\n<span class=\"number\">"
            "Pair %d</span>\n<img src=\"data:image/png;base64,%s\" width=\"%d\" height=\"%d\" "
            "alt=\"pair %d\">\n<div><div class=\"scale\">", number, a, b, number, png,
            w * PAGE_SCALE, h * PAGE_SCALE, number);
    for (int v = 1; v <= 10; v++)
        fprintf(f, "<label><input type=\"radio\" name=\"pair%d\" value=\"%d\">%d</label>", number,
                v, v);
    fprintf(f, "</div>\n<div class=\"ends\"><span>least similar</span><span>most similar</span>"
            "</div></div>\n</li>\n");
}

int rating_page_write(AnalysisContext *ctx, const int *examples, int pairs, Err *err)
{
    const Dataset *ds = ctx->test->data->ds;
    char path[PATH_MAX];
    analysis_path(ctx, "similarity_rating.html", path, sizeof path);
    FILE *f = fopen(path, "w");
    if (!f)
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write", path);
    fputs(page_head, f);
    int rc = CLRUN_OK;
    for (int p = 0; !rc && p < pairs; p++) {
        char *png = pair_png_base64(ds, examples[p], examples[pairs + p], err);
        if (!png)
            rc = CLRUN_ERUNTIME;
        else
            write_pair(f, p + 1, examples[p] - ctx->test->first,
                       examples[pairs + p] - ctx->test->first, png, 2 * ds->w + RATING_PAIR_GAP,
                       ds->h);
        free(png);
    }
    fputs(page_tail, f);
    if (fclose(f) != 0 && !rc)
        rc = err_set(err, CLRUN_ERUNTIME, "%s: cannot write", path);
    return rc;
}

/* ---- reading ratings ---- */

/* The file's bytes, NUL-terminated (caller frees), or NULL with err set. */
static char *slurp(const char *path, Err *err)
{
    FILE *f = file_open(path, err);
    if (!f)
        return NULL;
    char *text = malloc(RATINGS_MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, RATINGS_MAX_BYTES + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!text || bad || n > RATINGS_MAX_BYTES) {
        free(text);
        err_set(err, text ? CLRUN_EINPUT : CLRUN_ERUNTIME, "%s: %s", path,
                !text ? "out of memory" : bad ? "cannot read" : "larger than 4 MiB: not a ratings file");
        return NULL;
    }
    text[n] = '\0';
    return text;
}

/* Splits line in place at commas into trimmed fields without surrounding quotes. */
static int split_fields(char *line, char **fields)
{
    int n = 0;
    for (char *next = line; next && n < RATINGS_MAX_FIELDS;) {
        char *field = next, *comma = strchr(next, ',');
        if (comma)
            *comma = '\0';
        next = comma ? comma + 1 : NULL;
        while (isspace((unsigned char)*field))
            field++;
        char *end = field + strlen(field);
        while (end > field && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (end - field >= 2 && field[0] == '"' && end[-1] == '"') {
            end[-1] = '\0';
            field++;
        }
        fields[n++] = field;
    }
    return n;
}

static int parse_number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return *s && !*end && isfinite(*v);
}

/* Pair number p's row: its images must be the ones drawn, then one rating per rater. */
static int read_row(Ratings *r, const char *path, int line, char **f, int nf, int raters,
                    char **names, const int *examples, int first, int pairs, int *seen, Err *err)
{
    double pair, a, b;
    if (!parse_number(f[0], &pair) || pair != floor(pair) || pair < 1 || pair > pairs)
        return err_set(err, CLRUN_EINPUT, "%s:%d: '%s' is not a pair number from 1 to %d", path,
                       line, f[0], pairs);
    int p = (int)pair - 1, want_a = examples[p] - first, want_b = examples[pairs + p] - first;
    if (seen[p]++)
        return err_set(err, CLRUN_EINPUT, "%s:%d: pair %d appears twice", path, line, p + 1);
    if (nf < 3 || !parse_number(f[1], &a) || !parse_number(f[2], &b) || a != want_a ||
        b != want_b)
        return err_set(err, CLRUN_EINPUT, "%s:%d: pair %d shows images %d and %d in this run, not "
                       "those of this file (were the ratings made with another class, seed or "
                       "number of pairs?)", path, line, p + 1, want_a, want_b);
    for (int k = 0; k < raters; k++) {
        double v;
        const char *cell = 3 + k < nf ? f[3 + k] : "";
        if (!*cell)
            return err_set(err, CLRUN_EINPUT, "%s:%d: %s left pair %d blank", path, line,
                           names[k], p + 1);
        if (!parse_number(cell, &v) || v < 1 || v > 10)
            return err_set(err, CLRUN_EINPUT, "%s:%d: %s rated pair %d '%s'; ratings are 1 to 10",
                           path, line, names[k], p + 1, cell);
        r->sum[p] += v;
    }
    if (nf > 3 + raters)
        return err_set(err, CLRUN_EINPUT, "%s:%d: %d fields, but the header names %d", path, line,
                       nf, 3 + raters);
    return CLRUN_OK;
}

int ratings_read(Ratings *r, const char *path, const int *examples, int first, int pairs, Err *err)
{
    if (!r->sum) {
        r->pairs = pairs;
        if (!(r->sum = calloc((size_t)pairs, sizeof *r->sum)))
            return err_set(err, CLRUN_ERUNTIME, "out of memory");
    }
    char *text = slurp(path, err), *fields[RATINGS_MAX_FIELDS], *header[RATINGS_MAX_FIELDS];
    int *seen = calloc((size_t)pairs, sizeof *seen), raters = 0, rc = CLRUN_OK, line = 0;
    if (!text || !seen) {
        free(text);
        free(seen);
        return seen ? CLRUN_EINPUT : err_set(err, CLRUN_ERUNTIME, "out of memory");
    }
    char *body = strncmp(text, "\xef\xbb\xbf", 3) == 0 ? text + 3 : text; /* a spreadsheet's BOM */
    for (char *next = body; !rc && next;) {
        char *row = next, *nl = strchr(next, '\n');
        if (nl)
            *nl = '\0';
        next = nl ? nl + 1 : NULL;
        line++;
        row[strcspn(row, "\r")] = '\0';
        if (!row[strspn(row, " \t,")])
            continue; /* blank, or empty cells only */
        if (!raters) {
            int n = split_fields(row, header);
            if (n < 4 || strcasecmp(header[0], "pair") || strcasecmp(header[1], "image_a") ||
                strcasecmp(header[2], "image_b"))
                rc = err_set(err, CLRUN_EINPUT, "%s:%d: the header must be pair,image_a,image_b "
                             "and then one column per rater", path, line);
            raters = n - 3;
            continue;
        }
        int n = split_fields(row, fields);
        rc = read_row(r, path, line, fields, n, raters, header + 3, examples, first, pairs, seen,
                      err);
    }
    for (int p = 0; !rc && p < pairs; p++)
        if (!seen[p])
            rc = err_set(err, CLRUN_EINPUT, "%s: pair %d is missing", path, p + 1);
    if (!rc && !raters)
        rc = err_set(err, CLRUN_EINPUT, "%s: empty; expected pair,image_a,image_b and a column "
                     "per rater", path);
    if (!rc)
        r->raters += raters;
    free(text);
    free(seen);
    return rc;
}

int ratings_finish(Ratings *r, Err *err)
{
    if (!(r->mean = malloc(2 * (size_t)r->pairs * sizeof *r->mean)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    r->normalized = r->mean + r->pairs;
    for (int p = 0; p < r->pairs; p++)
        r->mean[p] = r->normalized[p] = r->sum[p] / r->raters;
    stats_minmax(r->normalized, (size_t)r->pairs);
    return CLRUN_OK;
}

void ratings_free(Ratings *r)
{
    free(r->sum);
    free(r->mean);
    memset(r, 0, sizeof *r);
}
