/* Error paths of the C ABI: NULL parameters, invalid enum values, bad zone files (with the
 * message naming the zone), wrong frame geometry (frame blanked), unusable frames (frame
 * untouched), message buffers, and _free(NULL). */
#include <stdint.h>

#include "veil.h"
#include "check.h"

static const char *ZONES =
    "[camera]\n"
    "id = \"cam-entrance\"\n"
    "purposes = [\"safety\"]\n"
    "responsible = \"Facility management\"\n"
    "[[zones]]\n"
    "kind = \"dwelling-door\"\n"
    "label = \"Front door no. 12\"\n"
    "polygon = [[0.25, 0.25], [0.5, 0.25], [0.5, 0.75], [0.25, 0.75]]\n";

/* Second zone has only two points. */
static const char *BAD_ZONE =
    "[camera]\n"
    "id = \"cam-entrance\"\n"
    "purposes = [\"safety\"]\n"
    "responsible = \"Facility management\"\n"
    "[[zones]]\n"
    "kind = \"dwelling-door\"\n"
    "label = \"Front door no. 12\"\n"
    "polygon = [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]]\n"
    "[[zones]]\n"
    "kind = \"dwelling-window\"\n"
    "label = \"Window 3\"\n"
    "polygon = [[0.5, 0.5], [0.6, 0.6]]\n";

/* A misspelt key must not be silently ignored. */
static const char *MISSPELT_KEY =
    "[camera]\n"
    "id = \"cam-entrance\"\n"
    "purposes = [\"safety\"]\n"
    "responsible = \"Facility management\"\n"
    "[[zones]]\n"
    "kind = \"workplace\"\n"
    "label = \"Reception desk\"\n"
    "polygon = [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]]\n"
    "stlye = \"blur\"\n";

static void message_of(const veil_error *err, char *buf, size_t len) {
    size_t n = 0;
    CHECK_STATUS(veil_error_message(err, buf, len, &n), VEIL_STATUS_OK);
    CHECK(n == strlen(buf));
}

static void test_null_parameters(void) {
    veil_masker *m = NULL;
    veil_error *err = NULL;
    char buf[256];
    size_t n = 0;
    CHECK_STATUS(veil_masker_new(NULL, 64, 48, VEIL_PIXEL_FORMAT_I420, &m), VEIL_STATUS_NULL_PARAMETER);
    CHECK(m == NULL);
    CHECK_STATUS(veil_masker_new(ZONES, 64, 48, VEIL_PIXEL_FORMAT_I420, NULL), VEIL_STATUS_NULL_PARAMETER);
    CHECK_STATUS(veil_masker_new_ex(NULL, NULL, 64, 48, VEIL_PIXEL_FORMAT_I420, &m, &err),
                 VEIL_STATUS_NULL_PARAMETER);
    CHECK(m == NULL && err != NULL);
    CHECK_STATUS(veil_error_status(err), VEIL_STATUS_NULL_PARAMETER);
    message_of(err, buf, sizeof buf);
    CHECK_CONTAINS(buf, "camera_toml is NULL");
    veil_error_free(err);
    err = NULL;

    CHECK_STATUS(veil_masker_apply(NULL, NULL), VEIL_STATUS_NULL_PARAMETER);
    CHECK_STATUS(veil_masker_apply_ex(NULL, NULL, &err), VEIL_STATUS_NULL_PARAMETER);
    CHECK(err != NULL);
    veil_error_free(err);
    err = NULL;
    CHECK_STATUS(veil_masker_new(ZONES, 64, 48, VEIL_PIXEL_FORMAT_I420, &m), VEIL_STATUS_OK);
    CHECK_STATUS(veil_masker_apply(m, NULL), VEIL_STATUS_NULL_PARAMETER);
    CHECK_STATUS(veil_masker_last_error(m, buf, sizeof buf, &n), VEIL_STATUS_OK);
    CHECK_CONTAINS(buf, "frame is NULL");
    CHECK_STATUS(veil_masker_last_error(NULL, buf, sizeof buf, &n), VEIL_STATUS_NULL_PARAMETER);
    CHECK_STATUS(veil_masker_last_error(m, NULL, 16, &n), VEIL_STATUS_NULL_PARAMETER);
    /* length query: NULL buffer with len 0 */
    CHECK_STATUS(veil_masker_last_error(m, NULL, 0, &n), VEIL_STATUS_OK);
    CHECK(n == strlen("frame is NULL"));
    CHECK_STATUS(veil_error_status(NULL), VEIL_STATUS_NULL_PARAMETER);
    CHECK_STATUS(veil_error_message(NULL, buf, sizeof buf, &n), VEIL_STATUS_NULL_PARAMETER);
    veil_masker_free(m);

    /* _free accepts NULL */
    veil_masker_free(NULL);
    veil_error_free(NULL);
    printf("null parameters ok\n");
}

static void test_invalid_format_values(void) {
    veil_masker *m = NULL;
    veil_error *err = NULL;
    char buf[256];
    CHECK_STATUS(veil_masker_new_ex(ZONES, NULL, 64, 48, 99, &m, &err), VEIL_STATUS_INVALID_PIXEL_FORMAT);
    CHECK(m == NULL);
    message_of(err, buf, sizeof buf);
    CHECK_CONTAINS(buf, "99");
    veil_error_free(err);
    err = NULL;

    CHECK_STATUS(veil_masker_new(ZONES, 64, 48, VEIL_PIXEL_FORMAT_GRAY8, &m), VEIL_STATUS_OK);
    uint8_t px[64 * 48];
    memset(px, 77, sizeof px);
    veil_frame f = {0xFFFFFFFFu, 64, 48, {px, NULL, NULL}, {64, 0, 0}};
    CHECK_STATUS(veil_masker_apply(m, &f), VEIL_STATUS_INVALID_PIXEL_FORMAT);
    for (size_t i = 0; i < sizeof px; i++) CHECK(px[i] == 77); /* description unusable: untouched */
    veil_masker_free(m);
    CHECK_CONTAINS(veil_status_str(VEIL_STATUS_INVALID_PIXEL_FORMAT), "pixel format");
    CHECK(strcmp(veil_status_str(12345), "unknown status") == 0);
    CHECK(strcmp(veil_status_str(VEIL_STATUS_OK), "ok") == 0);
    printf("invalid format values ok\n");
}

static void test_bad_zone_files(void) {
    veil_masker *m = NULL;
    veil_error *err = NULL;
    char buf[512];

    CHECK_STATUS(veil_masker_new_ex(BAD_ZONE, "entrance.toml", 64, 48, VEIL_PIXEL_FORMAT_I420, &m, &err),
                 VEIL_STATUS_CONFIG_ZONE);
    CHECK(m == NULL && err != NULL);
    CHECK_STATUS(veil_error_status(err), VEIL_STATUS_CONFIG_ZONE);
    message_of(err, buf, sizeof buf);
    CHECK_CONTAINS(buf, "entrance.toml");
    CHECK_CONTAINS(buf, "zone 1");
    CHECK_CONTAINS(buf, "Window 3");
    printf("  message: %s\n", buf);

    /* snprintf-style truncation: full length reported, buffer NUL-terminated */
    char small[8];
    size_t n = 0;
    CHECK_STATUS(veil_error_message(err, small, sizeof small, &n), VEIL_STATUS_OK);
    CHECK(n == strlen(buf) && n >= sizeof small);
    CHECK(strlen(small) == sizeof small - 1);
    CHECK(strncmp(small, buf, sizeof small - 1) == 0);
    veil_error_free(err);
    err = NULL;

    CHECK_STATUS(veil_masker_new_ex(MISSPELT_KEY, "desk.toml", 64, 48, VEIL_PIXEL_FORMAT_I420, &m, &err),
                 VEIL_STATUS_CONFIG_ZONE);
    message_of(err, buf, sizeof buf);
    CHECK_CONTAINS(buf, "zone 0");
    CHECK_CONTAINS(buf, "stlye");
    veil_error_free(err);
    err = NULL;

    CHECK_STATUS(veil_masker_new_ex("[camera\nid = 1", NULL, 64, 48, VEIL_PIXEL_FORMAT_I420, &m, &err),
                 VEIL_STATUS_CONFIG_PARSE);
    veil_error_free(err);
    err = NULL;

    const char not_utf8[] = {'[', 'c', (char)0xC3, (char)0x28, ']', 0};
    CHECK_STATUS(veil_masker_new(not_utf8, 64, 48, VEIL_PIXEL_FORMAT_I420, &m), VEIL_STATUS_INVALID_UTF8);

    /* 4:2:0 needs even sizes; zero is never valid */
    CHECK_STATUS(veil_masker_new(ZONES, 63, 48, VEIL_PIXEL_FORMAT_I420, &m), VEIL_STATUS_INVALID_SIZE);
    CHECK_STATUS(veil_masker_new(ZONES, 0, 48, VEIL_PIXEL_FORMAT_RGB24, &m), VEIL_STATUS_INVALID_SIZE);
    CHECK(m == NULL);
    printf("bad zone files ok\n");
}

static void test_wrong_geometry_blanks(void) {
    veil_masker *m = NULL;
    CHECK_STATUS(veil_masker_new(ZONES, 64, 48, VEIL_PIXEL_FORMAT_I420, &m), VEIL_STATUS_OK);

    /* A valid 32x24 I420 frame (padded strides), not the masker's 64x48. */
    enum { FW = 32, FH = 24, YS = 40, CS = 20 };
    uint8_t y[YS * FH], u[CS * FH / 2], v[CS * FH / 2];
    memset(y, 200, sizeof y);
    memset(u, 60, sizeof u);
    memset(v, 190, sizeof v);
    veil_frame f = {VEIL_PIXEL_FORMAT_I420, FW, FH, {y, u, v}, {YS, CS, CS}};
    veil_error *err = NULL;
    CHECK_STATUS(veil_masker_apply_ex(m, &f, &err), VEIL_STATUS_GEOMETRY_MISMATCH);
    for (int r = 0; r < FH; r++)
        for (int c = 0; c < YS; c++) CHECK(y[r * YS + c] == (c < FW ? 0 : 200));
    for (int r = 0; r < FH / 2; r++)
        for (int c = 0; c < CS; c++) {
            CHECK(u[r * CS + c] == (c < FW / 2 ? 128 : 60));
            CHECK(v[r * CS + c] == (c < FW / 2 ? 128 : 190));
        }
    char buf[256];
    message_of(err, buf, sizeof buf);
    CHECK_CONTAINS(buf, "masker was built for");
    veil_error_free(err);
    size_t n = 0;
    CHECK_STATUS(veil_masker_last_error(m, buf, sizeof buf, &n), VEIL_STATUS_OK);
    CHECK_CONTAINS(buf, "frame blanked");

    /* Same size, other format: also blanked (RGB24 black is 0,0,0). */
    uint8_t rgb[64 * 3 * 48];
    memset(rgb, 99, sizeof rgb);
    veil_frame g = {VEIL_PIXEL_FORMAT_RGB24, 64, 48, {rgb, NULL, NULL}, {64 * 3, 0, 0}};
    CHECK_STATUS(veil_masker_apply(m, &g), VEIL_STATUS_GEOMETRY_MISMATCH);
    for (size_t i = 0; i < sizeof rgb; i++) CHECK(rgb[i] == 0);
    veil_masker_free(m);
    printf("wrong geometry blanks ok\n");
}

static void test_unusable_frames(void) {
    veil_masker *m = NULL;
    CHECK_STATUS(veil_masker_new(ZONES, 64, 48, VEIL_PIXEL_FORMAT_I420, &m), VEIL_STATUS_OK);
    uint8_t y[64 * 48], u[32 * 24], v[32 * 24];
    memset(y, 200, sizeof y);
    memset(u, 60, sizeof u);
    memset(v, 190, sizeof v);

    /* stride shorter than a row */
    veil_frame f = {VEIL_PIXEL_FORMAT_I420, 64, 48, {y, u, v}, {63, 32, 32}};
    CHECK_STATUS(veil_masker_apply(m, &f), VEIL_STATUS_INVALID_FRAME);
    /* a NULL plane */
    veil_frame g = {VEIL_PIXEL_FORMAT_I420, 64, 48, {y, NULL, v}, {64, 32, 32}};
    CHECK_STATUS(veil_masker_apply(m, &g), VEIL_STATUS_INVALID_FRAME);
    /* U and V the same buffer */
    veil_frame h = {VEIL_PIXEL_FORMAT_I420, 64, 48, {y, u, u}, {64, 32, 32}};
    CHECK_STATUS(veil_masker_apply(m, &h), VEIL_STATUS_INVALID_FRAME);
    char buf[256];
    size_t n = 0;
    CHECK_STATUS(veil_masker_last_error(m, buf, sizeof buf, &n), VEIL_STATUS_OK);
    CHECK_CONTAINS(buf, "overlap");
    for (size_t i = 0; i < sizeof y; i++) CHECK(y[i] == 200);
    for (size_t i = 0; i < sizeof u; i++) CHECK(u[i] == 60 && v[i] == 190);
    veil_masker_free(m);
    printf("unusable frames ok\n");
}

int main(void) {
    test_null_parameters();
    test_invalid_format_values();
    test_bad_zone_files();
    test_wrong_geometry_blanks();
    test_unusable_frames();
    return 0;
}
