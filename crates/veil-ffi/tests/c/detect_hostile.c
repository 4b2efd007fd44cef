/* Hostile frames for a real detector (faces and persons): descriptions claiming 4 billion
 * pixels over a small buffer, strides of 0 and SIZE_MAX, NULL planes, unknown formats, and
 * valid but degenerate frames (1x1, 1x4096, 4096x1, flat, noise) that stress the letterbox
 * preprocessing. Each returns its documented status; on failure the boxes array and the
 * count are untouched; no crash (run under ASan + UBSan). No arguments. */
#include <stdint.h>

#include "veil.h"
#include "check.h"

static veil_detector *det;

/* Detect on `f` with a canary-filled array; returns the status and checks the
 * untouched-on-failure rule. */
static veil_status run(const veil_frame *f, const char *what) {
    veil_detection boxes[16];
    memset(boxes, 0xAB, sizeof boxes);
    size_t count = 12345;
    veil_error *err = NULL;
    veil_status s = veil_detector_detect(det, f, boxes, 16, &count, &err);
    char buf[256] = "";
    if (err != NULL) veil_error_message(err, buf, sizeof buf, NULL);
    printf("  %s: %s (%zu) %s\n", what, veil_status_str(s), s == VEIL_STATUS_OK ? count : 0, buf);
    if (s == VEIL_STATUS_OK) {
        CHECK(err == NULL && count <= 16);
        for (size_t i = 0; i < count; i++) {
            CHECK(boxes[i].class_id == VEIL_CLASS_FACE || boxes[i].class_id == VEIL_CLASS_PERSON);
            CHECK(boxes[i].score >= 0.0f && boxes[i].score <= 1.0f);
            CHECK(boxes[i].x >= 0.0f && boxes[i].y >= 0.0f && boxes[i].w >= 0.0f && boxes[i].h >= 0.0f);
            CHECK(boxes[i].x + boxes[i].w <= (float)f->width + 0.01f);
            CHECK(boxes[i].y + boxes[i].h <= (float)f->height + 0.01f);
        }
    } else {
        CHECK(err != NULL && count == 12345);
        if (s != VEIL_STATUS_BUFFER_TOO_SMALL) {
            const uint8_t *b = (const uint8_t *)boxes;
            for (size_t i = 0; i < sizeof boxes; i++) CHECK(b[i] == 0xAB);
        }
        veil_error_free(err);
    }
    return s;
}

int main(void) {
    CHECK_STATUS(veil_detector_new(VEIL_DETECTOR_FACES | VEIL_DETECTOR_PERSONS, NULL, &det, NULL), VEIL_STATUS_OK);
    static uint8_t px[4096 * 3 * 4];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 2654435761u >> 24);

    veil_frame huge = {VEIL_PIXEL_FORMAT_RGB24, UINT32_MAX, UINT32_MAX, {px, NULL, NULL}, {SIZE_MAX, 0, 0}};
    veil_status s = run(&huge, "4294967295x4294967295 over 48 KB");
    CHECK(s == VEIL_STATUS_INVALID_SIZE || s == VEIL_STATUS_INVALID_FRAME);
    veil_frame big = {VEIL_PIXEL_FORMAT_GRAY8, 16384, 16384, {px, NULL, NULL}, {16384, 0, 0}};
    s = run(&big, "16384x16384 (over MAX_PIXELS)");
    CHECK(s == VEIL_STATUS_INVALID_SIZE || s == VEIL_STATUS_INVALID_FRAME);
    veil_frame zero = {VEIL_PIXEL_FORMAT_GRAY8, 0, 0, {px, NULL, NULL}, {0, 0, 0}};
    s = run(&zero, "0x0");
    CHECK(s == VEIL_STATUS_INVALID_SIZE || s == VEIL_STATUS_INVALID_FRAME);
    veil_frame stride0 = {VEIL_PIXEL_FORMAT_RGB24, 64, 48, {px, NULL, NULL}, {0, 0, 0}};
    CHECK_STATUS(run(&stride0, "stride 0"), VEIL_STATUS_INVALID_FRAME);
    veil_frame null_plane = {VEIL_PIXEL_FORMAT_NV12, 64, 48, {px, NULL, NULL}, {64, 64, 0}};
    CHECK_STATUS(run(&null_plane, "NV12 without its chroma plane"), VEIL_STATUS_INVALID_FRAME);
    veil_frame bad_format = {77, 64, 48, {px, NULL, NULL}, {64, 0, 0}};
    CHECK_STATUS(run(&bad_format, "format 77"), VEIL_STATUS_INVALID_PIXEL_FORMAT);
    CHECK_STATUS(veil_detector_detect(det, NULL, NULL, 0, NULL, NULL), VEIL_STATUS_NULL_PARAMETER);

    /* valid, degenerate frames: detection runs (any count), nothing crashes */
    const struct {
        uint32_t w, h, fmt;
        size_t stride;
    } ok[] = {
        {1, 1, VEIL_PIXEL_FORMAT_GRAY8, 1},      {1, 4096, VEIL_PIXEL_FORMAT_GRAY8, 1},
        {4096, 1, VEIL_PIXEL_FORMAT_RGB24, 4096 * 3}, {2, 2, VEIL_PIXEL_FORMAT_RGBA, 8},
        {64, 48, VEIL_PIXEL_FORMAT_BGR24, 64 * 3},   {4096, 4, VEIL_PIXEL_FORMAT_GRAY8, 4096},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        veil_frame f = {ok[i].fmt, ok[i].w, ok[i].h, {px, NULL, NULL}, {ok[i].stride, 0, 0}};
        char what[64];
        snprintf(what, sizeof what, "%ux%u format %u", ok[i].w, ok[i].h, ok[i].fmt);
        s = run(&f, what);
        CHECK(s == VEIL_STATUS_OK || s == VEIL_STATUS_INVALID_SIZE);
    }
    /* a flat 2x2 I420 frame: the smallest 4:2:0 frame */
    uint8_t y[4] = {16, 16, 16, 16}, u[1] = {128}, v[1] = {128};
    veil_frame tiny = {VEIL_PIXEL_FORMAT_I420, 2, 2, {y, u, v}, {2, 1, 1}};
    s = run(&tiny, "2x2 I420");
    CHECK(s == VEIL_STATUS_OK || s == VEIL_STATUS_INVALID_SIZE);
    veil_detector_free(det);
    printf("detector hostile frames ok\n");
    return 0;
}
