/* The lens blur's disk convolution of one region (_disk.c), called by _fused.c. */
#ifndef PETSEG_DISK_H
#define PETSEG_DISK_H

#define DISK_TOO_LARGE 1     /* an even side, or a kernel beyond 63x63 or 16 pairs a column */
#define DISK_NOT_SYMMETRIC 2 /* the kernel is not mirror-symmetric in both directions */
#define DISK_NO_MEMORY 3

/* total[y - top, x] += weight[y, x] * (kernel * image)[y, x] for y0 <= y < y1, x0 <= x < x1;
   image and weight: height x width x 4 floats, total: its rows from ``top`` on, as wide; the
   kernel size x size, odd, symmetric. 0, or one of the codes above (nothing written then). */
int disk_accumulate_region(const float *image, int height, int width, const float *kernel,
                           int size, const float *weight, float *total, int top, int y0, int y1,
                           int x0, int x1);

#endif
