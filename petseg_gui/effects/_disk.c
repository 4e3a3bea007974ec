/* The lens blur's disk convolution of one region, for _fused.c's disk_accumulate (no Python here).

   total[y - top, x] += weight[y, x] * (disk * image)[y, x] over the region's rows and columns,
   image zero beyond its border: what lens_blur.disk_blur_regions does for a region with OpenCV's
   filter2D and accumulateProduct, in about half the time for the far level's disk.

   Why it is cheaper: filter2D costs one multiply-add per non-zero tap (145 for the working radius
   of 6 px). The disk is antialiased by coverage (lens_blur._disk_kernel), so most taps hold the
   same full value c, and each column of taps is symmetric: column j (= |dx|) is
       c * (the run of full taps, rows |dy| <= b_j)  +  sum_d w_jd * (row -d + row +d)
   where the pairs are its few partly covered taps. Per output row, the column sums of the runs
   grow one pair of rows at a time (run b = run b-1 + row -b + row +b), the pairs add two rows
   each, and the output row sums the k + 1 column rows at their shifts: about 4 (k + 1) +
   3 (number of pairs) float operations per value instead of (2k + 1)^2 multiply-adds.

   Not bit for bit filter2D (another order of float32 sums, all of them of values >= 0: no
   cancellation): within a few float32 ulps of it (tests/test_effects_native.py), and the same
   for any split of the work into regions and bands (every output row is summed afresh). */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../native_passes.h"
#include "_disk.h"

#define MAX_HALF 32    /* kernels up to 63x63 (the fast path's disks are at most 17x17) */
#define MAX_PAIRS 16   /* partly covered pairs a column may hold */

/* run b from run b - 1: the rows b above and below come in */
ROW_PASS grow(float *PLAIN run, const float *PLAIN smaller, const float *PLAIN up,
              const float *PLAIN down, int n)
{
    for (int i = 0; i < n; i++) {
        run[i] = smaller[i] + (up[i] + down[i]);
    }
}

ROW_PASS column_start(float *PLAIN column, float c, const float *PLAIN run, int n)
{
    for (int i = 0; i < n; i++) {
        column[i] = c * run[i];
    }
}

ROW_PASS column_start_1(float *PLAIN column, float c, const float *PLAIN run, float w0,
                        const float *PLAIN up0, const float *PLAIN down0, int n)
{
    for (int i = 0; i < n; i++) {
        column[i] = c * run[i] + w0 * (up0[i] + down0[i]);
    }
}

ROW_PASS column_start_2(float *PLAIN column, float c, const float *PLAIN run, float w0,
                        const float *PLAIN up0, const float *PLAIN down0, float w1,
                        const float *PLAIN up1, const float *PLAIN down1, int n)
{
    for (int i = 0; i < n; i++) {
        column[i] = (c * run[i] + w0 * (up0[i] + down0[i])) + w1 * (up1[i] + down1[i]);
    }
}

ROW_PASS column_add(float *PLAIN column, float w, const float *PLAIN up, const float *PLAIN down,
                    int n)
{
    for (int i = 0; i < n; i++) {
        column[i] += w * (up[i] + down[i]);
    }
}

ROW_PASS copy_row(float *PLAIN to, const float *PLAIN from, int n)
{
    for (int i = 0; i < n; i++) {
        to[i] = from[i];
    }
}

ROW_PASS add_pair(float *PLAIN sum, const float *PLAIN left, const float *PLAIN right, int n)
{
    for (int i = 0; i < n; i++) {
        sum[i] += left[i] + right[i];
    }
}

ROW_PASS accumulate_product(float *PLAIN total, const float *PLAIN weight,
                            const float *PLAIN value, int n)
{
    for (int i = 0; i < n; i++) {
        total[i] += weight[i] * value[i];
    }
}

/* One column of the kernel (j = |dx|): its base, ``base_weight`` times either the running sum
   of its full run (``run_half`` = b >= 0) or, without one, the centre row (its one middle tap,
   maybe 0); then its pairs (rows +-d, d > max(b, 0)) and their weights. */
typedef struct {
    int run_half;
    float base_weight;
    int pairs;
    int pair_offset[MAX_PAIRS];
    float pair_weight[MAX_PAIRS];
} Column;

/* Splits the kernel into columns; DISK_NOT_SYMMETRIC / DISK_TOO_LARGE when it can't. */
static int
columns_of(const float *kernel, int size, Column *columns)
{
    const int k = size / 2;
    if (size % 2 == 0 || k >= MAX_HALF) {
        return DISK_TOO_LARGE;
    }
#define TAP(dy, dx) kernel[((dy) + k) * size + (dx) + k]
    float full = 0.0f;
    for (int i = 0; i < size * size; i++) {
        full = kernel[i] > full ? kernel[i] : full;
    }
    for (int dy = -k; dy <= k; dy++) {
        for (int dx = -k; dx <= k; dx++) {
            if (TAP(dy, dx) != TAP(-dy, dx) || TAP(dy, dx) != TAP(dy, -dx)) {
                return DISK_NOT_SYMMETRIC;
            }
        }
    }
    for (int j = 0; j <= k; j++) {
        Column *column = &columns[j];
        int b = -1;
        while (b + 1 <= k && TAP(b + 1, j) == full) {
            b++;
        }
        column->run_half = b;
        column->base_weight = b >= 0 ? full : TAP(0, j);
        column->pairs = 0;
        for (int d = (b > 0 ? b : 0) + 1; d <= k; d++) {
            if (TAP(d, j) == 0.0f) {
                continue;
            }
            if (column->pairs == MAX_PAIRS) {
                return DISK_TOO_LARGE;
            }
            column->pair_offset[column->pairs] = d;
            column->pair_weight[column->pairs] = TAP(d, j);
            column->pairs++;
        }
    }
#undef TAP
    return 0;
}

int
disk_accumulate_region(const float *image, int height, int width, const float *kernel, int size,
                       const float *weight, float *total, int top, int y0, int y1, int x0, int x1)
{
    Column columns[MAX_HALF];
    const int refused = columns_of(kernel, size, columns);
    if (refused) {
        return refused;
    }
    const int k = size / 2;
    /* A zero-padded copy of the rows and columns the region reads: no border tests in the
       passes. Its rows are ``stride`` floats apart; ``span`` of them are computed (whole
       pixels of the padded width), ``count`` are the region's own. */
    const int padded_width = (x1 - x0) + 2 * k;
    const int span = padded_width * 4, count = (x1 - x0) * 4;
    const int stride = span + 8;
    const int padded_rows = (y1 - y0) + 2 * k;
    float *padded = calloc((size_t)padded_rows * stride, sizeof(float));
    float *runs = calloc((size_t)(k + 1) * stride, sizeof(float)); /* by run half-height */
    float *column_rows = calloc((size_t)(k + 1) * stride, sizeof(float));
    float *sum = calloc((size_t)stride, sizeof(float));
    int longest_run = 0;
    int result = 0;
    if (!padded || !runs || !column_rows || !sum) {
        result = DISK_NO_MEMORY;
        goto done;
    }
    for (int r = 0; r < padded_rows; r++) {
        const int y = y0 - k + r;
        if (y < 0 || y >= height) {
            continue;
        }
        const int from = x0 - k < 0 ? 0 : x0 - k, to = x1 + k > width ? width : x1 + k;
        memcpy(padded + (size_t)r * stride + (from - (x0 - k)) * 4,
               image + ((size_t)y * width + from) * 4, (size_t)(to - from) * 4 * sizeof(float));
    }
    for (int j = 0; j <= k; j++) {
        longest_run = columns[j].run_half > longest_run ? columns[j].run_half : longest_run;
    }
    for (int y = y0; y < y1; y++) {
        const float *row = padded + (size_t)(y - y0 + k) * stride;
        /* run[b]: the column sum over rows -b..b, each grown from the one before (the centre
           row itself for b = 0); fresh every row, so no float drift, whatever the bands */
        const float *run[MAX_HALF];
        run[0] = row;
        for (int b = 1; b <= longest_run; b++) {
            float *grown = runs + (size_t)b * stride;
            grow(grown, run[b - 1], row - (ptrdiff_t)b * stride, row + (ptrdiff_t)b * stride,
                 span);
            run[b] = grown;
        }
        for (int j = 0; j <= k; j++) {
            const Column *column = &columns[j];
            float *out = column_rows + (size_t)j * stride;
            const float *base = column->run_half >= 0 ? run[column->run_half] : row;
            const float *up[MAX_PAIRS] = {NULL}, *down[MAX_PAIRS] = {NULL};
            for (int p = 0; p < column->pairs; p++) {
                up[p] = row - (ptrdiff_t)column->pair_offset[p] * stride;
                down[p] = row + (ptrdiff_t)column->pair_offset[p] * stride;
            }
            const float *w = column->pair_weight;
            if (column->pairs == 0) {
                column_start(out, column->base_weight, base, span);
            } else if (column->pairs == 1) {
                column_start_1(out, column->base_weight, base, w[0], up[0], down[0], span);
            } else {
                column_start_2(out, column->base_weight, base, w[0], up[0], down[0], w[1], up[1],
                               down[1], span);
            }
            for (int p = 2; p < column->pairs; p++) {
                column_add(out, w[p], up[p], down[p], span);
            }
        }
        /* output pixel x (padded column x + k) sums column row |dx| at padded column x + k + dx */
        copy_row(sum, column_rows + 4 * k, count);
        for (int j = 1; j <= k; j++) {
            const float *out = column_rows + (size_t)j * stride;
            add_pair(sum, out + 4 * (k - j), out + 4 * (k + j), count);
        }
        accumulate_product(total + ((size_t)(y - top) * width + x0) * 4,
                           weight + ((size_t)y * width + x0) * 4, sum, count);
    }
done:
    free(padded);
    free(runs);
    free(column_rows);
    free(sum);
    return result;
}
