/* Per-frame detection through the C ABI on a real picture (the astronaut photo, decoded to
 * raw RGB24 by the Rust harness): one face near the hand-annotated box (the ground truth of
 * crates/veil-detect/tests), the same face in a GRAY8 copy, the person box, the
 * too-small-buffer protocol, NULL parameters and bad arguments.
 * argv: raw RGB24 file, width, height. */
#include <stdint.h>

#include "veil.h"
#include "check.h"

/* crates/veil-detect/tests/detect.rs: face b(178, 62, 268, 178), person b(20, 15, 365, 512)
 * (x0, y0, x1, y1). */
static const float FACE[4] = {178.0f, 62.0f, 268.0f, 178.0f};
static const float PERSON[4] = {20.0f, 15.0f, 365.0f, 512.0f};

static float iou(const veil_detection *d, const float t[4]) {
    float x0 = d->x > t[0] ? d->x : t[0];
    float y0 = d->y > t[1] ? d->y : t[1];
    float x1 = d->x + d->w < t[2] ? d->x + d->w : t[2];
    float y1 = d->y + d->h < t[3] ? d->y + d->h : t[3];
    float inter = (x1 > x0 && y1 > y0) ? (x1 - x0) * (y1 - y0) : 0.0f;
    float uni = d->w * d->h + (t[2] - t[0]) * (t[3] - t[1]) - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}

/* errp, not the error: the call in `got` writes it, and arguments are evaluated unsequenced. */
static void expect_error(veil_status got, veil_status want, veil_error **errp, const char *needle) {
    veil_error *err = *errp;
    CHECK_STATUS(got, want);
    CHECK(err != NULL);
    CHECK_STATUS(veil_error_status(err), want);
    char buf[512];
    CHECK_STATUS(veil_error_message(err, buf, sizeof buf, NULL), VEIL_STATUS_OK);
    CHECK_CONTAINS(buf, needle);
    veil_error_free(err);
}

int main(int argc, char **argv) {
    CHECK(argc == 4);
    uint32_t w = (uint32_t)atoi(argv[2]), h = (uint32_t)atoi(argv[3]);
    size_t n = (size_t)w * h * 3;
    uint8_t *rgb = malloc(n);
    CHECK(rgb != NULL);
    FILE *f = fopen(argv[1], "rb");
    CHECK(f != NULL);
    CHECK(fread(rgb, 1, n, f) == n);
    fclose(f);
    veil_frame frame = {VEIL_PIXEL_FORMAT_RGB24, w, h, {rgb, NULL, NULL}, {(size_t)w * 3, 0, 0}};

    /* Bad arguments: out untouched, a message saying why. */
    veil_detector *det = (veil_detector *)&frame; /* sentinel: must stay untouched */
    veil_error *err = NULL;
    expect_error(veil_detector_new(0, NULL, &det, &err), VEIL_STATUS_INVALID_ARGUMENT, &err, "kind 0");
    CHECK(det == (veil_detector *)&frame);
    err = NULL;
    expect_error(veil_detector_new(4, NULL, &det, &err), VEIL_STATUS_INVALID_ARGUMENT, &err, "kind 4");
    err = NULL;
    expect_error(veil_detector_new(VEIL_DETECTOR_FACES, NULL, NULL, &err), VEIL_STATUS_NULL_PARAMETER, &err,
                 "out is NULL");
    err = NULL;
    expect_error(veil_detector_new(VEIL_DETECTOR_FACES, "/nonexistent/models", &det, &err),
                 VEIL_STATUS_DETECT_MODEL, &err, "/nonexistent/models");
    CHECK(det == (veil_detector *)&frame);

    /* Faces. */
    det = NULL;
    CHECK_STATUS(veil_detector_new(VEIL_DETECTOR_FACES, NULL, &det, NULL), VEIL_STATUS_OK);
    CHECK(det != NULL);
    veil_detection boxes[8];
    size_t count = 0;
    CHECK_STATUS(veil_detector_detect(det, &frame, boxes, 8, &count, NULL), VEIL_STATUS_OK);
    CHECK(count == 1);
    CHECK(boxes[0].class_id == VEIL_CLASS_FACE);
    CHECK(boxes[0].score > 0.2f && boxes[0].score <= 1.0f);
    printf("face: score %.3f box %.1f %.1f %.1f %.1f IoU %.3f\n", boxes[0].score, boxes[0].x, boxes[0].y,
           boxes[0].w, boxes[0].h, iou(&boxes[0], FACE));
    CHECK(iou(&boxes[0], FACE) >= 0.5f);
    veil_detection first = boxes[0];

    /* Too small: the count needed, nothing written. */
    veil_detection none[1];
    memset(none, 0xAB, sizeof none);
    count = 0;
    err = NULL;
    CHECK_STATUS(veil_detector_detect(det, &frame, none, 0, &count, &err), VEIL_STATUS_BUFFER_TOO_SMALL);
    CHECK(count == 1);
    for (size_t i = 0; i < sizeof none; i++) CHECK(((const uint8_t *)none)[i] == 0xAB);
    CHECK(err != NULL);
    veil_error_free(err);
    count = 0;
    CHECK_STATUS(veil_detector_detect(det, &frame, NULL, 0, &count, NULL), VEIL_STATUS_BUFFER_TOO_SMALL);
    CHECK(count == 1);
    /* Retry with the size asked for. */
    CHECK_STATUS(veil_detector_detect(det, &frame, none, count, &count, NULL), VEIL_STATUS_OK);
    CHECK(count == 1 && iou(&none[0], FACE) >= 0.5f);

    /* The same face in a GRAY8 copy with padded rows (the luma of the picture). */
    size_t gstride = w + 16;
    uint8_t *gray = calloc(gstride * h, 1);
    CHECK(gray != NULL);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            const uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            gray[y * gstride + x] = (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2]) >> 8);
        }
    veil_frame gframe = {VEIL_PIXEL_FORMAT_GRAY8, w, h, {gray, NULL, NULL}, {gstride, 0, 0}};
    CHECK_STATUS(veil_detector_detect(det, &gframe, boxes, 8, &count, NULL), VEIL_STATUS_OK);
    CHECK(count == 1 && iou(&boxes[0], FACE) >= 0.5f);
    free(gray);

    /* NULLs and unusable frames: outputs untouched. */
    count = 99;
    boxes[0] = first;
    CHECK_STATUS(veil_detector_detect(NULL, &frame, boxes, 8, &count, NULL), VEIL_STATUS_NULL_PARAMETER);
    CHECK_STATUS(veil_detector_detect(det, NULL, boxes, 8, &count, NULL), VEIL_STATUS_NULL_PARAMETER);
    CHECK_STATUS(veil_detector_detect(det, &frame, boxes, 8, NULL, NULL), VEIL_STATUS_NULL_PARAMETER);
    CHECK_STATUS(veil_detector_detect(det, &frame, NULL, 8, &count, NULL), VEIL_STATUS_NULL_PARAMETER);
    veil_frame bad = frame;
    bad.format = 99;
    err = NULL;
    expect_error(veil_detector_detect(det, &bad, boxes, 8, &count, &err), VEIL_STATUS_INVALID_PIXEL_FORMAT,
                 &err, "99");
    bad = frame;
    bad.stride[0] = 3; /* shorter than a row */
    CHECK_STATUS(veil_detector_detect(det, &bad, boxes, 8, &count, NULL), VEIL_STATUS_INVALID_FRAME);
    bad = frame;
    bad.data[0] = NULL;
    CHECK_STATUS(veil_detector_detect(det, &bad, boxes, 8, &count, NULL), VEIL_STATUS_INVALID_FRAME);
    CHECK(count == 99);
    CHECK(memcmp(&boxes[0], &first, sizeof first) == 0);
    veil_detector_free(det);

    /* Faces and persons together: the face first, then the person. */
    det = NULL;
    CHECK_STATUS(veil_detector_new(VEIL_DETECTOR_FACES | VEIL_DETECTOR_PERSONS, NULL, &det, NULL),
                 VEIL_STATUS_OK);
    CHECK_STATUS(veil_detector_detect(det, &frame, boxes, 8, &count, NULL), VEIL_STATUS_OK);
    CHECK(count == 2);
    CHECK(boxes[0].class_id == VEIL_CLASS_FACE && iou(&boxes[0], FACE) >= 0.5f);
    CHECK(boxes[1].class_id == VEIL_CLASS_PERSON);
    printf("person: score %.3f box %.1f %.1f %.1f %.1f IoU %.3f\n", boxes[1].score, boxes[1].x, boxes[1].y,
           boxes[1].w, boxes[1].h, iou(&boxes[1], PERSON));
    CHECK(iou(&boxes[1], PERSON) >= 0.5f);
    veil_detector_free(det);

    veil_detector_free(NULL);
    free(rgb);
    printf("detect: ok\n");
    return 0;
}
