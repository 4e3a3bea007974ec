/* The refinement's full-resolution pass in C (full_resolution.py): the guided filter's
   coefficients, fitted at the guide resolution, upsampled and applied to the photo, clipped, and
   the trimap rule, in one sweep that reads each photo pixel once and writes its alpha and trimap
   class once.

   matte_rows(rgb, coeffs, offsets, boundary, settled, modes, geometry, alpha, trimap) writes rows
   y0..y1 of ``alpha`` and ``trimap``; every guide-resolution input is padded by one replicated
   pixel on each side, as full_resolution.py pads them:
   - ``coeffs`` ((gh+2) x (gw+2) x 3 float32, the colour term's a already divided by 255), or an
     empty array for none (then alpha is the upsampled ``offsets`` alone);
   - ``offsets`` ((gh+2) x (gw+2) float32): the filter's b, or the plain alpha;
   - ``boundary`` ((gh+2) x (gw+2) uint8): 2 where the model saw a boundary, else 0 (its nearest
     guide pixel's, as OpenCV's INTER_NEAREST upsampling by exactly k takes it);
   - ``settled`` ((gh+2) x (gw+2) float32, the filter's output at the guide resolution), or an
     empty array when ``modes`` is all ones;
   - ``modes`` (strips x blocks uint8): 1 where a block takes the colour term, 0 where it is
     ``settled`` upsampled (full_resolution.apply_at_full_resolution says which);
   - ``geometry``: (k, guide rows per strip, guide columns per block, the trimap's thresholds on
     the rounded 0..255 scale (background at or below low, subject at or above high), y0, y1).

   Pixel (y, x) samples the guide at ((y + .5) / k - .5, (x + .5) / k - .5), bilinearly, as
   OpenCV's resize by exactly k of the padded blocks does (the leftover rows and columns past
   the last whole guide pixel take the last padded one). The arithmetic is float32 throughout,
   along each guide row first and then between two of them, as OpenCV's resize, so it agrees
   with the OpenCV path to float32 rounding (tests/test_matte_native.py: alpha within 1e-5, the
   trimap the same but where that rounding moves an alpha sitting on a half level).

   colour_products(guide, out) and colour_fit(sums, mean_i, mean_p, mean_ip, eps, a, b) are the
   colour guided filter's per-pixel algebra at the guide resolution (matting.guided_coefficients):
   the six products of a pixel's colours, and, from the window means, the coefficients a (the
   closed-form inverse of the 3x3 colour covariance + eps times the colour-target covariance) and
   b. The same float32 operations in the same order as the numpy steps they replace, without
   their ~40 temporaries: the same coefficients bit for bit (tests/test_matte_native.py).

   Optional, as effects/_fused.c: setup.py builds it where a C compiler is at hand, and
   full_resolution.py falls back to OpenCV without it. The GIL is released while it runs. The
   row loops are ROW_PASSes (native_passes.h): built for AVX2 too where GCC can (a 12 MP photo's
   pass on one core 26 -> 19 ms). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../native_module.h"
#include "../native_passes.h"

#define SUBJECT 0
#define BACKGROUND 1
#define BOUNDARY 2

/* the planes of one upsampled guide row, full width each: the colour term's a (three floats a
   column, interleaved as the photo's channels), b, and the settled alpha */
#define PLANES 5

typedef struct {
    const uint8_t *rgb;
    Py_ssize_t height, width;
    const float *coeffs; /* NULL: no colour term */
    const float *offsets;
    const uint8_t *boundary;
    const float *settled; /* NULL: every block takes the colour term */
    const uint8_t *modes;
    Py_ssize_t gh, gw, k, strip_rows, block_cols, strips, blocks;
    float low, high;
    float *alpha;
    uint8_t *trimap;
} Pass;

/* rint (half to even, the default rounding mode) of 0 <= v < 2**22 (effects/_fused.c's) */
static inline float
rounded(float v)
{
    const float magic = 12582912.0f;
    return (v + magic) - magic;
}

/* Where column x samples the guide's padded columns: index and weight of the right one. */
static void
column_taps(Py_ssize_t width, Py_ssize_t k, Py_ssize_t gw, int32_t *index, float *weight)
{
    for (Py_ssize_t x = 0; x < width; x++) {
        const double p = (x + 0.5) / (double)k + 0.5;
        Py_ssize_t i = (Py_ssize_t)floor(p);
        float f = (float)(p - (double)i);
        if (i >= gw + 1) {
            i = gw; /* past the last padded column: that column itself */
            f = 1.0f;
        }
        index[x] = (int32_t)i;
        weight[x] = f;
    }
}

/* One padded guide row, upsampled along x into the planes it is needed in, for the columns
   x0..x1 of a block. */
ROW_PASS
upsample_row(const Pass *p, Py_ssize_t row, int colour, Py_ssize_t x0, Py_ssize_t x1,
             const int32_t *PLAIN index, const float *PLAIN weight, float *PLAIN planes)
{
    const Py_ssize_t pw = p->gw + 2, w = p->width;
    if (colour) {
        const float *PLAIN b = p->offsets + row * pw;
        float *PLAIN ob = planes + 3 * w;
        if (p->coeffs != NULL) {
            const float *PLAIN a = p->coeffs + row * pw * 3;
            float *PLAIN o = planes; /* interleaved, as the photo */
            for (Py_ssize_t x = x0; x < x1; x++) {
                const int32_t i = index[x];
                const float f = weight[x], e = 1.0f - f;
                o[3 * x] = a[3 * i] * e + a[3 * i + 3] * f;
                o[3 * x + 1] = a[3 * i + 1] * e + a[3 * i + 4] * f;
                o[3 * x + 2] = a[3 * i + 2] * e + a[3 * i + 5] * f;
            }
        }
        for (Py_ssize_t x = x0; x < x1; x++) {
            const int32_t i = index[x];
            const float f = weight[x];
            ob[x] = b[i] * (1.0f - f) + b[i + 1] * f;
        }
    } else {
        const float *PLAIN g = p->settled + row * pw;
        float *PLAIN og = planes + 4 * w;
        for (Py_ssize_t x = x0; x < x1; x++) {
            const int32_t i = index[x];
            const float f = weight[x];
            og[x] = g[i] * (1.0f - f) + g[i + 1] * f;
        }
    }
}

/* alpha = clip(a . rgb + b) between two upsampled guide rows (weights e, f), columns x0..x1;
   ``products`` is scratch, 3 floats a column */
ROW_PASS
colour_alpha(const float *PLAIN top, const float *PLAIN bottom, const uint8_t *PLAIN rgb,
             int with_colour, float e, float f, Py_ssize_t x0, Py_ssize_t x1, Py_ssize_t w,
             float *PLAIN products, float *PLAIN out)
{
    const float *PLAIN b0 = top + 3 * w, *PLAIN b1 = bottom + 3 * w;
    if (with_colour) {
        for (Py_ssize_t j = 3 * x0; j < 3 * x1; j++) {
            products[j] = (top[j] * e + bottom[j] * f) * (float)rgb[j];
        }
        for (Py_ssize_t x = x0; x < x1; x++) {
            const float b = b0[x] * e + b1[x] * f;
            float v = ((products[3 * x] + products[3 * x + 1]) + products[3 * x + 2]) + b;
            v = v > 1.0f ? 1.0f : v;
            out[x] = v > 0.0f ? v : 0.0f;
        }
        return;
    }
    for (Py_ssize_t x = x0; x < x1; x++) {
        float v = b0[x] * e + b1[x] * f;
        v = v > 1.0f ? 1.0f : v;
        out[x] = v > 0.0f ? v : 0.0f;
    }
}

/* the settled alpha between two upsampled guide rows (no clip: it is within [0, 1] already) */
ROW_PASS
settled_alpha(const float *PLAIN top, const float *PLAIN bottom, float e, float f,
              Py_ssize_t x0, Py_ssize_t x1, Py_ssize_t w, float *PLAIN out)
{
    const float *PLAIN g0 = top + 4 * w, *PLAIN g1 = bottom + 4 * w;
    for (Py_ssize_t x = x0; x < x1; x++) {
        out[x] = g0[x] * e + g1[x] * f;
    }
}

/* The trimap rule on alpha's rounded 0..255 level, or'ed with the model's boundary (a row of
   it, nearest-upsampled; NULL in settled blocks, which have none). */
ROW_PASS
classes(const float *PLAIN alpha, const uint8_t *PLAIN boundary, float low, float high,
        Py_ssize_t x0, Py_ssize_t x1, uint8_t *PLAIN out)
{
    for (Py_ssize_t x = x0; x < x1; x++) {
        const float level = rounded(alpha[x] * 255.0f);
        const uint8_t c = level >= high ? SUBJECT : (level <= low ? BACKGROUND : BOUNDARY);
        out[x] = c;
    }
    if (boundary != NULL) {
        for (Py_ssize_t x = x0; x < x1; x++) {
            out[x] = out[x] > boundary[x] ? out[x] : boundary[x]; /* BOUNDARY is the largest */
        }
    }
}

/* Fills ``row_boundary`` (width) from the boundary's padded guide row for photo row y. */
static void
boundary_row(const Pass *p, Py_ssize_t y, uint8_t *PLAIN out)
{
    const Py_ssize_t pw = p->gw + 2;
    Py_ssize_t gy = y / p->k;
    gy = gy < p->gh - 1 ? gy : p->gh - 1;
    const uint8_t *PLAIN src = p->boundary + (gy + 1) * pw;
    for (Py_ssize_t gx = 0; gx < p->gw; gx++) {
        const Py_ssize_t x0 = gx * p->k;
        const Py_ssize_t x1 = gx == p->gw - 1 ? p->width : x0 + p->k;
        memset(out + x0, src[gx + 1], (size_t)(x1 - x0));
    }
}

/* Rows y0..y1. 0, or -1 when memory ran out (nothing is left half-written then: the caller
   raises). */
static int
matte_rows(const Pass *p, Py_ssize_t y0, Py_ssize_t y1)
{
    const Py_ssize_t w = p->width, k = p->k, strip_height = p->strip_rows * k;
    const Py_ssize_t block_width = p->block_cols * k;
    float *rows = malloc(sizeof(float) * (size_t)w * (2 * PLANES + 3));
    int32_t *index = malloc(sizeof(int32_t) * (size_t)w);
    float *weight = malloc(sizeof(float) * (size_t)w);
    uint8_t *row_boundary = malloc((size_t)w);
    if (rows == NULL || index == NULL || weight == NULL || row_boundary == NULL) {
        free(rows), free(index), free(weight), free(row_boundary);
        return -1;
    }
    float *slot[2] = {rows, rows + PLANES * w};
    float *products = rows + 2 * PLANES * w;
    Py_ssize_t held[2] = {-1, -1}; /* the padded guide row in each slot, for strip held_strip */
    Py_ssize_t held_strip = -1, boundary_for = -1;
    column_taps(w, k, p->gw, index, weight);

    for (Py_ssize_t y = y0; y < y1; y++) {
        Py_ssize_t strip = y / strip_height;
        strip = strip < p->strips - 1 ? strip : p->strips - 1;
        const uint8_t *modes = p->modes + strip * p->blocks;
        if (strip != held_strip) {
            held[0] = held[1] = -1; /* another strip's blocks may need other planes */
            held_strip = strip;
        }
        const double py = (y + 0.5) / (double)k + 0.5;
        Py_ssize_t top = (Py_ssize_t)floor(py);
        float f = (float)(py - (double)top);
        if (top >= p->gh + 1) {
            top = p->gh;
            f = 1.0f;
        }
        const float e = 1.0f - f;
        if (held[0] != top) {
            if (held[1] == top) { /* moving down by one guide row: the bottom becomes the top */
                float *s = slot[0];
                slot[0] = slot[1];
                slot[1] = s;
                held[0] = top;
                held[1] = -1;
            } else {
                held[0] = -1;
            }
        }
        for (int s = 0; s < 2; s++) {
            if (held[s] == top + s) {
                continue;
            }
            for (Py_ssize_t j = 0; j < p->blocks; j++) {
                const Py_ssize_t x0 = j * block_width;
                const Py_ssize_t x1 = j == p->blocks - 1 ? w : x0 + block_width;
                upsample_row(p, top + s, modes[j], x0, x1, index, weight, slot[s]);
            }
            held[s] = top + s;
        }
        const Py_ssize_t guide_row = y / k;
        if (guide_row != boundary_for) {
            boundary_row(p, y, row_boundary);
            boundary_for = guide_row;
        }
        const uint8_t *rgb = p->rgb + y * w * 3;
        float *alpha = p->alpha + y * w;
        uint8_t *trimap = p->trimap + y * w;
        for (Py_ssize_t j = 0; j < p->blocks; j++) {
            const Py_ssize_t x0 = j * block_width;
            const Py_ssize_t x1 = j == p->blocks - 1 ? w : x0 + block_width;
            if (modes[j]) {
                colour_alpha(slot[0], slot[1], rgb, p->coeffs != NULL, e, f, x0, x1, w, products,
                             alpha);
                classes(alpha, row_boundary, p->low, p->high, x0, x1, trimap);
            } else {
                settled_alpha(slot[0], slot[1], e, f, x0, x1, w, alpha);
                classes(alpha, NULL, p->low, p->high, x0, x1, trimap);
            }
        }
    }
    free(rows), free(index), free(weight), free(row_boundary);
    return 0;
}

static int
guide_plane_fits(const Py_buffer *v, Py_ssize_t gh, Py_ssize_t gw, Py_ssize_t channels,
                 char code)
{
    const Py_ssize_t expected = (gh + 2) * (gw + 2) * channels;
    return v->len / v->itemsize == expected && format_is(v, code);
}

static int
arguments_fit(Pass *p, const Py_buffer *v, PyObject *geometry, Py_ssize_t *y0, Py_ssize_t *y1)
{
    /* v: rgb, coeffs, offsets, boundary, settled, modes, alpha, trimap */
    Py_ssize_t k, strip_rows, block_cols, low, high;
    if (!PyArg_ParseTuple(geometry, "nnnnnnn", &k, &strip_rows, &block_cols, &low, &high, y0,
                          y1)) {
        return 0;
    }
    if (!check(v[0].ndim == 3 && v[0].shape[2] == 3 && format_is(&v[0], 'B'),
               "rgb must be a C-contiguous uint8 HxWx3 array") ||
        !check(v[2].ndim == 2 && format_is(&v[2], 'f'),
               "offsets must be a C-contiguous float32 2-D array") ||
        !check(k >= 1 && strip_rows >= 1 && block_cols >= 1, "k, strip rows and block columns "
                                                              "must be positive")) {
        return 0;
    }
    p->height = v[0].shape[0];
    p->width = v[0].shape[1];
    p->gh = v[2].shape[0] - 2;
    p->gw = v[2].shape[1] - 2;
    p->k = k;
    p->strip_rows = strip_rows;
    p->block_cols = block_cols;
    p->strips = (p->gh + strip_rows - 1) / strip_rows;
    p->blocks = (p->gw + block_cols - 1) / block_cols;
    if (!check(p->gh >= 1 && p->gw >= 1 && p->height >= p->gh * k && p->width >= p->gw * k &&
                   p->height < (p->gh + 1) * k && p->width < (p->gw + 1) * k,
               "the guide must be the photo's size // k, padded by one pixel") ||
        !check(v[1].len == 0 || guide_plane_fits(&v[1], p->gh, p->gw, 3, 'f'),
               "coeffs must be empty or float32 (gh+2)x(gw+2)x3") ||
        !check(guide_plane_fits(&v[3], p->gh, p->gw, 1, 'B'),
               "boundary must be uint8 (gh+2)x(gw+2)") ||
        !check(v[4].len == 0 || guide_plane_fits(&v[4], p->gh, p->gw, 1, 'f'),
               "settled must be empty or float32 (gh+2)x(gw+2)") ||
        !check(v[5].len == p->strips * p->blocks && format_is(&v[5], 'B'),
               "modes must be uint8, one per strip and block") ||
        !check(v[6].ndim == 2 && v[6].shape[0] == p->height && v[6].shape[1] == p->width &&
                   format_is(&v[6], 'f'),
               "alpha must be a C-contiguous float32 array of the photo's height and width") ||
        !check(v[7].ndim == 2 && v[7].shape[0] == p->height && v[7].shape[1] == p->width &&
                   format_is(&v[7], 'B'),
               "trimap must be a C-contiguous uint8 array of the photo's height and width") ||
        !check(0 <= *y0 && *y0 <= *y1 && *y1 <= p->height, "rows y0..y1 must lie in the photo")) {
        return 0;
    }
    const uint8_t *modes = v[5].buf;
    if (v[4].len == 0) {
        for (Py_ssize_t i = 0; i < p->strips * p->blocks; i++) {
            if (!check(modes[i] == 1, "every block takes the colour term without settled")) {
                return 0;
            }
        }
    }
    p->rgb = v[0].buf;
    p->coeffs = v[1].len ? v[1].buf : NULL;
    p->offsets = v[2].buf;
    p->boundary = v[3].buf;
    p->settled = v[4].len ? v[4].buf : NULL;
    p->modes = modes;
    p->low = (float)low;
    p->high = (float)high;
    p->alpha = v[6].buf;
    p->trimap = v[7].buf;
    return 1;
}

static PyObject *
rows_of_matte(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *objects[8], *geometry;
    if (!PyArg_ParseTuple(args, "OOOOOOO!OO", &objects[0], &objects[1], &objects[2],
                          &objects[3], &objects[4], &objects[5], &PyTuple_Type, &geometry,
                          &objects[6], &objects[7])) {
        return NULL;
    }
    Py_buffer v[8];
    PyObject *result = NULL;
    const int held =
        acquire_objects(objects, 8, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT, 1u << 6 | 1u << 7, v);
    Pass pass;
    Py_ssize_t y0, y1;
    if (held == 8 && arguments_fit(&pass, v, geometry, &y0, &y1)) {
        int status;
        Py_BEGIN_ALLOW_THREADS
        status = matte_rows(&pass, y0, y1);
        Py_END_ALLOW_THREADS
        if (status == 0) {
            result = Py_NewRef(Py_None);
        } else {
            PyErr_NoMemory();
        }
    }
    release(v, held);
    return result;
}

/* the six distinct products of a pixel's colours, as matting.guided_coefficients stacks them */
ROW_PASS
products_of(const float *PLAIN guide, Py_ssize_t n, float *PLAIN out)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        const float r = guide[3 * i], g = guide[3 * i + 1], b = guide[3 * i + 2];
        float *o = out + 6 * i;
        o[0] = r * r;
        o[1] = r * g;
        o[2] = r * b;
        o[3] = g * g;
        o[4] = g * b;
        o[5] = b * b;
    }
}

/* a = (Sigma + eps I)^-1 cov(I, p) and b = mean_p - a . mean_i per pixel, as
   matting.guided_coefficients computes them (its order of float32 operations) */
ROW_PASS
fit_of(const float *PLAIN sums, const float *PLAIN mean_i, const float *PLAIN mean_p,
       const float *PLAIN mean_ip, float eps, Py_ssize_t n, float *PLAIN a, float *PLAIN b)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        const float *s = sums + 6 * i;
        const float mr = mean_i[3 * i], mg = mean_i[3 * i + 1], mb = mean_i[3 * i + 2];
        const float p = mean_p[i];
        const float cr = mean_ip[3 * i] - mr * p;
        const float cg = mean_ip[3 * i + 1] - mg * p;
        const float cb = mean_ip[3 * i + 2] - mb * p;
        const float rr = (s[0] - mr * mr) + eps, rg = s[1] - mr * mg, rb = s[2] - mr * mb;
        const float gg = (s[3] - mg * mg) + eps, gb = s[4] - mg * mb;
        const float bb = (s[5] - mb * mb) + eps;
        const float c_rr = gg * bb - gb * gb, c_rg = gb * rb - rg * bb, c_rb = rg * gb - gg * rb;
        const float c_gg = rr * bb - rb * rb, c_gb = rb * rg - rr * gb, c_bb = rr * gg - rg * rg;
        const float inv_det = 1.0f / ((rr * c_rr + rg * c_rg) + rb * c_rb);
        const float a0 = ((c_rr * cr + c_rg * cg) + c_rb * cb) * inv_det;
        const float a1 = ((c_rg * cr + c_gg * cg) + c_gb * cb) * inv_det;
        const float a2 = ((c_rb * cr + c_gb * cg) + c_bb * cb) * inv_det;
        a[3 * i] = a0;
        a[3 * i + 1] = a1;
        a[3 * i + 2] = a2;
        b[i] = p - ((a0 * mr + a1 * mg) + a2 * mb);
    }
}

/* float32 arrays of ``channels`` values per pixel, ``pixels`` pixels */
static int
pixels_fit(const Py_buffer *v, Py_ssize_t pixels, Py_ssize_t channels, const char *message)
{
    return check(format_is(v, 'f') && v->len == (Py_ssize_t)sizeof(float) * pixels * channels,
                 message);
}

static PyObject *
colour_products(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *objects[2];
    if (!PyArg_ParseTuple(args, "OO", &objects[0], &objects[1])) {
        return NULL;
    }
    Py_buffer v[2];
    PyObject *result = NULL;
    const int held = acquire_objects(objects, 2, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT, 1u << 1, v);
    if (held == 2) {
        const Py_ssize_t n = v[0].len / (Py_ssize_t)(3 * sizeof(float));
        if (pixels_fit(&v[0], n, 3, "guide must be C-contiguous float32, 3 values a pixel") &&
            pixels_fit(&v[1], n, 6, "out must be C-contiguous float32, 6 values a pixel")) {
            Py_BEGIN_ALLOW_THREADS
            products_of(v[0].buf, n, v[1].buf);
            Py_END_ALLOW_THREADS
            result = Py_NewRef(Py_None);
        }
    }
    release(v, held);
    return result;
}

static PyObject *
colour_fit(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *objects[6];
    double eps;
    if (!PyArg_ParseTuple(args, "OOOOdOO", &objects[0], &objects[1], &objects[2], &objects[3],
                          &eps, &objects[4], &objects[5])) {
        return NULL;
    }
    Py_buffer v[6]; /* sums, mean_i, mean_p, mean_ip, a, b */
    PyObject *result = NULL;
    const int held = acquire_objects(objects, 6, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT,
                                     1u << 4 | 1u << 5, v);
    if (held == 6) {
        const Py_ssize_t n = v[2].len / (Py_ssize_t)sizeof(float);
        if (pixels_fit(&v[0], n, 6, "sums must be float32, 6 values a pixel") &&
            pixels_fit(&v[1], n, 3, "mean_i must be float32, 3 values a pixel") &&
            pixels_fit(&v[2], n, 1, "mean_p must be float32, 1 value a pixel") &&
            pixels_fit(&v[3], n, 3, "mean_ip must be float32, 3 values a pixel") &&
            pixels_fit(&v[4], n, 3, "a must be float32, 3 values a pixel") &&
            pixels_fit(&v[5], n, 1, "b must be float32, 1 value a pixel")) {
            Py_BEGIN_ALLOW_THREADS
            fit_of(v[0].buf, v[1].buf, v[2].buf, v[3].buf, (float)eps, n, v[4].buf, v[5].buf);
            Py_END_ALLOW_THREADS
            result = Py_NewRef(Py_None);
        }
    }
    release(v, held);
    return result;
}

static PyMethodDef methods[] = {
    {"matte_rows", rows_of_matte, METH_VARARGS,
     "matte_rows(rgb, coeffs, offsets, boundary, settled, modes, (k, strip_rows, block_cols, "
     "low, high, y0, y1), alpha, trimap): rows y0..y1 of the refined alpha and its trimap "
     "(full_resolution.apply_at_full_resolution)."},
    {"colour_products", colour_products, METH_VARARGS,
     "colour_products(guide, out): out[..., :6] = r*r, r*g, r*b, g*g, g*b, b*b of each pixel of "
     "the float32 HxWx3 guide (out: float32 HxWx6)."},
    {"colour_fit", colour_fit, METH_VARARGS,
     "colour_fit(sums, mean_i, mean_p, mean_ip, eps, a, b): the colour guided filter's a "
     "(HxWx3) and b (HxW) from the window means (matting.guided_coefficients)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_matte",
    "The refinement's full-resolution pass in C (full_resolution.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__matte(void)
{
    /* INTERFACE, as in inference/full_resolution.py: raise both with any change of a
       function's arguments or meaning */
    return module_with_interface(&module, 2);
}
