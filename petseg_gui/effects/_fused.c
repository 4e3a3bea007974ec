/* The portrait effect's full-resolution passes in C, each in one sweep over its pixels, each
   giving the very numbers of the numpy and OpenCV steps it replaces (tests/test_effects_native.py).

   premultiplied_halves(rgb, alpha, linear_table, boost_table, out, coverage_out) stretches the
   matte as given (coverage.py) and writes the 2x2 block means of
   lens_blur.premultiplied_background(rgb, stretched) into ``out`` and those of the stretched
   matte itself into ``coverage_out``: what coverage.py, that function and OpenCV's 2x2 area
   shrink compute in ~18 passes over full-size arrays and band buffers, here in one pass that
   reads each photo pixel and matte value once and writes a quarter of the floats. The
   arithmetic is the Python path's, operation for operation in float32 (no fused multiply-adds:
   setup.py builds with -ffp-contract=off), and the four values of a block are summed as
   OpenCV's block shrink sums them, ((top left + top right) + (bottom left + bottom right))
   * 0.25: bit for bit.

   blend(out, subject, alpha) is blend.py's fixed-point composite of a region, in place:
   ``out = out + rint((subject - out) * a / 2**14)``, a = rint(alpha * 2**14), both rounded half
   to even; every other step is exact in float32, so it gives the bytes of blend.py's OpenCV and
   numpy paths, without their masks and 16-bit temporaries.

   Optional: setup.py builds it where a C compiler is at hand; the effect falls back to the
   Python path (the same numbers, slower) when it is not there. No numpy headers: the arrays
   come in through the buffer protocol, and the GIL is released while a pass runs, so the row
   bands of the effect run on both cores. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <stdint.h>

#include "../native_module.h"
#include "_disk.h"

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define NOINLINE __declspec(noinline)
#else
#define NOINLINE
#endif

/* coverage.py's stretch of the matte as given: alpha * GAIN - OFFSET, clipped to [0, 1] (NaN
   stays NaN, as np.clip leaves it). GAIN and OFFSET are coverage.py's: a change there fails
   tests/test_effects_native.py until it is made here too. */
static inline float
stretched(float alpha)
{
    float covered = alpha * 1.25f;
    covered = covered - 0.125f;
    covered = covered < 0.0f ? 0.0f : covered;
    return covered > 1.0f ? 1.0f : covered;
}

/* lens_blur.premultiplied_background of one pixel: [r, g, b] linear light times the scale
   s = weight * (1 + boost(brightest code) * in_background), the weight itself, and (fifth) the
   stretched alpha. */
static inline void
premultiplied(const uint8_t *pixel, float given, const float *linear, const float *boost,
              float value[5])
{
    const float alpha = stretched(given);
    const uint8_t r = pixel[0], g = pixel[1], b = pixel[2];
    uint8_t brightest = r > g ? r : g;
    brightest = brightest > b ? brightest : b;
    /* background_weight: (1 - alpha)^2 */
    float weight = 1.0f - alpha;
    weight = weight * weight;
    /* the highlight boost fades out as alpha reaches 0.5: 1 - 2 alpha clipped to [0, 1]
       (NaN stays NaN, as np.clip leaves it) */
    float in_background = alpha * -2.0f + 1.0f;
    in_background = in_background < 0.0f ? 0.0f : in_background;
    in_background = in_background > 1.0f ? 1.0f : in_background;
    const float scale = weight * (boost[brightest] * in_background + 1.0f);
    value[0] = linear[r] * scale;
    value[1] = linear[g] * scale;
    value[2] = linear[b] * scale;
    value[3] = weight;
    value[4] = alpha;
}

/* Kept out of its caller: inlined there, GCC 12 at -O3 (Python's own flags) made the 12 MP pass
   26 instead of 15.5 ms, one thread. */
NOINLINE static void
halves(const uint8_t *rgb, const float *alpha, Py_ssize_t rows, Py_ssize_t width,
       const float *linear, const float *boost, float *out, float *coverage_out)
{
    for (Py_ssize_t y = 0; y + 1 < rows; y += 2) {
        const uint8_t *top = rgb + y * width * 3, *bottom = top + width * 3;
        const float *alpha_top = alpha + y * width, *alpha_bottom = alpha_top + width;
        float *o = out + (y / 2) * (width / 2) * 4;
        float *covered = coverage_out + (y / 2) * (width / 2);
        for (Py_ssize_t x = 0; x + 1 < width; x += 2, o += 4, covered++) {
            float tl[5], tr[5], bl[5], br[5];
            premultiplied(top + 3 * x, alpha_top[x], linear, boost, tl);
            premultiplied(top + 3 * x + 3, alpha_top[x + 1], linear, boost, tr);
            premultiplied(bottom + 3 * x, alpha_bottom[x], linear, boost, bl);
            premultiplied(bottom + 3 * x + 3, alpha_bottom[x + 1], linear, boost, br);
            /* OpenCV's order for a 2x2 block mean: the same float sums, bit for bit */
            for (int c = 0; c < 4; c++) {
                o[c] = ((tl[c] + tr[c]) + (bl[c] + br[c])) * 0.25f;
            }
            *covered = ((tl[4] + tr[4]) + (bl[4] + br[4])) * 0.25f;
        }
    }
}

/* acquire_objects of a call's arguments, which must be exactly ``count`` */
static int
acquire(PyObject *args, const char *name, Py_ssize_t count, int flags, unsigned writable,
        Py_buffer *views)
{
    if (PyTuple_GET_SIZE(args) != count) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)", name, count,
                     PyTuple_GET_SIZE(args));
        return 0;
    }
    return acquire_objects(&PyTuple_GET_ITEM(args, 0), count, flags, writable, views);
}

static int
halves_arguments_fit(const Py_buffer *rgb, const Py_buffer *alpha, const Py_buffer *linear,
                     const Py_buffer *boost, const Py_buffer *out, const Py_buffer *coverage)
{
    if (!check(rgb->ndim == 3 && rgb->shape[2] == 3 && format_is(rgb, 'B'),
               "rgb must be a C-contiguous uint8 HxWx3 array") ||
        !check(alpha->ndim == 2 && format_is(alpha, 'f'),
               "alpha must be a C-contiguous float32 HxW array")) {
        return 0;
    }
    const Py_ssize_t rows = rgb->shape[0], width = rgb->shape[1];
    return check(alpha->shape[0] == rows && alpha->shape[1] == width,
                 "alpha must have the photo's height and width") &&
           check(rows % 2 == 0 && width % 2 == 0, "the photo's sides must be even") &&
           check(linear->len == 256 * 4 && format_is(linear, 'f') && boost->len == 256 * 4 &&
                     format_is(boost, 'f'),
                 "the tables must be float32 arrays of 256 values") &&
           check(out->ndim == 3 && out->shape[0] == rows / 2 && out->shape[1] == width / 2 &&
                     out->shape[2] == 4 && format_is(out, 'f'),
                 "out must be a C-contiguous float32 (H/2)x(W/2)x4 array") &&
           check(coverage->ndim == 2 && coverage->shape[0] == rows / 2 &&
                     coverage->shape[1] == width / 2 && format_is(coverage, 'f'),
                 "coverage_out must be a C-contiguous float32 (H/2)x(W/2) array");
}

static PyObject *
premultiplied_halves(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer v[6]; /* rgb, alpha, linear table, boost table, out, coverage_out */
    PyObject *result = NULL;
    const int held = acquire(args, "premultiplied_halves", 6,
                             PyBUF_C_CONTIGUOUS | PyBUF_FORMAT, 1u << 4 | 1u << 5, v);
    if (held == 6 && halves_arguments_fit(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5])) {
        Py_BEGIN_ALLOW_THREADS
        halves((const uint8_t *)v[0].buf, (const float *)v[1].buf, v[0].shape[0], v[0].shape[1],
               (const float *)v[2].buf, (const float *)v[3].buf, (float *)v[4].buf,
               (float *)v[5].buf);
        Py_END_ALLOW_THREADS
        result = Py_NewRef(Py_None);
    }
    release(v, held);
    return result;
}

/* 2**ALPHA_BITS of blend.py */
#define ONE 16384.0f

/* rint (half to even, the default rounding mode) of |v| < 2**22: adding and subtracting
   1.5 * 2**23 leaves no bits below the point. nearbyintf would be a library call per value on
   the x86-64 baseline (no SSE4.1 round instruction). Larger values come back unchanged. */
static inline float
rounded(float v)
{
    const float magic = 12582912.0f;
    return (v + magic) - magic;
}

NOINLINE static void
blend_rows(uint8_t *out, Py_ssize_t out_step, const uint8_t *subject, Py_ssize_t subject_step,
           const float *alpha, Py_ssize_t alpha_step, Py_ssize_t rows, Py_ssize_t width)
{
    for (Py_ssize_t y = 0; y < rows; y++) {
        uint8_t *o = out + y * out_step;
        const uint8_t *s = subject + y * subject_step;
        const float *a = (const float *)((const char *)alpha + y * alpha_step);
        for (Py_ssize_t x = 0; x < width; x++) {
            /* blend.fixed_alpha: rint(alpha * 2**14), half to even (the default rounding) */
            const float fixed = rounded(a[x] * ONE);
            if (!(fixed > 0.0f)) {
                continue; /* the background stays (NaN too, as blend_masks leaves it) */
            }
            if (fixed >= ONE) {
                o[3 * x] = s[3 * x];
                o[3 * x + 1] = s[3 * x + 1];
                o[3 * x + 2] = s[3 * x + 2];
                continue;
            }
            for (int c = 0; c < 3; c++) {
                const float behind = (float)o[3 * x + c];
                /* (front - behind) * a: an integer below 2**22, exact; the scale a power of 2 */
                const float step = rounded(((float)s[3 * x + c] - behind) * fixed / ONE);
                o[3 * x + c] = (uint8_t)(behind + step);
            }
        }
    }
}

static int
blend_arguments_fit(const Py_buffer *out, const Py_buffer *subject, const Py_buffer *alpha)
{
    return check(out->ndim == 3 && out->shape[2] == 3 && out->strides[1] == 3 &&
                     out->strides[2] == 1 && format_is(out, 'B'),
                 "out must be a uint8 HxWx3 array with packed rows") &&
           check(subject->ndim == 3 && subject->shape[0] == out->shape[0] &&
                     subject->shape[1] == out->shape[1] && subject->shape[2] == 3 &&
                     subject->strides[1] == 3 && subject->strides[2] == 1 &&
                     format_is(subject, 'B'),
                 "subject must be a uint8 array of out's shape with packed rows") &&
           check(alpha->ndim == 2 && alpha->shape[0] == out->shape[0] &&
                     alpha->shape[1] == out->shape[1] && alpha->strides[1] == 4 &&
                     format_is(alpha, 'f'),
                 "alpha must be a float32 array of out's height and width with packed rows") &&
           check(out->strides[0] > 0 && subject->strides[0] > 0 && alpha->strides[0] > 0,
                 "rows must run forwards");
}

static PyObject *
blend(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer v[3]; /* out, subject, alpha */
    PyObject *result = NULL;
    /* Strided: ``out`` is a region of the photo; its pixels must lie packed in a row. */
    const int held = acquire(args, "blend", 3, PyBUF_STRIDES | PyBUF_FORMAT, 1u << 0, v);
    if (held == 3 && blend_arguments_fit(&v[0], &v[1], &v[2])) {
        Py_BEGIN_ALLOW_THREADS
        blend_rows((uint8_t *)v[0].buf, v[0].strides[0], (const uint8_t *)v[1].buf,
                   v[1].strides[0], (const float *)v[2].buf, v[2].strides[0], v[0].shape[0],
                   v[0].shape[1]);
        Py_END_ALLOW_THREADS
        result = Py_NewRef(Py_None);
    }
    release(v, held);
    return result;
}

static int
disk_arguments_fit(const Py_buffer *image, const Py_buffer *kernel, const Py_buffer *weight,
                   const Py_buffer *total, int top, int y0, int y1, int x0, int x1)
{
    if (!check(image->ndim == 3 && image->shape[2] == 4 && format_is(image, 'f') &&
                   image->shape[0] < INT_MAX / 4 && image->shape[1] < INT_MAX / 4,
               "image must be a C-contiguous float32 HxWx4 array")) {
        return 0;
    }
    const Py_ssize_t rows = image->shape[0], width = image->shape[1];
    return check(kernel->ndim == 2 && kernel->shape[0] == kernel->shape[1] &&
                     format_is(kernel, 'f'),
                 "kernel must be a C-contiguous float32 square array") &&
           check(weight->ndim == 3 && weight->shape[0] == rows && weight->shape[1] == width &&
                     weight->shape[2] == 4 && format_is(weight, 'f'),
                 "weight must be a C-contiguous float32 array of image's shape") &&
           check(total->ndim == 3 && total->shape[1] == width && total->shape[2] == 4 &&
                     format_is(total, 'f'),
                 "total must be a C-contiguous float32 array of image's width and channels") &&
           check(0 <= y0 && y0 <= y1 && y1 <= rows && 0 <= x0 && x0 <= x1 && x1 <= width,
                 "the region must lie inside the image") &&
           check(top <= y0 && (Py_ssize_t)y1 - top <= total->shape[0],
                 "total must hold the region's rows from row top on");
}

static PyObject *
disk_accumulate(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *objects[4]; /* image, kernel, weight, total */
    int top, y0, y1, x0, x1;
    if (!PyArg_ParseTuple(args, "OOOOiiiii:disk_accumulate", &objects[0], &objects[1],
                          &objects[2], &objects[3], &top, &y0, &y1, &x0, &x1)) {
        return NULL;
    }
    Py_buffer v[4];
    PyObject *result = NULL;
    const int held = acquire_objects(objects, 4, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT, 1u << 3, v);
    if (held == 4 && disk_arguments_fit(&v[0], &v[1], &v[2], &v[3], top, y0, y1, x0, x1)) {
        int refused = 0;
        if (y0 < y1 && x0 < x1) {
            Py_BEGIN_ALLOW_THREADS
            refused = disk_accumulate_region(
                (const float *)v[0].buf, (int)v[0].shape[0], (int)v[0].shape[1],
                (const float *)v[1].buf, (int)v[1].shape[0], (const float *)v[2].buf,
                (float *)v[3].buf, top, y0, y1, x0, x1);
            Py_END_ALLOW_THREADS
        }
        if (refused == DISK_NO_MEMORY) {
            PyErr_NoMemory();
        } else if (refused) {
            PyErr_SetString(PyExc_ValueError,
                            refused == DISK_NOT_SYMMETRIC
                                ? "kernel must be mirror-symmetric in both directions"
                                : "kernel must have an odd side of at most 63");
        } else {
            result = Py_NewRef(Py_None);
        }
    }
    release(v, held);
    return result;
}

NOINLINE static void
encode_rows(const uint8_t *table, Py_ssize_t entries, const uint16_t *red, const uint16_t *green,
            const uint16_t *blue, Py_ssize_t count, uint8_t *out)
{
    const Py_ssize_t last = entries - 1;
    for (Py_ssize_t i = 0; i < count; i++) {
        out[3 * i] = table[red[i] < last ? red[i] : last];
        out[3 * i + 1] = table[green[i] < last ? green[i] : last];
        out[3 * i + 2] = table[blue[i] < last ? blue[i] : last];
    }
}

static int
encode_arguments_fit(const Py_buffer *v)
{
    const Py_buffer *table = &v[0], *out = &v[4];
    if (!check(table->ndim == 1 && table->shape[0] > 0 && format_is(table, 'B'),
               "table must be a non-empty C-contiguous uint8 array")) {
        return 0;
    }
    for (int c = 1; c <= 3; c++) {
        if (!check(v[c].ndim == 2 && format_is(&v[c], 'H') && v[c].shape[0] == v[1].shape[0] &&
                       v[c].shape[1] == v[1].shape[1],
                   "the planes must be C-contiguous uint16 HxW arrays of one shape")) {
            return 0;
        }
    }
    return check(out->ndim == 3 && out->shape[0] == v[1].shape[0] &&
                     out->shape[1] == v[1].shape[1] && out->shape[2] == 3 && format_is(out, 'B'),
                 "out must be a C-contiguous uint8 HxWx3 array of the planes' height and width");
}

static PyObject *
encode_planes(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer v[5]; /* table, red, green, blue, out */
    PyObject *result = NULL;
    const int held =
        acquire(args, "encode_planes", 5, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT, 1u << 4, v);
    if (held == 5 && encode_arguments_fit(v)) {
        Py_BEGIN_ALLOW_THREADS
        encode_rows((const uint8_t *)v[0].buf, v[0].shape[0], (const uint16_t *)v[1].buf,
                    (const uint16_t *)v[2].buf, (const uint16_t *)v[3].buf,
                    v[1].shape[0] * v[1].shape[1], (uint8_t *)v[4].buf);
        Py_END_ALLOW_THREADS
        result = Py_NewRef(Py_None);
    }
    release(v, held);
    return result;
}

static PyMethodDef methods[] = {
    {"premultiplied_halves", premultiplied_halves, METH_VARARGS,
     "premultiplied_halves(rgb, alpha, linear_table, boost_table, out, coverage_out): the 2x2 "
     "block means of lens_blur.premultiplied_background(rgb, coverage(alpha)) into out "
     "((H/2)x(W/2)x4 float32), and of coverage(alpha) into coverage_out ((H/2)x(W/2))."},
    {"blend", blend, METH_VARARGS,
     "blend(out, subject, alpha): out = out + rint((subject - out) * a / 2**14) in place, "
     "a = rint(alpha * 2**14) (blend.py's fixed-point composite of a region)."},
    {"disk_accumulate", disk_accumulate, METH_VARARGS,
     "disk_accumulate(image, kernel, weight, total, top, y0, y1, x0, x1): total[y - top, x] += "
     "weight[y, x] * (kernel * image)[y, x] over rows y0..y1 and columns x0..x1, zeros beyond "
     "the image (lens_blur.disk_blur_regions of one region)."},
    {"encode_planes", encode_planes, METH_VARARGS,
     "encode_planes(table, red, green, blue, out): out[..., c] = table[plane_c], each index "
     "clipped to the table (np.take(table, np.dstack(planes), mode='clip'), without the merge "
     "and numpy's cast of the indices)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fused",
    "The portrait effect's passes in C (lens_blur.py, blend.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__fused(void)
{
    /* INTERFACE, as in effects/compiled.py: raise both with any change of a function's arguments
       or meaning */
    return module_with_interface(&module, 4);
}
