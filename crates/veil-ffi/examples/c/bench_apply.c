/* Time veil_masker_apply on 1920x1080 I420 frames through the C ABI.
 *
 *   cargo build --release -p veil-ffi
 *   cc -O2 -std=c11 -I crates/veil-ffi/include crates/veil-ffi/examples/c/bench_apply.c \
 *      $CARGO_TARGET_DIR/release/libveil.a -lm -ldl -lpthread -o /tmp/bench_apply
 *   /tmp/bench_apply 300
 *
 * Not a test: timings depend on the machine. */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "veil.h"

static const char *ZONES[] = {
    /* one solid door */
    "[camera]\nid = \"c\"\npurposes = [\"safety\"]\nresponsible = \"r\"\n"
    "[[zones]]\nkind = \"dwelling-door\"\nlabel = \"door\"\n"
    "polygon = [[0.10, 0.20], [0.18, 0.20], [0.18, 0.55], [0.10, 0.55]]\n",
    /* a solid door, a pixelated window and a blurred road strip */
    "[camera]\nid = \"c\"\npurposes = [\"safety\"]\nresponsible = \"r\"\n"
    "[[zones]]\nkind = \"dwelling-door\"\nlabel = \"door\"\n"
    "polygon = [[0.10, 0.20], [0.18, 0.20], [0.18, 0.55], [0.10, 0.55]]\n"
    "[[zones]]\nkind = \"dwelling-window\"\nlabel = \"window\"\nstyle = \"pixelate\"\n"
    "polygon = [[0.40, 0.10], [0.60, 0.10], [0.60, 0.35], [0.40, 0.35]]\n"
    "[[zones]]\nkind = \"public-road\"\nlabel = \"road\"\nstyle = \"blur\"\n"
    "polygon = [[0.0, 0.85], [1.0, 0.85], [1.0, 1.0], [0.0, 1.0]]\n",
};
static const char *NAMES[] = {"1 solid zone", "solid + pixelate + blur"};

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    int iters = argc > 1 ? atoi(argv[1]) : 300;
    enum { W = 1920, H = 1080 };
    uint8_t *y = malloc((size_t)W * H), *u = malloc((size_t)W * H / 4), *v = malloc((size_t)W * H / 4);
    if (!y || !u || !v) return 1;
    for (size_t i = 0; i < (size_t)W * H; i++) y[i] = (uint8_t)(i * 7u);
    memset(u, 90, (size_t)W * H / 4);
    memset(v, 160, (size_t)W * H / 4);
    veil_frame f = {VEIL_PIXEL_FORMAT_I420, W, H, {y, u, v}, {W, W / 2, W / 2}};
    for (int z = 0; z < 2; z++) {
        veil_masker *m = NULL;
        if (veil_masker_new(ZONES[z], W, H, VEIL_PIXEL_FORMAT_I420, &m) != VEIL_STATUS_OK) return 1;
        veil_masker_apply(m, &f); /* warm-up */
        double t0 = now_ms();
        for (int i = 0; i < iters; i++)
            if (veil_masker_apply(m, &f) != VEIL_STATUS_OK) return 1;
        double per = (now_ms() - t0) / iters;
        printf("1920x1080 I420, %-24s %8.3f ms/frame (%d frames)\n", NAMES[z], per, iters);
        veil_masker_free(m);
    }
    free(y);
    free(u);
    free(v);
    return 0;
}
